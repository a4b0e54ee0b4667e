"""Deliveries without line breaks: split into 128-character records, counted as a tolerance."""

from __future__ import annotations

import pytest

from formats.errors import Severity
from formats.pbs import FileKind, classify
from formats.pbs.writer import automatic_payment, build_0602, build_0603, mandate_event
from tests.formats.pbs.helpers import errors_of, lines_of, read


def unbroken(data: bytes, tail: bytes = b"") -> bytes:
    return b"".join(line.ljust(128).encode("cp1252") for line in lines_of(data)) + tail


@pytest.mark.parametrize("tail", [b"", b"\r\n"], ids=["no-newline", "final-crlf"])
@pytest.mark.parametrize("envelope", [False, True])
def test_many_records_without_line_breaks_read_as_with_them(envelope: bool, tail: bytes) -> None:
    data = build_0602([automatic_payment(f"{n:04d}", f"INV{n}", 100 + n) for n in range(1, 101)],
                      envelope=envelope)
    flat = unbroken(data, tail)
    assert b"\n" not in flat.rstrip(b"\r\n") and len(flat) > 3 * 4096
    expected = read(data)
    got = read(flat)
    assert [(p.customer_number, p.received_amount) for p in got.payments] == [
        (p.customer_number, p.received_amount) for p in expected.payments]
    assert [(w.code, w.severity) for w in got.warnings] == [("no_line_breaks", Severity.WARNING)]
    assert f"{len(lines_of(data))} records split every 128 characters" in got.warnings[0].reason
    assert classify(flat[:4096]) is FileKind.DELIVERY_0602


def test_0603_without_line_breaks() -> None:
    data = build_0603([mandate_event("C1", "1"), mandate_event("C2", "2", code="0233")])
    d = read(unbroken(data))
    assert [e.customer_number for e in d.mandate_events] == ["C1", "C2"]
    assert classify(unbroken(data)) is FileKind.DELIVERY_0603


def test_a_bad_record_inside_is_reported_by_its_record_number() -> None:
    lines = lines_of(build_0602([automatic_payment("1001", "INV1", 500), automatic_payment("1002", "INV2", 600)]))
    lines[3] = lines[3][:115] + "00000000X0600"  # a letter in the amount of the second payment
    flat = b"".join(line.ljust(128).encode("cp1252") for line in lines)
    issue = errors_of(flat)[0]
    assert (issue.line, issue.record, issue.field, issue.columns) == (4, "BS042/0211", "paid_amount", (116, 128))


def test_one_long_line_that_is_not_records_stays_an_error() -> None:
    data = b"BS002" + b"9" * 300 + b"\r\n"
    assert errors_of(data)[0].code == "wrong_length"
