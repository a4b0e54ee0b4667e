"""The invoice PDF for an invoice that has none in the document archive.

One A4 page per invoice with the fields of its XML invoice record (so the PDF
and the XML Nets receives never disagree), drawn with fpdf2 in DejaVu Sans,
shipped with the package (``fonts/``, licence beside it): Danish letters and
any name the debtor has print as written, with no system fonts needed.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from importlib import resources
from pathlib import Path

from fpdf import FPDF

from formats.pbs.invoice_xml import Invoice

FONT = "DejaVuSans"
FONT_FILE = "fonts/DejaVuSans.ttf"


@lru_cache(maxsize=1)
def font_path() -> Path:
    return Path(str(resources.files("handlers.pbs").joinpath(FONT_FILE)))


def kroner(ore: int) -> str:
    sign = "-" if ore < 0 else ""
    kr, o = divmod(abs(ore), 100)
    return f"{sign}{kr:,}".replace(",", ".") + f",{o:02d} DKK"


def fields(inv: Invoice) -> list[tuple[str, str]]:
    """(label, value) rows: the XML invoice's fields, in its order."""
    rows = [("Fakturanummer / Invoice", inv.invoice_number), ("Kundenummer / Customer", inv.customer_number),
            ("Fakturadato / Invoice date", f"{inv.invoice_date:%d-%m-%Y}"),
            ("Forfaldsdato / Due date", f"{inv.due_date:%d-%m-%Y}"), ("Beløb / Amount due", kroner(inv.amount))]
    if inv.mandate_number:
        rows.append(("Aftalenummer / Mandate", inv.mandate_number))
    if inv.payment_id:
        rows.append(("Betalings-id / Payment id", inv.payment_id))
    return rows


def address(inv: Invoice) -> list[str]:
    d = inv.debtor
    if d is None:
        return []
    town = " ".join(x for x in (d.post_code, d.city) if x)
    return [d.name, *d.address_lines, *([town] if town else []), *([d.country] if d.country else [])]


def invoice_pdf(inv: Invoice) -> bytes:
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_creation_date(dt.datetime.combine(inv.invoice_date, dt.time(), dt.UTC))
    pdf.set_title(f"Faktura {inv.invoice_number}")
    pdf.add_font(FONT, fname=str(font_path()))
    pdf.add_page()
    pdf.set_font(FONT, size=16)
    pdf.cell(text=f"Faktura {inv.invoice_number}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(FONT, size=11)
    for line in address(inv):
        pdf.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    for label, value in fields(inv):
        pdf.cell(w=70, text=label)
        pdf.cell(text=value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.cell(text="Betales via Betalingsservice.", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
