"""Bill file writer, streaming (``lxml.etree.xmlfile``): test files and benchmarks.

Upstream billing systems produce the real files; this writer gives tests and
``bench/bills`` files that are valid by construction against ``bills.xsd``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

from lxml import etree

from formats.bills.amounts import format_cents
from formats.bills.reader import BILL, ROOT, VERSION, Bill


def bill_element(bill: Bill) -> etree._Element:
    el = etree.Element(BILL)

    def sub(parent: etree._Element, tag: str, text: str) -> None:
        etree.SubElement(parent, tag).text = text

    sub(el, "billId", bill.bill_id)
    sub(el, "accountNumber", bill.account_number)
    if bill.user_id is not None:
        sub(el, "userId", bill.user_id)
    for email in bill.user_emails:
        sub(el, "userEmail", email)
    sub(el, "payerName", bill.payer_name)
    sub(el, "documentDate", bill.document_date.isoformat())
    sub(el, "dueDate", bill.due_date.isoformat())
    sub(el, "amountDue", format_cents(bill.amount_due))
    sub(el, "minimumAmountDue", format_cents(bill.minimum_amount_due))
    sub(el, "currency", bill.currency)
    if bill.line_items:
        items = etree.SubElement(el, "lineItems")
        for li in bill.line_items:
            item = etree.SubElement(items, "item")
            sub(item, "description", li.description)
            sub(item, "amount", format_cents(li.amount))
            if li.code is not None:
                sub(item, "code", li.code)
    if bill.pdf_ref is not None:
        sub(el, "pdfRef", bill.pdf_ref)
    return el


def write_bills(out: IO[bytes], bills: Iterable[Bill], *, source: str | None = None,
                pretty: bool = True) -> int:
    """Write a bill file; returns the number of bills written. ``bills`` may be a generator.

    ``pretty`` puts each element on its own line, so errors point at distinct lines.
    """
    indent: Any = etree.indent
    n = 0
    attrs = {"version": VERSION}
    if source is not None:
        attrs["source"] = source
    xf: Any
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(ROOT, attrs):
            xf.write("\n")
            for bill in bills:
                el = bill_element(bill)
                if pretty:
                    indent(el, space="  ", level=1)
                el.tail = "\n"
                xf.write(el)
                n += 1
    return n
