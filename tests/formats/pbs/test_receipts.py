"""Classification by content and PBCNET40/41 receipts."""

from __future__ import annotations

import io

import pytest

from formats.errors import FormatError
from formats.pbs import FileKind, classify, parse_receipt
from formats.pbs.receipts import receipt_warnings
from formats.pbs.writer import build_0602, build_0603, mandate_event
from tests.formats.pbs.helpers import CORPUS

RECEIPT_41 = """PBCNET41BS1D0000000000001234100105123456+BS00 LEVERANCE ACCEPTERET
*********************************************************
* TILDELT LEVERANCE NR: 2506025001                      *
* ANTAL RECORDS: 002604                                 *
* LEVERANCE  SEKTIONER  TEKSTANTAL  BELØBSANTAL  BELØB  *
* LEVERANCE 1 1.300 325 48.750,00                       *
*********************************************************
""".encode("cp1252")
RECEIPT_40 = b"PBCNET40BS1D0000000000001234100105123456+PN00DATA ACCEPTERET\r\n"


@pytest.mark.parametrize(("data", "kind"), [
    (RECEIPT_41, FileKind.DELIVERY_RECEIPT),
    (RECEIPT_40, FileKind.TRANSMISSION_RECEIPT),
    (build_0602([]), FileKind.DELIVERY_0602),
    (build_0603([mandate_event("1", "2")], envelope=True), FileKind.DELIVERY_0603),
    ((CORPUS / "nets_spec_example_0603_sec0212.txt").read_bytes(), FileKind.DELIVERY_0603),
    (b"BS00212345678BS106010000000001", FileKind.DELIVERY_0601),
    (b"BS00212345678BS106050000000001", FileKind.DELIVERY_OTHER),
    (b"<?xml version='1.0'?><x/>", FileKind.XML),
    (b"1SYSTEM         : BS1\r\nLEVERANCETYPE   : 603", FileKind.CONTROL_LIST),
    (b"", FileKind.UNKNOWN),
    (b"hello", FileKind.UNKNOWN),
])
def test_classify(data, kind):
    assert classify(data[:1024]) is kind


def test_delivery_receipt_box():
    r = parse_receipt(io.BytesIO(RECEIPT_41))
    assert r.kind is FileKind.DELIVERY_RECEIPT and r.accepted
    assert (r.delivery_number, r.record_count, r.sections, r.text_count) == (
        "2506025001", 2604, 1, 1300)
    assert (r.accepted_count, r.amount_total) == (325, 4875000)
    assert r.timestamp is not None and r.timestamp.year == 2010
    assert receipt_warnings(r) == []


def test_transmission_receipt():
    r = parse_receipt(io.BytesIO(RECEIPT_40))
    assert (r.code, r.status, r.status_text, r.accepted_count) == ("40", "PN00", "DATA ACCEPTERET",
                                                                    None)


def test_rejected_receipt_and_missing_count_warn():
    data = RECEIPT_41.replace(b"+BS00 LEVERANCE ACCEPTERET", b"+BS17 LEVERANCE AFVIST")
    data = data.replace(b"* LEVERANCE 1 1.300 325 48.750,00", b"*")
    r = parse_receipt(io.BytesIO(data))
    assert not r.accepted and r.accepted_count is None
    assert [w.code for w in receipt_warnings(r)] == ["rejected", "no_count"]


def test_not_a_receipt():
    with pytest.raises(FormatError) as info:
        parse_receipt(io.BytesIO(build_0602([])))
    issue = info.value.issues[0]
    assert (issue.code, issue.record, issue.field, issue.columns) == (
        "wrong_file_type", "PBCNET", "code", (1, 8))
