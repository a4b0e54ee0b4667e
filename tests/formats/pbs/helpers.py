"""Shared helpers for the PBS format tests."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path
from typing import Any

from formats.errors import FormatError, Issue
from formats.pbs import d0601
from formats.pbs.delivery import Delivery, read_delivery
from formats.pbs.fields import STRICT, Policy
from tests.corpus import PBS as CORPUS  # noqa: F401  (re-exported for the tests)


def read(data: bytes, policy: Policy = STRICT) -> Delivery:
    return read_delivery(io.BytesIO(data), policy=policy)


def errors_of(data: bytes, policy: Policy = STRICT) -> list[Issue]:
    try:
        read(data, policy)
    except FormatError as exc:
        assert exc.issues, "a FormatError must carry its issues"
        return exc.issues
    raise AssertionError("expected a FormatError")


def lines_of(data: bytes) -> list[str]:
    return data.decode("cp1252").splitlines()


def join(lines: list[str]) -> bytes:
    return "".join(line + "\r\n" for line in lines).encode("cp1252")


def pbs_validate(data: bytes) -> dict[str, Any]:
    """``spoolgate pbs validate --json`` on ``data``: the report (exit code checked against ``ok``)."""
    from daemon.cli import EXIT_FAILURE, EXIT_OK, main

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "D0601.BS1"
        path.write_bytes(data)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["pbs", "validate", "--json", str(path)])
    report: dict[str, Any] = json.loads(out.getvalue())
    assert code == (EXIT_OK if report["ok"] else EXIT_FAILURE)
    return report


def write_0601(d: d0601.Delivery0601, **kw: Any) -> bytes:
    """The 0601 writer, with every delivery it writes checked by ``spoolgate pbs validate``."""
    data = d0601.write_0601(d, **kw)
    report = pbs_validate(data)
    assert report["ok"] and report["kind"] == "0601", report["errors"]
    assert report["counts"]["collections"] == sum(len(s.collections) for s in d.sections)
    return data
