from __future__ import annotations

import io
from datetime import date
from importlib import resources

from lxml import etree

from formats.bills import Bill, LineItem, write_bills


def bill(n: int = 1, **kw: object) -> Bill:
    base: dict = {"bill_id": f"B{n:06d}", "account_number": f"ACC-{1000 + n}", "payer_name": "Jane Doe",
                  "document_date": date(2024, 1, 31), "due_date": date(2024, 2, 15), "amount_due": 12345,
                  "minimum_amount_due": 1000, "currency": "USD", "user_id": f"user{n}",
                  "line_items": (LineItem("Energy", 10000, "E1"), LineItem("Tax", 2345)),
                  "pdf_ref": f"pdf/B{n:06d}.pdf"}
    base.update(kw)
    return Bill(**base)


def bills_bytes(bills: list[Bill]) -> bytes:
    out = io.BytesIO()
    write_bills(out, bills, source="cis")
    return out.getvalue()


def schema() -> etree.XMLSchema:
    with resources.files("formats.bills").joinpath("bills.xsd").open("rb") as f:
        return etree.XMLSchema(etree.parse(f))


BILL_XML = """<bill>
  <billId>{bill_id}</billId>
  <accountNumber>{account}</accountNumber>
  <payerName>Jane Doe</payerName>
  <documentDate>{doc}</documentDate>
  <dueDate>{due}</dueDate>
  <amountDue>{amount}</amountDue>
  <minimumAmountDue>{minimum}</minimumAmountDue>
  <currency>{currency}</currency>
</bill>"""


def one_bill(**kw: str) -> bytes:
    """A file with one hand-written bill; line 3 is <billId>, line 8 <amountDue>."""
    v = {"bill_id": "B1", "account": "ACC-1", "doc": "2024-01-31", "due": "2024-02-15", "amount": "12.30",
         "minimum": "1.00", "currency": "USD"}
    v.update(kw)
    return ('<bills version="1">\n' + BILL_XML.format(**v) + "\n</bills>\n").encode()
