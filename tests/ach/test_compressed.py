"""A gzip-compressed return file is named as such by the handler and by ``ach validate``."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from daemon.cli import EXIT_FAILURE, main
from tests.ach.builders import Ret, build
from tests.ach.conftest import Env
from tests.ach.test_returns import submitted


def test_gzip_return_file_goes_to_error_with_a_clear_reason(env: Env) -> None:
    o = submitted(env)
    before = {p.payment_id: p.status for p in env.payments().values()}
    data = gzip.compress(build(o, [Ret(o.trace_of("100001", prenote=False), "R01")]))
    out = env.drop("returns.ach.gz", data)
    assert out.state == "error"
    report = json.loads((env.spool / "ach/error/returns.ach.gz.error.json").read_text())
    assert report["reason"].startswith("gzip-compressed: decompress first"), report["reason"]
    assert report["issues"][0]["code"] == "compressed" and report["line"] == 1
    assert "longer than 94" not in json.dumps(report)
    assert (env.spool / "ach/error/returns.ach.gz").read_bytes() == data
    assert {p.payment_id: p.status for p in env.payments().values()} == before


def test_ach_validate_names_gzip(tmp_path: Path, env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    o = submitted(env)
    f = tmp_path / "r.ach"
    f.write_bytes(gzip.compress(build(o, [Ret(o.trace_of("100001", prenote=False), "R01")])))
    assert main(["ach", "validate", str(f), "--json"]) == EXIT_FAILURE
    out = json.loads(capsys.readouterr().out)
    assert [e["reason"] for e in out["errors"]] == ["gzip-compressed: decompress first"]


def _dishonored_blank_date(o) -> bytes:
    """A return file whose addenda is a dishonored return (R68) with a blank return settlement date."""
    data = build(o, [Ret(o.trace_of("100001", prenote=False), "R01")])
    lines = data.split(b"\n")
    i = next(n for n, line in enumerate(lines) if line.startswith(b"799"))
    old = lines[i]
    lines[i] = b"799R68" + old[6:21] + b" " * 6 + old[27:35] + b" " * 3 + b"091000010000009" + b"   " + b"01" \
        + b" " * 21 + old[79:94]
    assert len(lines[i]) == 94
    return b"\n".join(lines)


@pytest.mark.parametrize(("policy", "state"), [("bank-returns", "done"), ("strict", "error")])
def test_dishonored_return_with_a_blank_date(tmp_path: Path, db_url: str, policy: str, state: str) -> None:
    from tests.ach.conftest import make_env

    env = make_env(tmp_path, db_url, ach={"returns_policy": policy})
    try:
        o = submitted(env)
        out = env.drop("dishonored.ach", _dishonored_blank_date(o))
        assert out.state == state, out.reason
        if state == "error":
            report = json.loads((env.spool / "ach/error/dishonored.ach.error.json").read_text())
            assert report["issues"][0]["code"] == "blank_date" and report["field"] == "return_settlement_date"
        else:
            from sqlalchemy import select

            from store.models.core import SpoolFile

            summary = env.scalar(select(SpoolFile.summary).where(SpoolFile.original_name == "dishonored.ach"))
            assert "blank_date" in json.dumps(summary)
    finally:
        env.db.dispose()


def test_a_gunzip_route_option_reads_the_compressed_file(tmp_path: Path, db_url: str) -> None:
    from tests.ach.conftest import make_env
    from tests.ach.support import ach_config

    channels = ach_config(tmp_path, db_url)["channels"]
    channels["ach"]["routes"] = [{"pattern": "*", "handler": "ach.returns", "options": {"gunzip": True}}]
    env = make_env(tmp_path, db_url, channels=channels)
    try:
        o = submitted(env)
        alice = o.trace_of("100001", prenote=False)
        out = env.drop("returns.ach.gz", gzip.compress(build(o, [Ret(alice, "R01")])))
        assert out.state == "done", out.reason
        assert out.counts["returns"] == 1
        assert any(p.txn_err_msg == "R01" for p in env.payments().values())
        broken = gzip.compress(build(o, [Ret(o.trace_of("200002", prenote=False), "R02")]))[:-40]
        out = env.drop("broken.ach.gz", broken)
        assert out.state == "error"
        report = json.loads((env.spool / "ach/error/broken.ach.gz.error.json").read_text())
        assert "gzip data is corrupt" in report["reason"]
    finally:
        env.db.dispose()
