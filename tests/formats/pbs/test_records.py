"""Field tables: complete, contiguous 128-character layouts; per-record round trips."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formats.errors import IssueList
from formats.pbs.fields import RECORD_LENGTH, ddmmyy, parse_ddmmyy
from formats.pbs.records import (
    bs002,
    bs012,
    bs022,
    bs042_automatic,
    bs042_mandate,
    bs042_slip,
    bs042_slip_info,
    bs052,
    bs092,
    bs992,
    d0601,
    pbcnet,
)

LAYOUTS = [m.LAYOUT for m in (bs002, bs012, bs022, bs042_automatic, bs042_mandate, bs042_slip,
                              bs042_slip_info, bs052, bs092, bs992)] + list(d0601.LAYOUTS)


@pytest.mark.parametrize("layout", LAYOUTS, ids=[f"{lay.record}-{i}" for i, lay in enumerate(LAYOUTS)])
def test_field_table_covers_1_to_128_without_gaps(layout):
    position = 1
    for f in layout.fields:
        assert f.start == position, f"{layout.record}.{f.name} starts at {f.start}, not {position}"
        assert f.end >= f.start
        position = f.end + 1
    assert position == RECORD_LENGTH + 1
    assert len({f.name for f in layout.fields}) == len(layout.fields)


def test_slip_payment_is_shifted_by_four():
    auto = {f.name: f for f in bs042_automatic.FIELDS}
    slip = {f.name: f for f in bs042_slip.FIELDS}
    assert slip["customer_number"].start == auto["customer_number"].start + 4
    assert slip["reference"].width == 9 and auto["reference"].width == 30
    assert slip["paid_amount"].columns == auto["paid_amount"].columns == (116, 128)


def test_ddmmyy_century_window_and_no_date():
    assert parse_ddmmyy("010799") == dt.date(1999, 7, 1)
    assert parse_ddmmyy("311269") == dt.date(2069, 12, 31)
    assert parse_ddmmyy("000000") is None
    assert ddmmyy(None) == "000000"
    with pytest.raises(ValueError):
        ddmmyy(dt.date(2070, 1, 1))


def test_real_line_from_the_spec():
    line = ("BS0420398564402360000000103200161000000381165693504011010000000015000000010388"
            + " " * 25 + "0401100401100000000015000")
    rec = bs042_automatic.parse(line, lineno=1, issues=IssueList())
    assert rec is not None
    assert (rec.customer_number, rec.agreement_number, rec.due_date) == (
        "32001610000003", "811656935", dt.date(2010, 1, 4))
    assert (rec.amount, rec.reference, rec.received_amount) == (15000, "000010388", 15000)


def test_real_slip_line_from_the_spec():
    line = ("BS042039856440297000000010000032001610000181710000000401101000000001500000001062022762"
            "009122939999219722912093012090000000015000")
    rec = bs042_slip.parse(line, lineno=1, issues=IssueList())
    assert rec is not None
    assert (rec.customer_number, rec.card_type, rec.reference) == ("32001610000181", "71",
                                                                   "000010620")
    assert rec.archive_reference == "2276200912293999921972"
    assert (rec.payment_date, rec.booking_date) == (dt.date(2009, 12, 29), dt.date(2009, 12, 30))


def test_slip_info_payment_id():
    issues = IssueList()
    rec = bs042_slip_info.SlipInfo("01234567", "00001", "42", "71", "81131945",
                                   "0000" + "000000001000016", dt.date(2024, 1, 2), 12500, "INV000042")
    line = bs042_slip_info.format(rec).rstrip()
    assert len(line) == 97  # as every real 0217 record
    back = bs042_slip_info.parse(line, lineno=1, issues=issues)
    assert back == rec and back.payment_id == "000000001000016"


def test_sign_code_zero_with_money_is_an_error():
    rec = bs042_automatic.AutomaticPayment("01234567", "0236", "00001", "1", "000000001",
                                           dt.date(2024, 1, 2), 0, 100, "R", None, None, 100)
    issues = IssueList()
    assert bs042_automatic.parse(bs042_automatic.format(rec), lineno=7, issues=issues) is None
    assert [(i.code, i.field, i.columns) for i in issues.errors] == [
        ("sign_mismatch", "sign_code", (56, 56))]


def test_pbcnet_envelope_round_trip():
    line = pbcnet.format("90", "BS1", date=dt.date(2010, 1, 5), count=11)
    env = pbcnet.parse(line)
    assert (env.code, env.system_code, env.count) == ("90", "BS1", 11)
    # a non-ASCII digit (Latin-1 '²' passes str.isdigit) is no count, never a ValueError
    assert pbcnet.parse(line[:-6] + "00001\u00b2").count is None


@settings(max_examples=80, deadline=None)
@given(st.builds(
    bs042_automatic.AutomaticPayment,
    pbs_number=st.from_regex(r"[0-9]{8}", fullmatch=True),
    transaction_code=st.sampled_from(bs042_automatic.CODES),
    debtor_group=st.from_regex(r"[0-9]{5}", fullmatch=True),
    customer_number=st.from_regex(r"[1-9A-Z][0-9A-Z]{0,14}", fullmatch=True),
    agreement_number=st.from_regex(r"[0-9]{9}", fullmatch=True),
    due_date=st.one_of(st.none(), st.dates(dt.date(1970, 1, 1), dt.date(2069, 12, 31))),
    sign_code=st.sampled_from([1, 2]),
    amount=st.integers(0, 10**13 - 1),
    reference=st.from_regex(r"[0-9A-ZÆØÅ][0-9A-ZÆØÅ ]{0,28}[0-9A-Z]", fullmatch=True),
    payment_date=st.none(), booking_date=st.none(),
    paid_amount=st.integers(0, 10**13 - 1),
))
def test_property_automatic_record_round_trip(rec):
    line = bs042_automatic.format(rec)
    assert len(line) == RECORD_LENGTH
    issues = IssueList()
    assert bs042_automatic.parse(line.rstrip(), lineno=1, issues=issues) == rec
    assert issues.issues == []
