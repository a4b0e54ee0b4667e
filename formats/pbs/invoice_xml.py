"""The outbound XML invoice delivery to Nets ("Medsend bilag"), as a replaceable template.

Nets' XML000 specification is not public (PAYMENT-FORMATS.md §1.9), so this
module writes a documented stand-in: ``invoice_delivery.xsd`` in this package
(namespace :data:`NAMESPACE`). A site with the real guide keeps the builder and
supplies an XSLT from this document to Nets' layout plus Nets' XSD; the daemon
passes them to :func:`transform` and :func:`validate` from configuration.

Pure: typed invoices in, bytes out. Parsing never resolves entities, loads a
DTD or touches the network; XSLT runs with all file and network access denied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from lxml import etree

from formats.errors import FormatError, Issue, IssueCode, IssueList
from formats.pbs import fik

NAMESPACE = "urn:spoolgate:pbs:invoice-delivery:1"
TEMPLATE_VERSION = "1"
XSD_RESOURCE = "invoice_delivery.xsd"

_NS = f"{{{NAMESPACE}}}"


@dataclass(frozen=True, slots=True)
class Debtor:
    name: str
    address_lines: tuple[str, ...] = ()
    post_code: str | None = None
    city: str | None = None
    country: str | None = None  #: ISO 3166 alpha-2


@dataclass(frozen=True, slots=True)
class Invoice:
    """One invoice for PBS; ``amount`` is the outstanding amount in øre (> 0)."""

    invoice_number: str
    customer_number: str
    invoice_date: dt.date
    due_date: dt.date
    amount: int
    document: str  #: the PDF's file name inside the zip
    mandate_number: str | None = None
    payment_id: str | None = None  #: FI-card payment id with its check digit
    debtor: Debtor | None = None


@dataclass(frozen=True, slots=True)
class DeliveryHeader:
    """Seed 003's parameters: agreement number, data supplier CVR and system code,
    payment type (``00`` all, ``07`` paper-based) and test mode."""

    delivery_id: int
    created: dt.datetime
    data_supplier_cvr: str
    system_code: str
    agreement_number: str
    payment_type: str = "00"
    test_mode: bool = False
    document_archive: str | None = None  #: name of the PDF zip sent alongside


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=False, remove_blank_text=False)


@lru_cache(maxsize=8)
def _schema_from(xsd: bytes) -> etree.XMLSchema:
    return etree.XMLSchema(etree.fromstring(xsd, _parser()))


def default_xsd() -> bytes:
    return resources.files("formats.pbs").joinpath(XSD_RESOURCE).read_bytes()


def build(header: DeliveryHeader, invoices: Sequence[Invoice]) -> bytes:
    """The delivery document, UTF-8 with an XML declaration. Validate it before sending."""
    root = etree.Element(_NS + "InvoiceDelivery", nsmap={None: NAMESPACE})  # type: ignore[dict-item]
    root.set("version", TEMPLATE_VERSION)
    head = etree.SubElement(root, _NS + "Header")

    def add(parent: etree._Element, name: str, text: object) -> etree._Element:
        el = etree.SubElement(parent, _NS + name)
        el.text = str(text)
        return el

    add(head, "DeliveryId", header.delivery_id)
    add(head, "Created", header.created.replace(microsecond=0).isoformat())
    add(head, "DataSupplierCvr", header.data_supplier_cvr)
    add(head, "SystemCode", header.system_code)
    add(head, "AgreementNumber", header.agreement_number)
    add(head, "PaymentType", header.payment_type)
    add(head, "TestMode", "true" if header.test_mode else "false")
    add(head, "InvoiceCount", len(invoices))
    add(head, "TotalAmount", sum(i.amount for i in invoices))
    if header.document_archive:
        add(head, "DocumentArchive", header.document_archive)
    body = etree.SubElement(root, _NS + "Invoices")
    for inv in invoices:
        el = etree.SubElement(body, _NS + "Invoice")
        add(el, "InvoiceNumber", inv.invoice_number)
        add(el, "CustomerNumber", inv.customer_number)
        if inv.mandate_number:
            add(el, "MandateNumber", inv.mandate_number)
        add(el, "InvoiceDate", inv.invoice_date.isoformat())
        add(el, "DueDate", inv.due_date.isoformat())
        add(el, "Amount", inv.amount)
        add(el, "Currency", "DKK")
        if inv.payment_id:
            add(el, "PaymentId", inv.payment_id)
        if inv.debtor:
            d = etree.SubElement(el, _NS + "Debtor")
            add(d, "Name", inv.debtor.name)
            for line in inv.debtor.address_lines:
                add(d, "AddressLine", line)
            for name, value in (("PostCode", inv.debtor.post_code), ("City", inv.debtor.city),
                                ("Country", inv.debtor.country)):
                if value:
                    add(d, name, value)
        add(el, "Document", inv.document)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def validate(data: bytes, *, xsd: bytes | None = None, template_checks: bool = True) -> None:
    """Raise :class:`FormatError` listing every schema violation (line and element path).

    ``xsd`` replaces the shipped schema (a site's real XML000 XSD); then pass
    ``template_checks=False``, since the count/total/check-digit rules below read
    the template's own elements.
    """
    issues = IssueList()
    try:
        doc = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise FormatError.single(IssueCode.XML_SYNTAX, f"not well-formed XML: {exc.msg}",
                                 line=exc.lineno, record="InvoiceDelivery",
                                 columns=(exc.offset, exc.offset) if exc.offset else None) from None
    if getattr(doc.getroottree().docinfo, "doctype", ""):
        raise FormatError.single(IssueCode.XML_DOCTYPE, "a DOCTYPE (DTD, entities) is not allowed",
                                 line=1, record="InvoiceDelivery")
    schema = _schema_from(xsd if xsd is not None else default_xsd())
    try:
        valid = schema.validate(doc)
    except etree.XMLSchemaValidateError as exc:
        raise FormatError.single(IssueCode.XML_SCHEMA, f"schema validation failed: {exc}",
                                 record="InvoiceDelivery") from None
    if not valid:
        for err in schema.error_log:  # type: ignore[attr-defined]  # lxml-stubs 0.5 lag
            issues.add(Issue(code=IssueCode.XML_SCHEMA, reason=err.message, line=err.line,
                             record="InvoiceDelivery", field=err.path))
    elif template_checks:
        _template_checks(doc, issues)
    issues.raise_if_errors("invoice delivery")


def _template_checks(doc: etree._Element, issues: IssueList) -> None:
    """Rules an XSD cannot say: the header totals and the FI-card check digits."""
    ns = {"d": NAMESPACE}
    amounts = [int(a.text or "0") for a in doc.iterfind("d:Invoices/d:Invoice/d:Amount", ns)]
    for name, expected in (("InvoiceCount", len(amounts)), ("TotalAmount", sum(amounts))):
        el = doc.find(f"d:Header/d:{name}", ns)
        if el is not None and int(el.text or "0") != expected:
            issues.add(Issue(code=IssueCode.CONTROL_MISMATCH, reason=f"{name} does not match the invoices",
                             line=_line(el), record="InvoiceDelivery", field=name,
                             value=el.text, expected=str(expected), found=el.text))
    for el in doc.iterfind("d:Invoices/d:Invoice/d:PaymentId", ns):
        if not fik.is_valid(el.text or ""):
            issues.add(Issue(code=IssueCode.CHECK_DIGIT, reason="payment id fails the modulus-10 check",
                             line=_line(el), record="InvoiceDelivery", field="PaymentId",
                             value=el.text))


def transform(data: bytes, xslt: bytes) -> bytes:
    """Map the template document to a site's layout with an XSLT, no file or network access."""
    parser = _parser()
    style = etree.XSLT(etree.fromstring(xslt, parser),
                       access_control=etree.XSLTAccessControl.DENY_ALL)  # type: ignore[attr-defined]
    result = style(etree.fromstring(data, parser))
    return bytes(result)


def _line(el: etree._Element) -> int | None:
    line = getattr(el, "sourceline", None)
    return line if isinstance(line, int) else None
