import io
from datetime import date

import pytest
from lxml import etree

from formats.bills import DTD_REFUSED, BillReader, LineItem, read_bills, write_bills
from formats.errors import FormatError

from .helpers import bill, bills_bytes, one_bill, schema


def read_all(data: bytes):
    r = BillReader(io.BytesIO(data))
    return list(r), r


def test_round_trip__write_then_read_gives_the_same_bills():
    bills = [bill(1), bill(2, user_id=None, line_items=(), pdf_ref=None, amount_due=-500, minimum_amount_due=0),
             bill(3, payer_name="Zoë & Søn <Ltd>", line_items=(LineItem("Fee", -100),))]
    got, r = read_all(bills_bytes(bills))
    assert got == bills and not r.issues.issues
    assert r.count == 3 and r.header is not None and r.header.source == "cis"
    assert got[1].line is not None and got[1].line > got[0].line


def test_writer_output_is_valid_against_the_xsd():
    doc = etree.fromstring(bills_bytes([bill(1), bill(2, user_id=None, pdf_ref=None)]))
    xsd = schema()
    assert xsd.validate(doc), xsd.error_log


def test_amounts_are_strict_cents():
    (b,), _ = read_all(one_bill(amount="12.3"))
    assert b.amount_due == 1230 and b.minimum_amount_due == 100
    for bad in ("12.345", "abc", "", "1,00"):
        got, r = read_all(one_bill(amount=bad))
        assert got == []
        (e,) = r.issues.errors
        assert (e.code, e.field, e.line, e.record) == ("bad_amount", "amountDue", 8, "bill B1")


BAD_CASES = [
    ({"amount": "12.345"}, "bad_amount", "amountDue"),
    ({"minimum": "-1.00"}, "bad_amount", "minimumAmountDue"),
    ({"doc": "2024-02-30"}, "bad_date", "documentDate"),
    ({"due": "15.02.2024"}, "bad_date", "dueDate"),
    ({"due": "2024-02-15Z"}, "bad_date", "dueDate"),
    ({"currency": "usd"}, "bad_currency", "currency"),
    ({"currency": "EURO"}, "bad_currency", "currency"),
    ({"bill_id": ""}, "missing", "billId"),
    ({"bill_id": "B" * 65}, "bad_length", "billId"),
    ({"account": "   "}, "missing", "accountNumber"),
]


@pytest.mark.parametrize("kw, code, field", BAD_CASES)
def test_bad_field__reported_and_refused_by_the_xsd_too(kw, code, field):
    data = one_bill(**kw)
    got, r = read_all(data)
    assert got == []
    assert [(e.code, e.field) for e in r.issues.errors] == [(code, field)]
    assert not schema().validate(etree.fromstring(data))


@pytest.mark.parametrize("edit, code", [
    (lambda s: s.replace("  <payerName>Jane Doe</payerName>\n", ""), "missing"),
    (lambda s: s.replace("<currency>USD</currency>", "<currency>USD</currency><currency>USD</currency>"),
     "unexpected_element"),
    (lambda s: s.replace("<payerName>", "<nickname>x</nickname><payerName>"), "unexpected_element"),
    (lambda s: s.replace("  <billId>B1</billId>\n  <accountNumber>ACC-1</accountNumber>",
                         "  <accountNumber>ACC-1</accountNumber>\n  <billId>B1</billId>"), "unexpected_element"),
    (lambda s: s.replace("<bill>", '<bill status="x">'), "unexpected_attribute"),
    (lambda s: s.replace("<amountDue>12.30", "<amountDue><b>1</b>12.30"), "unexpected_element"),
    (lambda s: s.replace("<bill>", "<bill>stray"), "unexpected_text"),
    (lambda s: s.replace("</bill>", "</bill><invoice/>"), "unexpected_element"),
    (lambda s: s.replace('version="1"', 'version="2"'), "bad_version"),
])
def test_structure_rules_match_the_xsd(edit, code):
    data = edit(one_bill().decode()).encode()
    _, r = read_all(data)
    assert code in [e.code for e in r.issues.errors], r.issues.issues
    assert not schema().validate(etree.fromstring(data))


@pytest.mark.parametrize("kw, code", [
    ({"due": "2024-01-01"}, "due_before_document"),
    ({"minimum": "20.00"}, "minimum_exceeds_due"),
])
def test_rules_beyond_the_xsd(kw, code):
    _, r = read_all(one_bill(**kw))
    assert [e.code for e in r.issues.errors] == [code]


def test_duplicate_bill_id():
    _, r = read_all(bills_bytes([bill(1), bill(2), bill(1)]))
    assert [e.code for e in r.issues.errors] == ["duplicate_bill"]


def test_account_number_masked_in_issues():
    data = one_bill(account="ACC-12345678", amount="x").decode().replace(
        "<accountNumber>ACC-12345678</accountNumber>", "<accountNumber>ACC-12345678<x/></accountNumber>")
    _, r = read_all(data.encode())
    assert "ACC-12345678" not in repr(r.issues.issues)


def test_bad_bill_among_good_ones__good_ones_still_yielded_then_file_refused():
    data = bills_bytes([bill(1), bill(2, currency="usd"), bill(3)])
    got = []
    with pytest.raises(FormatError) as info:
        for b in read_bills(io.BytesIO(data)):
            got.append(b.bill_id)
    assert got == ["B000001", "B000003"]
    (e,) = info.value.issues
    assert (e.code, e.record) == ("bad_currency", "bill B000002")


def test_empty_bill_file_is_valid():
    got, r = read_all(b'<?xml version="1.0"?>\n<bills version="1"/>\n')
    assert got == [] and r.count == 0 and not r.issues.issues


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE bills [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bills version="1"><bill><billId>&xxe;</billId></bill></bills>
"""
LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE bills [<!ENTITY a "aaaaaaaaaa">'
          + b"".join(b'<!ENTITY a%d "%s">' % (i, (b"&a%d;" % (i - 1) if i > 1 else b"&a;") * 10)
                     for i in range(1, 12))
          + b']>\n<bills version="1"><bill><billId>&a11;</billId></bill></bills>\n')


@pytest.mark.parametrize("payload", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_entity_payloads_refused_never_expanded(payload):
    r = BillReader(io.BytesIO(payload))
    with pytest.raises(FormatError) as info:
        list(r)
    (e,) = info.value.issues
    assert e.code == "dtd_refused" and e.reason == DTD_REFUSED
    assert "root:" not in str(info.value)


def test_undeclared_entity_refused_with_position():
    with pytest.raises(FormatError) as info:
        list(BillReader(io.BytesIO(b'<bills version="1">\n<bill><billId>&foo;</billId></bill></bills>')))
    (e,) = info.value.issues
    assert (e.code, e.line, e.columns) == ("entity_refused", 2, (20, 20))


@pytest.mark.parametrize("data, line, column", [
    (b'<bills version="1">\n<bill>\n  <billId>B1</bilId>\n</bill></bills>', 3, 21),
    (b'<bills version="1">\n<bill>\n<billId>B1</billId>\n', None, None),
    (b'<bills version="1"/>\n<bills version="1"/>', 2, 1),
])
def test_malformed_xml__line_and_column(data, line, column):
    with pytest.raises(FormatError) as info:
        list(BillReader(io.BytesIO(data)))
    (e,) = info.value.issues
    assert e.code == "malformed_xml"
    if line is not None:
        assert e.line == line and e.columns == (column, column)


def test_malformed_after_bad_bill__all_issues_kept():
    data = one_bill(amount="x").replace(b"</bills>", b"<bill><billId>B2</bill></bills>")
    with pytest.raises(FormatError) as info:
        list(BillReader(io.BytesIO(data)))
    assert [e.code for e in info.value.issues] == ["bad_amount", "malformed_xml"]


def test_wrong_root_refused():
    with pytest.raises(FormatError) as info:
        list(BillReader(io.BytesIO(b"<invoices/>")))
    assert info.value.issues[0].code == "bad_root"


def test_many_bills__streamed_in_order():
    """Memory is measured by bench/bills/measure.py (200 MB under 150 MB RSS)."""
    out = io.BytesIO()
    assert write_bills(out, (bill(n) for n in range(1, 2001))) == 2000
    r = BillReader(io.BytesIO(out.getvalue()))
    for n, b in enumerate(r, start=1):
        assert b.bill_id == f"B{n:06d}"
    assert r.count == 2000 and not r.issues.issues
    assert b.due_date == date(2024, 2, 15)
