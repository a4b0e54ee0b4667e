"""Invoice PDFs: one page per invoice with the XML record's fields, in a shipped Unicode font, read back."""

from __future__ import annotations

import datetime as dt
import io
import tomllib
from importlib import resources
from typing import Any

import pypdf

from formats.pbs.invoice_xml import Debtor, Invoice
from handlers.pbs.pdf import FONT_FILE, fields, invoice_pdf
from tests.support import REPO


def _invoice(**kw: Any) -> Invoice:
    base: dict[str, Any] = dict(
                invoice_number="INV-ÆØÅ-7", customer_number="000000000700012", invoice_date=dt.date(2024, 3, 1),
                due_date=dt.date(2024, 3, 31), amount=123456, document="invoice_7.pdf", mandate_number="000000011",
                payment_id="000000000123455",
                debtor=Debtor("Søren Ærø Åsgård", ("Østre Allé 1", "2. sal"), "8000", "Århus C", "DK"))
    base.update(kw)
    return Invoice(**base)


def _text(data: bytes) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return len(reader.pages), reader.pages[0].extract_text()


def test_every_field_of_the_xml_record_is_on_the_one_page_in_danish_letters() -> None:
    inv = _invoice()
    pages, text = _text(invoice_pdf(inv))
    assert pages == 1
    for label, value in fields(inv):
        assert label in text and value in text, (label, value)
    for line in ("Søren Ærø Åsgård", "Østre Allé 1", "2. sal", "8000 Århus C", "Beløb / Amount due",
                 "1.234,56 DKK", "Faktura INV-ÆØÅ-7"):
        assert line in text, line
    assert "Belob" not in text


def test_minimal_invoice_and_same_bytes_for_the_same_invoice() -> None:
    inv = _invoice(mandate_number=None, payment_id=None, debtor=None)
    data = invoice_pdf(inv)
    _pages, text = _text(data)
    assert "Aftalenummer" not in text and "Betalings-id" not in text and "INV-ÆØÅ-7" in text
    assert invoice_pdf(inv) == data  # no clock in the file: archive digests are stable


def test_the_font_and_its_licence_ship_with_the_package() -> None:
    font = resources.files("handlers.pbs").joinpath(FONT_FILE)
    assert font.is_file() and font.read_bytes()[:4] == b"\x00\x01\x00\x00"
    licence = resources.files("handlers.pbs").joinpath("fonts/LICENSE-DejaVu.txt")
    assert "Bitstream" in licence.read_text()
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = data["tool"]["setuptools"]["package-data"]["*"]
    assert "*.ttf" in patterns and "LICENSE-*.txt" in patterns
