"""0602/0603 reading: structure, controls, amounts, and the error reports."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formats.errors import FormatError, Severity
from formats.pbs import DeliveryReader, MandateEventKind, Payment
from formats.pbs.records.bs002 import DeliveryStart
from formats.pbs.writer import (
    automatic_payment,
    build_0602,
    build_0603,
    mandate_event,
    slip_payment,
    write_delivery,
)
from tests.formats.pbs.helpers import errors_of, join, lines_of, read


def sample_0602(**kw):
    return build_0602([
        automatic_payment("1001", "INV1001", 15000),
        automatic_payment("1002", "INV1002", 2500, code="0239"),
        automatic_payment("1003", "INV1003", 9900, code="0237"),
        slip_payment("1004", "INV1004", 5000, "ARCH0000000000000001"),
    ], **kw)


def test_0602_written_and_read():
    d = read(sample_0602(delivery_number="0000004711"))
    assert d.delivery_type == "0602" and d.delivery_number == "0000004711"
    assert d.data_supplier == "12345678"
    assert [(p.payment_reference, p.received_amount) for p in d.payments] == [
        ("INV1001", 15000), ("INV1002", -2500), ("INV1003", 0), ("INV1004", 5000)]
    assert d.warnings == []


def test_sign_code_2_is_a_payout():
    p = automatic_payment("1", "R", 700)
    d = read(build_0602([p.__class__(**{**{f: getattr(p, f) for f in p.__slots__}, "sign_code": 2})]))
    assert next(d.payments).received_amount == -700


def test_envelope_lines_are_accepted_and_counted():
    data = sample_0602(envelope=True)
    lines = lines_of(data)
    assert lines[0].startswith("PBCNET30") and lines[-1].startswith("PBCNET90")
    d = read(data)
    assert d.envelope[0] is not None and d.envelope[1] is not None
    assert d.envelope[1].count == len(lines) - 2
    lines[-1] = lines[-1][:-6] + "000001"
    warnings = read(join(lines)).warnings
    assert [(w.code, w.severity) for w in warnings] == [("envelope_count", Severity.WARNING)]


def test_short_lines_are_padded_and_long_lines_rejected():
    lines = lines_of(sample_0602())
    assert max(len(x) for x in lines) == 128 and min(len(x) for x in lines) < 128
    lines[3] = lines[3] + "   X"
    issue = errors_of(join(lines))[0]
    assert (issue.code, issue.line, issue.record, issue.field, issue.columns) == (
        "wrong_length", 4, "BS042", "record_length", (129, 132))


def test_trailing_blanks_and_lf_only_are_fine():
    lines = lines_of(sample_0602())
    data = "".join(x.ljust(128) + "\n" for x in lines).encode()
    assert len(list(read(data).payments)) == 4


def test_truncated_file():
    lines = lines_of(sample_0602())
    issues = errors_of(join(lines[:5]))
    assert [(i.code, i.record, i.field, i.columns) for i in issues] == [
        ("truncated", "BS992", "record_type", (3, 5))]


def test_truncated_record_points_at_the_missing_fields():
    lines = lines_of(sample_0602())
    lines[2] = lines[2][:100]
    issues = errors_of(join(lines))
    assert [(i.line, i.record, i.field, i.columns) for i in issues] == [
        (3, "BS042/0211", "payment_date", (104, 109)),
        (3, "BS042/0211", "booking_date", (110, 115)),
        (3, "BS042/0211", "paid_amount", (116, 128)),
    ]
    assert all(i.code in ("invalid_date", "non_numeric") for i in issues)


def test_wrong_count_in_section_end():
    lines = lines_of(sample_0602())
    end = next(i for i, x in enumerate(lines) if x.startswith("BS092"))
    lines[end] = lines[end][:31] + "00000000009" + lines[end][42:]
    issue = errors_of(join(lines))[0]
    assert (issue.code, issue.record, issue.field, issue.columns, issue.expected, issue.found) == (
        "control_count", "BS092", "count_042", (32, 42), "3", "9")


def test_wrong_count_in_delivery_end():
    lines = lines_of(sample_0602())
    lines[-1] = lines[-1][:20] + "00000000007" + lines[-1][31:]
    issue = errors_of(join(lines))[0]
    assert (issue.code, issue.record, issue.field, issue.columns) == (
        "control_count", "BS992", "count_sections", (21, 31))


def test_section_amount_mismatch_only_warns():
    lines = lines_of(sample_0602())
    end = next(i for i, x in enumerate(lines) if x.startswith("BS092"))
    lines[end] = lines[end][:42] + "000000000000001" + lines[end][57:]
    d = read(join(lines))
    assert {(w.code, w.record) for w in d.warnings} == {("control_amount", "BS092"),
                                                          ("control_amount", "BS992")}


def test_wrong_delivery_type():
    data = build_0603([mandate_event("1", "2")]).replace(b"BS106030", b"BS106010")
    issue = errors_of(data)[0]
    assert (issue.code, issue.record, issue.field, issue.columns, issue.found) == (
        "wrong_delivery_type", "BS002", "delivery_type", (17, 20), "0601")


def test_accept_restricts_the_delivery_type():
    reader = DeliveryReader(io.BytesIO(build_0603([mandate_event("1", "2")])), accept=("0602",))
    with pytest.raises(FormatError) as info:
        list(reader)
    assert info.value.issues[0].code == "wrong_delivery_type"


def test_wrong_transaction_code_for_section():
    lines = lines_of(sample_0602())
    lines[2] = lines[2][:13] + "0297" + lines[2][17:]
    issue = errors_of(join(lines))[0]
    assert (issue.code, issue.line, issue.record, issue.field, issue.columns) == (
        "wrong_transaction_code", 3, "BS042", "transaction_code", (14, 17))


def test_unknown_record_type_and_non_bs_line():
    lines = lines_of(sample_0602())
    lines.insert(3, "BS072" + lines[3][5:])
    lines.insert(4, "XX" + lines[3][2:])
    issues = errors_of(join(lines))
    assert [(i.code, i.line, i.field, i.columns) for i in issues[:2]] == [
        ("unknown_record", 4, "record_type", (3, 5)), ("unknown_record", 5, "system", (1, 2))]


def test_non_digit_amount_is_an_error_never_zero():
    lines = lines_of(sample_0602())
    lines[2] = lines[2][:115] + "00000000150O0"
    issue = errors_of(join(lines))[0]
    assert (issue.code, issue.field, issue.columns, issue.value) == (
        "non_numeric", "paid_amount", (116, 128), "00000000150O0")


def test_impossible_date():
    lines = lines_of(sample_0602())
    lines[2] = lines[2][:49] + "310224" + lines[2][55:]
    issue = errors_of(join(lines))[0]
    assert (issue.code, issue.field, issue.columns) == ("invalid_date", "due_date", (50, 55))


def test_pbs_number_must_match_section():
    lines = lines_of(sample_0602())
    lines[2] = lines[2][:5] + "99999999" + lines[2][13:]
    issue = errors_of(join(lines))[0]
    assert (issue.code, issue.field, issue.columns) == ("pbs_number_mismatch", "pbs_number", (6, 13))


def test_records_after_delivery_end():
    lines = lines_of(sample_0602())
    issue = errors_of(join([*lines, lines[2]]))[0]
    assert (issue.code, issue.record) == ("record_after_end", "BS042")


def test_a_receipt_is_not_a_delivery():
    issue = errors_of(b"PBCNET40BS1D0000000000001234100105123456+PN00DATA ACCEPTERET\r\n")[0]
    assert (issue.code, issue.field, issue.columns) == ("wrong_file_type", "code", (7, 8))


def test_empty_file():
    assert errors_of(b"")[0].code == "empty"


def test_runaway_line_is_not_read_whole():
    data = b"BS002" + b"9" * 100_000 + b"\n"
    issue = errors_of(data)[0]
    assert (issue.code, issue.columns) == ("wrong_length", (129, 100_006))


def test_slip_extras_are_attached_by_archive_reference():
    base = read(build_0602([slip_payment("", "INV9", 100, "ARCH9", card_type="73")]))
    p = next(base.payments)
    full = p.__class__(**{**{f: getattr(p, f) for f in p.__slots__},
                          "address_lines": ("Jens Æbelø", "Vej 1"), "text_lines": ("tak",)})
    data = build_0602([full])
    assert "Jens Æbelø" in data.decode("cp1252")
    d = read(data)
    got = next(d.payments)
    assert got.address_lines == ("Jens Æbelø", "Vej 1") and got.text_lines == ("tak",)
    assert (d.end.count_022, d.end.count_052) == (2, 1)


def test_0603_sections_and_kinds():
    data = build_0603([
        mandate_event("A1", "1", code="0230"), mandate_event("B2", "2", code="0231"),
        mandate_event("C3", "3", code="0232", end_date=dt.date(2024, 3, 1)),
        mandate_event("D4", "4", code="0233"), mandate_event("E5", "5", code="0234"),
    ])
    d = read(data)
    assert [s.code for s in d.sections] == ["0210", "0212"]
    assert [e.kind for e in d.mandate_events] == list(MandateEventKind)
    assert lines_of(data)[1][17:20] == "   "


def test_reader_streams_events_in_order():
    reader = DeliveryReader(io.BytesIO(sample_0602()))
    names = [type(e).__name__ for e in reader]
    assert names == ["DeliveryStart", "SectionStart", "Payment", "Payment", "Payment", "SectionEnd",
                     "SectionStart", "Payment", "SectionEnd", "DeliveryEnd"]
    assert reader.warnings == []


customers = st.from_regex(r"[1-9A-Z][0-9A-Z]{0,14}", fullmatch=True)
references = st.from_regex(r"[0-9A-Z][0-9A-Z\-]{0,8}", fullmatch=True)
dates = st.dates(dt.date(1990, 1, 1), dt.date(2060, 12, 31))
amounts = st.integers(0, 10**13 - 1)


@st.composite
def payments(draw):
    code = draw(st.sampled_from(["0236", "0237", "0238", "0239", "0297", "0299"]))
    if code in ("0297", "0299"):
        return slip_payment(draw(customers), draw(references), draw(amounts),
                            draw(st.from_regex(r"[0-9]{22}", fullmatch=True)), code=code,
                            due_date=draw(dates), card_type=draw(st.sampled_from(["71", "75"])))
    return automatic_payment(draw(customers), draw(references), draw(amounts), code=code,
                             agreement_number=draw(st.from_regex(r"[0-9]{9}", fullmatch=True)),
                             due_date=draw(dates))


@settings(max_examples=60, deadline=None)
@given(st.lists(payments(), min_size=1, max_size=8),
       st.from_regex(r"[0-9]{10}", fullmatch=True), st.booleans())
def test_property_0602_round_trip(pays, number, envelope):
    data = build_0602(pays, delivery_number=number, envelope=envelope)
    d = read(data)
    assert d.delivery_number == number and d.warnings == []
    got = list(d.payments)
    slips = [p for p in pays if p.transaction_code in ("0297", "0299")]
    autos = [p for p in pays if p not in slips]
    assert got == [Payment.from_record(p) for p in [*autos, *slips]]
    assert sum(p.received_amount for p in got) == sum(
        p.paid_amount * (-1 if p.transaction_code in ("0239", "0299") else 1)
        for p in pays if p.transaction_code not in ("0237", "0238"))
    assert write_delivery(d) == build_0602(pays, delivery_number=number)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(customers, st.from_regex(r"[0-9]{9}", fullmatch=True),
                          st.sampled_from(["0230", "0231", "0232", "0233", "0234"]),
                          dates, st.one_of(st.none(), dates)), min_size=1, max_size=8))
def test_property_0603_round_trip(rows):
    events = [mandate_event(c, a, code=k, start_date=s, end_date=e) for c, a, k, s, e in rows]
    d = read(build_0603(events))
    assert sorted(d.mandate_events, key=repr) == sorted(events, key=repr)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_property_garbage_raises_only_format_error(data):
    try:
        read(data)
    except FormatError as exc:
        assert all(i.record is not None for i in exc.issues)


def test_delivery_start_round_trip():
    from formats.errors import IssueList
    from formats.pbs.records import bs002
    rec = DeliveryStart("12345678", "BS1", "0602", "0000000001", dt.date(2024, 1, 2))
    assert bs002.parse(bs002.format(rec), lineno=1, issues=IssueList()) == rec


def test_validate_replays_the_classified_head_of_a_large_file():
    from formats.pbs import validate
    pays = [automatic_payment(str(i + 1), f"INV{i}", 100 + i) for i in range(50)]
    report = validate(io.BytesIO(build_0602(pays, envelope=True)))
    assert report.ok and report.counts["payments"] == 50
    assert report.amounts["received"] == sum(100 + i for i in range(50))
