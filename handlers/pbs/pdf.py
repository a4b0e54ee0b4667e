"""A small, valid one-page PDF for an invoice that has none in the document archive.

Written by hand (a few objects and an exact cross-reference table) so no PDF
library is needed; the text is the invoice's key facts in Helvetica.
"""

from __future__ import annotations

from daemon.models.pbs import Invoice


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _kroner(ore: int) -> str:
    sign = "-" if ore < 0 else ""
    kr, o = divmod(abs(ore), 100)
    return f"{sign}{kr:,}".replace(",", ".") + f",{o:02d} DKK"


def render(lines: list[str]) -> bytes:
    """A one-page A4 PDF showing ``lines`` (latin-1 text)."""
    ops = ["BT", "/F1 12 Tf", "14 TL", "56 780 Td"]
    for line in lines:
        ops.append(f"({_escape(line)}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1", errors="replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode() + b"0000000000 65535 f \n"
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


def invoice_pdf(inv: Invoice) -> bytes:
    lines = [
        f"Faktura / Invoice {inv.invoice_number}",
        "",
        f"Kundenummer / Customer: {inv.customer_number}",
        f"Fakturadato / Invoice date: {inv.invoice_date:%d-%m-%Y}",
        f"Forfaldsdato / Due date: {inv.due_date:%d-%m-%Y}",
        f"Belob / Amount due: {_kroner(inv.outstanding)}",
    ]
    if inv.debtor_name:
        lines += ["", inv.debtor_name, *(str(x) for x in (inv.debtor_address or ()))]
    lines += ["", "Betales via Betalingsservice."]
    return render(lines)
