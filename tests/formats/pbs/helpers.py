"""Shared helpers for the PBS format tests."""

from __future__ import annotations

import io
from pathlib import Path

from formats.errors import FormatError, Issue
from formats.pbs.delivery import Delivery, read_delivery
from formats.pbs.fields import STRICT, Policy

#: the Nets guide examples (copied from the shared corpus; tests never read outside the repository)
CORPUS = Path(__file__).resolve().parent / "data"


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
