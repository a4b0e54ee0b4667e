"""The XML invoice delivery template validates against the shipped XSD."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formats.errors import FormatError
from formats.pbs import fik, invoice_xml
from formats.pbs.invoice_xml import Debtor, DeliveryHeader, Invoice

HEADER = DeliveryHeader(delivery_id=7, created=dt.datetime(2024, 1, 2, 10, 30, 15, 123),
                        data_supplier_cvr="12345678", system_code="BS2",
                        agreement_number="000000001", test_mode=True,
                        document_archive="pbs_7.zip")


def invoice(number: str = "100001", amount: int = 15000, **kw) -> Invoice:
    return Invoice(invoice_number=number, customer_number="C42", invoice_date=dt.date(2024, 1, 1),
                   due_date=dt.date(2024, 2, 1), amount=amount, document=f"{number}.pdf", **kw)


def failure(data: bytes, **kw):
    with pytest.raises(FormatError) as info:
        invoice_xml.validate(data, **kw)
    return info.value.issues


def test_built_document_validates():
    data = invoice_xml.build(HEADER, [
        invoice("100001", payment_id=fik.make_payment_id(100001),
                debtor=Debtor("Jens Æbelø", ("Vej 1", "2. th"), "8000", "Aarhus C", "DK")),
        invoice("100002", 990, mandate_number="000000077"),
    ])
    invoice_xml.validate(data)
    assert data.startswith(b"<?xml")
    assert "Æbelø".encode() in data
    assert b"<TotalAmount>15990</TotalAmount>" in data and b"<TestMode>true</TestMode>" in data


def test_schema_violation_reports_line_and_reason():
    data = invoice_xml.build(HEADER, [invoice()]).replace(b"<Amount>15000", b"<Amount>-5")
    issues = failure(data)
    assert issues[0].code == "xml_schema" and issues[0].line is not None
    assert "Amount" in issues[0].reason


def test_duplicate_invoice_numbers_fail():
    issues = failure(invoice_xml.build(HEADER, [invoice("1"), invoice("1")]))
    assert issues[0].code == "xml_schema"


def test_header_totals_must_match():
    data = invoice_xml.build(HEADER, [invoice()]).replace(b"<InvoiceCount>1<", b"<InvoiceCount>2<")
    assert [(i.code, i.field) for i in failure(data)] == [("control_mismatch", "InvoiceCount")]


def test_bad_check_digit_fails():
    pid = fik.make_payment_id(5)
    bad = pid[:-1] + str((int(pid[-1]) + 1) % 10)
    assert [i.code for i in failure(invoice_xml.build(HEADER, [invoice(payment_id=bad)]))] == [
        "check_digit"]


def test_not_xml_and_entities_are_not_resolved():
    assert failure(b"<InvoiceDelivery")[0].code == "xml_syntax"
    evil = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b'<InvoiceDelivery xmlns="urn:spoolgate:pbs:invoice-delivery:1" version="1">&e;'
            b"</InvoiceDelivery>")
    assert [i.code for i in failure(evil)] == ["xml_doctype"]


def test_replaceable_by_xslt_and_another_xsd():
    xslt = b"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
        xmlns:d="urn:spoolgate:pbs:invoice-delivery:1">
      <xsl:template match="/d:InvoiceDelivery"><Levering antal="{d:Header/d:InvoiceCount}">
        <xsl:for-each select="d:Invoices/d:Invoice"><Faktura nr="{d:InvoiceNumber}"/></xsl:for-each>
      </Levering></xsl:template></xsl:stylesheet>"""
    xsd = b"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="Levering">
      <xs:complexType><xs:sequence><xs:element name="Faktura" maxOccurs="unbounded">
      <xs:complexType><xs:attribute name="nr" use="required"/></xs:complexType></xs:element>
      </xs:sequence><xs:attribute name="antal" type="xs:int"/></xs:complexType></xs:element>
      </xs:schema>"""
    out = invoice_xml.transform(invoice_xml.build(HEADER, [invoice("1"), invoice("2")]), xslt)
    assert b'<Faktura nr="2"/>' in out
    invoice_xml.validate(out, xsd=xsd, template_checks=False)
    assert failure(invoice_xml.build(HEADER, [invoice()]), xsd=xsd, template_checks=False)


def test_xslt_cannot_read_files():
    xslt = b"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
      <xsl:template match="/"><x><xsl:copy-of select="document('/etc/hostname')"/></x>
      </xsl:template></xsl:stylesheet>"""
    with pytest.raises(Exception) as info:
        invoice_xml.transform(invoice_xml.build(HEADER, [invoice()]), xslt)
    assert "read" in str(info.value).lower() or "denied" in str(info.value).lower()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.from_regex(r"[0-9A-Z]{1,9}", fullmatch=True),
                          st.integers(1, 10**13 - 1)), min_size=1, max_size=10,
                unique_by=lambda t: t[0]))
def test_property_any_invoices_validate(rows):
    invoice_xml.validate(invoice_xml.build(HEADER, [invoice(n, a) for n, a in rows]))
