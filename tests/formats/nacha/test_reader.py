"""Reader behaviour: tolerances become warnings, record order is enforced, streaming."""

from __future__ import annotations

import io

import pytest

from formats.nacha import AchReader, ValidationPolicy, parse, read, validate
from tests.formats.nacha.builders import sample_file

DATA = sample_file(0)
BASE = validate(io.BytesIO(DATA))


def _variant(name: str) -> bytes:
    lines = DATA.split(b"\n")[:-1]
    if name == "crlf":
        return b"\r\n".join(lines) + b"\r\n"
    if name == "cr":
        return b"\r".join(lines)
    if name == "no_line_breaks":
        return b"".join(lines)
    if name == "bom":
        return b"\xef\xbb\xbf" + DATA
    if name == "short_line":
        return b"\n".join(line.rstrip(b" ") for line in lines) + b"\n"
    if name == "long_line":
        return b"\n".join(line + b"   " for line in lines) + b"\n"
    if name == "blank_line":
        return b"\n\n".join(lines) + b"\n\n"
    if name == "missing_block_fill":
        return b"\n".join(line for line in lines if line != b"9" * 94) + b"\n"
    raise AssertionError(name)


@pytest.mark.parametrize("tolerance", ["crlf", "cr", "no_line_breaks", "bom", "short_line", "long_line",
                                       "blank_line", "missing_block_fill"])
def test_tolerances_are_warnings(tolerance: str) -> None:
    assert BASE.ok and not BASE.warnings
    report = validate(io.BytesIO(_variant(tolerance)))
    assert report.ok, [str(e) for e in report.errors]
    assert tolerance in {w.code for w in report.warnings}
    assert report.summary == BASE.summary
    assert parse(_variant(tolerance)) == parse(DATA)


def _lines() -> list[bytes]:
    return DATA.split(b"\n")[:-1]


@pytest.mark.parametrize(("edit", "code"), [
    (lambda ls: ls[1:], "missing_file_header"),
    (lambda ls: [ls[0], ls[2], *ls[1:2], *ls[3:]], "entry_outside_batch"),
    (lambda ls: [line for line in ls if not line.startswith(b"9")], "missing_file_control"),
    (lambda ls: [*ls, ls[2]], "after_file_control"),
    (lambda ls: [ls[0], *ls], "misplaced_file_header"),
    (lambda ls: [line for line in ls if not line.startswith(b"8")][:], "missing_batch_control"),
])
def test_record_order(edit, code: str) -> None:
    data = b"\n".join(edit(_lines())) + b"\n"
    assert code in {e.code for e in validate(io.BytesIO(data)).errors}


def test_controls_are_checked() -> None:
    lines = _lines()
    i = next(k for k, line in enumerate(lines) if line.startswith(b"6"))
    lines[i] = lines[i][:29] + b"%010d" % (int(lines[i][29:39]) + 1) + lines[i][39:]
    errors = validate(io.BytesIO(b"\n".join(lines))).errors
    fields = {(e.record, e.field) for e in errors if e.code == "control_mismatch"}
    assert ("BatchControl", "total_debit_amount") in fields or ("BatchControl", "total_credit_amount") in fields
    assert any(r == "FileControl" for r, _ in fields)
    e = next(e for e in errors if e.record == "BatchControl")
    assert e.line is not None and e.columns is not None and e.expected is not None


def test_missing_file_records_policy() -> None:
    lines = [line for line in _lines() if line[:1] not in (b"1", b"9")]
    data = b"\n".join(lines)
    assert not validate(io.BytesIO(data)).ok
    relaxed = ValidationPolicy.from_mapping({"allow_missing_file_header": True,
                                             "allow_missing_file_control": True})
    assert validate(io.BytesIO(data), relaxed).ok


def test_unsupported_sec_is_a_clear_error() -> None:
    lines = _lines()
    lines[1] = lines[1][:50] + b"IAT" + lines[1][53:]
    errors = validate(io.BytesIO(b"\n".join(lines))).errors
    assert errors[0].code == "unsupported_sec" and "IAT not supported" in errors[0].reason


def test_streaming_entries_and_counts() -> None:
    reader = AchReader(io.BytesIO(DATA))
    pairs = list(reader.entries())
    assert len(pairs) == BASE.summary.entries and reader.ok
    assert {h.standard_entry_class for h, _ in pairs} == {"PPD", "CCD", "WEB", "TEL", "CTX"}
    assert all(e.line for _, e in pairs)


def test_returns_streamed_with_line_numbers() -> None:
    ret = (b"101 091400606 6910001341810170306A094101FIRST BANK & TRUST     ASF APPLICATION SUPERVI        \n"
           b"5200CoinLion                            123456789 WEBTRANSFER        000101   1091000010000001\n"
           b"626091400606123456789        0000012354MjMxNDAwMjAtOGQPaul Jones            S 1091000017611242\n"
           b"799R1409140060000000124010109100001Deceased per SSA" + b" " * 28 + b"091000017611242\n"
           b"82000000020009140060000000012354000000000000 123456789                         091000010000001\n"
           b"9000001000001000000020009140060000000012354000000000000" + b" " * 39 + b"\n")
    reader = AchReader(io.BytesIO(ret))
    ((_, entry),) = list(reader.entries())
    r = entry.return_result
    assert reader.ok, [str(e) for e in reader.errors]
    assert r is not None and r.code == "R14" and r.date_of_death is not None
    assert r.date_of_death.isoformat() == "2024-01-01" and "deceased" in r.description
    assert entry.line == 3 and entry.amount == 12354 and entry.is_debit


def test_read_collects_all_errors_with_context() -> None:
    lines = _lines()
    for i, line in enumerate(lines):
        if line.startswith(b"6"):
            lines[i] = line[:12] + b"12\x01" + line[15:]
    _ach, issues = read(io.BytesIO(b"\n".join(lines)))
    errs = [i for i in issues if i.field == "dfi_account_number"]
    assert len(errs) == BASE.summary.entries
    assert all(e.columns == (13, 29) and e.value and "12\x01" not in e.value for e in errs)
