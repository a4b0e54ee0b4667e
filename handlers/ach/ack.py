"""Seed 002 transmission acknowledgment: a normalized XML per loaded return file.

The XML carries the transmission (file name, sha256, size, received time), its
status, one element per batch with counts and totals (cents), and the errors
found while applying it. A configured XSLT (lxml, no file or network access)
can turn it into the partner's format; ``etc/ack.xsl`` is a sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

if TYPE_CHECKING:
    from formats.nacha.records.file_header import FileHeader
    from handlers.base import FileContext

NS = "urn:spoolgate:ach:transmission-ack:1"


@dataclass
class BatchInfo:
    """One batch of a return file as the acknowledgment reports it."""


    number: int
    line: int
    company_name: str
    company_id: str
    sec: str
    payee: str
    entries: int = 0
    debit: int = 0
    credit: int = 0
    returns: int = 0
    prenote_returns: int = 0
    nocs: int = 0
    exceptions: int = 0


def _el(parent: Any, tag: str, text: object | None = None, **attrs: object) -> Any:
    e = etree.SubElement(parent, f"{{{NS}}}{tag}", {k: str(v) for k, v in attrs.items() if v is not None})
    if text is not None:
        e.text = str(text)
    return e


def build_ack(ctx: FileContext, header: FileHeader | None, batches: list[BatchInfo],
              errors: list[tuple[int, str, str, str]], counts: dict[str, int], totals: dict[str, int],
              log_id: int) -> Any:
    root = etree.Element(f"{{{NS}}}TransmissionAcknowledgment", nsmap={None: NS})  # type: ignore[dict-item]
    f = ctx.file
    _el(root, "Transmission", fileName=f.original_name, sha256=f.sha256, size=f.size, ledgerId=f.id,
        channel=ctx.channel, received=f.claimed_at.isoformat(timespec="seconds") if f.claimed_at else None,
        loaded=ctx.now.isoformat(timespec="seconds"))
    _el(root, "Status", "ACCEPTED")
    if header is not None:
        _el(root, "FileHeader", immediateDestination=header.immediate_destination.strip(),
            immediateOrigin=header.immediate_origin.strip(),
            immediateDestinationName=header.immediate_destination_name.strip(),
            immediateOriginName=header.immediate_origin_name.strip(), creationDate=header.file_creation_date,
            fileIdModifier=header.file_id_modifier)
    bs = _el(root, "Batches", count=len(batches))
    for b in batches:
        e = _el(bs, "Batch", number=b.number, companyName=b.company_name, companyId=b.company_id, sec=b.sec,
                payee=b.payee, status="ACCEPTED")
        for tag, v in (("EntryCount", b.entries), ("TotalDebit", b.debit), ("TotalCredit", b.credit),
                       ("Returns", b.returns), ("PrenoteReturns", b.prenote_returns), ("Nocs", b.nocs),
                       ("Exceptions", b.exceptions)):
            _el(e, tag, v)
    t = _el(root, "Totals")
    for k, v in (*counts.items(), *totals.items()):
        _el(t, "Total", v, name=k)
    es = _el(root, "Errors", count=len(errors))
    for line, trace, code, reason in errors[:10_000]:
        _el(es, "Error", reason, line=line, trace=trace, code=code or None)
    _el(root, "ExceptionReport", logId=log_id)
    return root


def render(root: Any, xslt: Path | None) -> bytes:
    if xslt is None:
        out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
        return out
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    transform = etree.XSLT(etree.parse(str(xslt), parser), access_control=etree.XSLTAccessControl.DENY_ALL)  # type: ignore[attr-defined]
    return bytes(transform(etree.ElementTree(root)))
