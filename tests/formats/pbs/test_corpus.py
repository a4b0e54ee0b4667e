"""Every example from the Nets guides parses; their control amounts only warn."""

from __future__ import annotations

import datetime as dt

import pytest

from formats.pbs import GUIDE_EXAMPLES, MandateEventKind, PaymentKind
from tests.formats.pbs.helpers import CORPUS, errors_of, read

FILES = sorted(CORPUS.glob("*.txt"))


def test_corpus_is_there():
    assert len(FILES) == 3


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_parses_with_only_known_warnings(path):
    d = read(path.read_bytes(), GUIDE_EXAMPLES)
    codes = {w.code for w in d.warnings}
    assert codes <= {"placeholder", "control_amount"}
    assert all(w.columns for w in d.warnings)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_placeholders_are_errors_by_default(path):
    issues = errors_of(path.read_bytes())
    first = issues[0]
    assert (first.code, first.record, first.field, first.columns, first.value) == (
        "non_numeric", "BS002", "data_supplier", (6, 13), "DDDDDDDD")


def test_0602_automatic_section_values():
    d = read((CORPUS / "nets_spec_example_0602_sec0211.txt").read_bytes(), GUIDE_EXAMPLES)
    assert (d.delivery_type, d.delivery_number) == ("0602", "3589289001")
    assert [s.code for s in d.sections] == ["0211"]
    pays = list(d.payments)
    assert [p.transaction_code for p in pays] == ["0236", "0236", "0239", "0236", "0237", "0238"]
    assert [p.received_amount for p in pays] == [8000, 8450, -7450, 8450, 0, 0]
    first = pays[0]
    assert first.customer_number == "10000000700012"
    assert first.agreement_number == "000439510"
    assert first.payment_reference == "0000000001"
    assert first.due_date == dt.date(2004, 3, 5)
    assert first.payment_date == first.booking_date == dt.date(2004, 3, 5)
    assert first.kind is PaymentKind.COMPLETED and first.card_type is None
    assert pays[2].kind is PaymentKind.CHARGED_BACK
    # the guide sums the requested amounts (47800); the spec and real files sum paid (32350)
    amount = [w for w in d.warnings if w.code == "control_amount"]
    assert [(w.record, w.field, w.columns, w.expected, w.found) for w in amount] == [
        ("BS092", "amount", (43, 57), "32350", "47800")]


def test_0602_slip_section_uses_shifted_positions():
    d = read((CORPUS / "nets_spec_example_0602_sec0211_0215.txt").read_bytes(), GUIDE_EXAMPLES)
    assert [s.code for s in d.sections] == ["0211", "0215"]
    slip = d.sections[1].payments[0]
    assert slip.transaction_code == "0297"
    assert slip.customer_number == "10000000700087"
    assert slip.card_type == "71"
    assert slip.payment_reference == "001164165"
    assert slip.archive_reference == "5301200012158577700010"
    assert slip.due_date == dt.date(2004, 3, 5)
    assert slip.payment_date == dt.date(2004, 3, 5)
    assert slip.booking_date == dt.date(2004, 3, 6)
    assert slip.received_amount == 95500 and slip.agreement_number is None
    found = {(w.line, w.found) for w in d.warnings if w.code == "control_amount"}
    assert found == {(7, "418000"), (10, "721000")}  # BS992 does sum its sections


def test_0603_changes_section():
    d = read((CORPUS / "nets_spec_example_0603_sec0212.txt").read_bytes(), GUIDE_EXAMPLES)
    assert d.delivery_type == "0603"
    events = list(d.mandate_events)
    assert len(events) == 15
    kinds = [e.kind for e in events]
    assert kinds.count(MandateEventKind.SUBSCRIBED) == 12
    first = events[0]
    assert first.kind is MandateEventKind.CANCELLED_BY_CREDITOR
    assert first.kind.is_cancellation
    assert (first.customer_number, first.agreement_number) == ("59709763", "000006214")
    assert (first.start_date, first.end_date) == (dt.date(2002, 7, 1), dt.date(2002, 5, 23))
    assert events[4].kind is MandateEventKind.CANCELLED_BY_BETALINGSSERVICE
    assert events[-1].kind is MandateEventKind.CANCELLED_BY_DEBTOR_BANK
    assert events[-1].start_date == dt.date(1999, 7, 1)
    assert not [w for w in d.warnings if w.code == "control_amount"]
