"""Writer: traces from the caller's counter, controls, blocking, header rules, streaming."""

from __future__ import annotations

import dataclasses
import io
import itertools
import tempfile
from collections.abc import Iterator

import pytest

from formats.errors import FormatError
from formats.nacha import AchWriter, Payment, parse, validate, write
from formats.nacha.writer import immediate_destination, immediate_origin
from tests.formats.nacha.builders import SPEC, batch


def test_one_batch_per_company_and_effective_date_and_traces_from_counter() -> None:
    issued: list[int] = []

    def counter() -> int:
        issued.append(len(issued) + 500)
        return issued[-1]

    items = [(batch("PPD", "ACME", 2), Payment(27, "091000019", "1", 100, "A")),
             (batch("PPD", "OTHER", 2), Payment(27, "091000019", "2", 200, "B")),
             (batch("PPD", "ACME", 3), Payment(22, "091000019", "3", 300, "C")),
             (batch("PPD", "ACME", 2), Payment(27, "091000019", "4", 400, "D"))]
    ach = parse(write(SPEC, items, next_sequence=counter))
    assert [(b.header.company_name, b.header.effective_entry_date, len(b.entries)) for b in ach.batches] == [
        ("ACME", "240502", 2), ("OTHER", "240502", 1), ("ACME", "240503", 1)]
    traces = [e.detail.trace_number for b in ach.batches for e in b.entries]
    assert traces == [f"09100001{n:07d}" for n in issued]
    assert [b.header.service_class_code for b in ach.batches] == [225, 225, 220]
    assert ach.control is not None and ach.control.total_debit_amount == 700
    assert ach.control.entry_hash == 4 * 9100001


def test_prenotes_zero_amount_and_codes() -> None:
    items = [(batch("PPD"), Payment.prenote(c, "091000019", "12", "X")) for c in (22, 27, 32, 37)]
    ach = parse(write(SPEC, items, next_sequence=itertools.count(1)))
    assert [e.detail.transaction_code for _, e in ach.entries()] == [23, 28, 33, 38]
    assert all(e.amount == 0 and e.is_prenote for _, e in ach.entries())
    with pytest.raises(FormatError):
        write(SPEC, [(batch("PPD"), Payment(23, "091000019", "12", 5, "X"))], next_sequence=itertools.count(1))


def test_blocking_factor_and_file_id_modifier() -> None:
    data = write(dataclasses.replace(SPEC, file_id_modifier="7"),
                 [(batch("CCD"), Payment(22, "091000019", "12", 1, "X"))], next_sequence=iter([1]))
    lines = data.split(b"\n")[:-1]
    assert len(lines) == 10 and lines[-5:] == [b"9" * 94] * 5
    assert lines[0][33:34] == b"7" and all(len(line) == 94 for line in lines)


def test_immediate_destination_and_origin_rules() -> None:
    assert immediate_destination("091000019") == " 091000019"
    assert immediate_destination(" 091000019") == " 091000019"
    with pytest.raises(FormatError):
        immediate_destination("091000018")
    assert immediate_origin("091000019") == " 091000019"
    assert immediate_origin("1234567890") == "1234567890"
    assert immediate_origin("ABC123") == "ABC123    "
    with pytest.raises(FormatError):
        immediate_origin("12345678901")


@pytest.mark.parametrize(("sec", "payment"), [
    ("TEL", Payment(22, "091000019", "1", 1, "X")),
    ("TEL", Payment(27, "091000019", "1", 1, "X", addenda=("A",))),
    ("WEB", Payment(27, "091000019", "1", 1, "   ")),
    ("PPD", Payment(27, "091000018", "1", 1, "X")),
    ("PPD", Payment(27, "091000019", "1", 10**10, "X")),
    ("PPD", Payment(27, "091000019", " ", 1, "X")),
    ("PPD", Payment(27, "091000019", "1", 1, "X", addenda=("A", "B"))),
])
def test_bad_payments_are_refused(sec: str, payment: Payment) -> None:
    with pytest.raises(FormatError):
        write(SPEC, [(batch(sec), payment)], next_sequence=itertools.count(1))


def test_streams_100k_payments_to_a_binary_file() -> None:
    with tempfile.TemporaryFile() as out:
        with AchWriter(out, SPEC, next_sequence=itertools.count(1)) as w:
            traces = w.write_batch(batch("PPD"), (Payment(27, "091000019", str(i), i % 1000 + 1, "N")
                                                  for i in range(100_000)))
        assert len(traces) == 100_000 and traces[-1] == "091000010100000"
        out.seek(0)
        report = validate(out)
    assert report.ok and report.summary.entries == 100_000


def test_crlf_output_round_trips() -> None:
    items = [(batch("WEB"), Payment(27, "091000019", "1", 10, "X", discretionary_data="R "))]
    data = write(SPEC, items, next_sequence=itertools.count(1), line_ending=b"\r\n")
    assert parse(data) == parse(data.replace(b"\r\n", b"\n"))
    assert {w.code for w in validate(io.BytesIO(data)).warnings} == {"crlf"}


def test_a_lazy_caller_sees_each_entrys_trace_before_the_next_entry_is_asked_for() -> None:
    """``write_batch(traces=)`` fills the caller's list as it writes: check-submit hands the rows of
    the entries already written to the database while the writer goes on."""
    traces: list[str] = []
    seen: list[int] = []

    def payments() -> Iterator[Payment]:
        for i in range(5):
            seen.append(len(traces))  # when entry i is asked for, entries 0..i-1 have their traces
            yield Payment(27, "091000019", str(i), 100 + i, "N")

    out = io.BytesIO()
    with AchWriter(out, SPEC, next_sequence=itertools.count(7)) as w:
        returned = w.write_batch(batch("PPD"), payments(), traces=traces)
    assert returned is traces and seen == [0, 1, 2, 3, 4]
    assert traces == [f"09100001{n:07d}" for n in range(7, 12)]
    assert [e.detail.trace_number for _, e in parse(out.getvalue()).entries()] == traces
