"""Classify files from Nets by content, and read transmission/delivery receipts (§1.7).

Names are unreliable (``D…BS1`` became ``D….BS1``; validation files are routed by
a configurable ``*T.AB`` pattern that no public source confirms), so the daemon
routes by :func:`classify` on the first bytes. ``PBCNET40`` is the transmission
receipt for a file we sent; ``PBCNET41`` is the delivery validation receipt whose
box says how many amount records (BELØBSANTAL) Nets accepted: the check that
"PBS processed as many invoices as we generated" (seed 003).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from formats.errors import FormatError, Issue, IssueCode, IssueList, Severity
from formats.pbs.fields import RECORD_LENGTH
from formats.pbs.reader import BinaryLineSource, iter_lines, unbroken

#: bytes of a file that :func:`classify` needs
HEAD_BYTES = 1024


class FileKind(StrEnum):
    DELIVERY_0602 = "0602"
    DELIVERY_0603 = "0603"
    DELIVERY_0601 = "0601"  #: a collection delivery, creditor → Nets (what we write, never what we receive)
    DELIVERY_OTHER = "delivery"  #: a BS002 of another type (0605, 0621 …)
    TRANSMISSION_RECEIPT = "transmission_receipt"  #: PBCNET40
    DELIVERY_RECEIPT = "delivery_receipt"  #: PBCNET41 with the delivery box
    CONTROL_LIST = "control_list"  #: printed list, "1SYSTEM : BS1"
    XML = "xml"
    UNKNOWN = "unknown"

    @property
    def is_receipt(self) -> bool:
        return self in (FileKind.TRANSMISSION_RECEIPT, FileKind.DELIVERY_RECEIPT)


def classify(head: bytes) -> FileKind:
    """What a file is, from its first bytes (:data:`HEAD_BYTES` is plenty)."""
    text = head.decode("latin-1").lstrip("\ufeff\xef\xbb\xbf")
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        return FileKind.UNKNOWN
    if unbroken(lines[0].encode("latin-1")):
        lines = [lines[0][i:i + RECORD_LENGTH] for i in range(0, len(lines[0]), RECORD_LENGTH)] + lines[1:]
    first = lines[0].lstrip()
    if first.startswith("<"):
        return FileKind.XML
    if first.startswith("PBCNET"):
        code = first[6:8]
        if code == "40":
            return FileKind.TRANSMISSION_RECEIPT
        if code == "41":
            return FileKind.DELIVERY_RECEIPT
        if len(lines) > 1 and lines[1].startswith("BS002"):
            first = lines[1]
        else:
            return FileKind.UNKNOWN
    if first.startswith("BS002"):
        dtype = first[16:20]
        if dtype == "0602":
            return FileKind.DELIVERY_0602
        if dtype == "0603":
            return FileKind.DELIVERY_0603
        if dtype == "0601":
            return FileKind.DELIVERY_0601
        return FileKind.DELIVERY_OTHER
    if first.replace(" ", "").startswith("1SYSTEM:"):
        return FileKind.CONTROL_LIST
    return FileKind.UNKNOWN


@dataclass(frozen=True, slots=True)
class Receipt:
    """A PBCNET40/41 receipt. ``accepted_count`` is BELØBSANTAL from the 41 box."""

    code: str
    system_code: str
    identifier: str
    timestamp: dt.datetime | None
    status: str  #: BS00 / PN00 / OS00 seen: "00" means accepted
    status_text: str
    delivery_number: str | None = None  #: TILDELT LEVERANCE NR
    record_count: int | None = None  #: ANTAL RECORDS
    sections: int | None = None
    text_count: int | None = None
    accepted_count: int | None = None
    amount_total: int | None = None  #: øre

    @property
    def kind(self) -> FileKind:
        return FileKind.DELIVERY_RECEIPT if self.code == "41" else FileKind.TRANSMISSION_RECEIPT

    @property
    def accepted(self) -> bool:
        return self.status.endswith("00")


_HEAD = re.compile(r"^PBCNET(4[01])(\w{3})(.*?)(\d{12})\+(\w{4})\s?(.*)$")
_DELIVERY_NO = re.compile(r"TILDELT\s+LEVERANCE\s+NR\.?:?\s*(\d+)")
_RECORDS = re.compile(r"ANTAL\s+RECORDS\.?:?\s*(\d+)")
_BOX = re.compile(r"^LEVERANCE\s+(\d[\d.]*)\s+(\d[\d.]*)\s+(\d[\d.]*)\s+(\d[\d.]*,\d{2})\b")


def _number(text: str) -> int:
    return int(text.replace(".", ""))


def _ore(text: str) -> int:
    kroner, ore = text.split(",")
    return _number(kroner) * 100 + int(ore)


def _box_lines(stream: BinaryLineSource, issues: IssueList) -> Iterator[tuple[int, str]]:
    for line in iter_lines(stream, issues):
        yield line.number, line.text.strip().strip("*").strip()


def parse_receipt(stream: BinaryLineSource) -> Receipt:
    """Read a PBCNET40/41 receipt; raises :class:`FormatError` when it is not one.

    The box is matched tolerantly (no public layout); a 41 receipt without a
    readable ``LEVERANCE`` figures line has ``accepted_count`` None and a warning.
    """
    issues = IssueList()
    lines = _box_lines(stream, issues)
    first = next(lines, None)
    head = _HEAD.match(first[1]) if first else None
    if first is None or head is None:
        raise FormatError.single(
            IssueCode.WRONG_FILE_TYPE, "not a PBCNET40/41 receipt", line=1, record="PBCNET",
            field="code", columns=(1, 8), value=(first[1][:8] if first else ""),
            expected="PBCNET40|PBCNET41")
    code, system, ident, stamp, status, text = head.groups()
    try:
        timestamp: dt.datetime | None = dt.datetime.strptime(stamp, "%y%m%d%H%M%S")
    except ValueError:
        timestamp = None
    delivery_number: str | None = None
    record_count = sections = text_count = accepted_count = amount_total = None
    for _, body in lines:
        if m := _DELIVERY_NO.search(body):
            delivery_number = m.group(1)
        elif m := _RECORDS.search(body):
            record_count = int(m.group(1))
        elif m := _BOX.match(body):
            sections, text_count = _number(m.group(1)), _number(m.group(2))
            accepted_count, amount_total = _number(m.group(3)), _ore(m.group(4))
    issues.raise_if_errors("receipt")
    receipt = Receipt(code=code, system_code=system, identifier=ident.strip(),
                      timestamp=timestamp, status=status, status_text=text.strip(),
                      delivery_number=delivery_number, record_count=record_count,
                      sections=sections, text_count=text_count, accepted_count=accepted_count,
                      amount_total=amount_total)
    return receipt


def receipt_warnings(receipt: Receipt) -> list[Issue]:
    """What an operator should look at: a rejection, or a 41 without its count."""
    out: list[Issue] = []
    if not receipt.accepted:
        out.append(Issue(code=IssueCode.REJECTED, reason=f"Nets status {receipt.status}: "
                         f"{receipt.status_text}", line=1, record=f"PBCNET{receipt.code}",
                         field="status", value=receipt.status, severity=Severity.WARNING))
    if receipt.code == "41" and receipt.accepted_count is None:
        out.append(Issue(code=IssueCode.NO_COUNT, reason="delivery receipt without a LEVERANCE figures "
                         "line", record=f"PBCNET{receipt.code}", field="accepted_count",
                         severity=Severity.WARNING))
    return out
