"""One-call validation of any file from Nets, for the CLI and dry runs.

Classifies by content, then streams a 0602/0603 delivery through
:class:`~formats.pbs.delivery.DeliveryReader` (bounded memory), reads a 0601
collection delivery (the ones we write) with its strict reader, or reads a
receipt, and returns a report instead of raising.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from formats.errors import FormatError, Issue, IssueCode, Severity
from formats.pbs.delivery import DeliveryReader, Payment
from formats.pbs.fields import STRICT, Policy
from formats.pbs.reader import BinaryLineSource
from formats.pbs.receipts import HEAD_BYTES, FileKind, classify, parse_receipt, receipt_warnings
from formats.pbs.records.bs012 import SectionStart
from formats.pbs.records.bs042_mandate import MandateEvent
from formats.pbs.records.bs042_slip_info import SlipInfo
from formats.pbs.records.bs092 import SectionEnd
from formats.pbs.records.bs992 import DeliveryEnd


class _Prefixed:
    """Replays the classified head before the rest of a stream."""

    def __init__(self, head: bytes, rest: BinaryLineSource) -> None:
        self._head = head
        self._rest = rest

    def readline(self, size: int = -1, /) -> bytes:
        if self._head:
            nl = self._head.find(b"\n")
            if nl >= 0 and (size < 0 or nl < size):
                line, self._head = self._head[:nl + 1], self._head[nl + 1:]
                return line
            take = len(self._head) if size < 0 else min(size, len(self._head))
            chunk, self._head = self._head[:take], self._head[take:]
            if chunk.endswith(b"\n") or (size >= 0 and len(chunk) >= size):
                return chunk
            return chunk + self._rest.readline(-1 if size < 0 else size - len(chunk))
        return self._rest.readline(size)


def issue_dict(i: Issue) -> dict[str, Any]:
    return {"line": i.line, "record": i.record, "field": i.field,
            "columns": list(i.columns) if i.columns else None, "reason": i.reason,
            "value": i.value, "code": i.code, "expected": i.expected, "found": i.found}


@dataclass
class ValidationReport:
    kind: FileKind
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    delivery_type: str | None = None
    delivery_number: str | None = None
    data_supplier: str | None = None
    sections: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    amounts: dict[str, int] = field(default_factory=dict)
    receipt: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "kind": str(self.kind), "delivery_type": self.delivery_type,
            "delivery_number": self.delivery_number, "data_supplier": self.data_supplier,
            "sections": self.sections, "counts": self.counts, "amounts": self.amounts,
            "receipt": self.receipt,
            "warnings": [issue_dict(i) for i in self.warnings],
            "errors": [issue_dict(i) for i in self.errors],
        }


def validate(stream: Any, *, policy: Policy = STRICT) -> ValidationReport:
    """Validate a binary stream: a delivery, a receipt, or report what it is not."""
    head = stream.read(HEAD_BYTES)
    kind = classify(head)
    source = _Prefixed(head, stream)
    if kind in (FileKind.DELIVERY_0602, FileKind.DELIVERY_0603, FileKind.DELIVERY_OTHER):
        return _validate_delivery(source, kind, policy)
    if kind is FileKind.DELIVERY_0601:
        return _validate_0601(source, policy)
    report = ValidationReport(kind)
    if kind.is_receipt:
        try:
            receipt = parse_receipt(source)
        except FormatError as exc:
            report.errors.extend(exc.issues)
            return report
        report.receipt = {
            "code": receipt.code, "status": receipt.status, "status_text": receipt.status_text,
            "accepted": receipt.accepted, "accepted_count": receipt.accepted_count,
            "delivery_number": receipt.delivery_number, "record_count": receipt.record_count,
            "amount_total": receipt.amount_total,
        }
        report.warnings.extend(receipt_warnings(receipt))
        return report
    report.errors.append(Issue(code=IssueCode.WRONG_FILE_TYPE, reason=f"not a 0601/0602/0603 delivery or a "
                               f"PBCNET receipt ({kind})", line=1, record=head[:5].decode(
                                   "latin-1"), field="record_type", columns=(1, 5),
                               expected="BS002|PBCNET30|PBCNET40|PBCNET41"))
    return report


def _validate_delivery(source: BinaryLineSource, kind: FileKind, policy: Policy
                       ) -> ValidationReport:
    report = ValidationReport(kind)
    reader = DeliveryReader(source, policy=policy)
    counts = {"payments": 0, "mandate_events": 0, "slip_infos": 0, "sections": 0}
    paid = received = 0
    current: dict[str, Any] | None = None
    try:
        for event in reader:
            if isinstance(event, SectionStart):
                counts["sections"] += 1
                current = {"section": event.section, "pbs_number": event.pbs_number,
                           "records_042": 0, "paid_amount": 0, "received_amount": 0}
                report.sections.append(current)
            elif isinstance(event, Payment):
                counts["payments"] += 1
                paid += event.paid_amount
                received += event.received_amount
                if current is not None:
                    current["records_042"] += 1
                    current["paid_amount"] += event.paid_amount
                    current["received_amount"] += event.received_amount
            elif isinstance(event, MandateEvent | SlipInfo):
                counts["mandate_events" if isinstance(event, MandateEvent) else "slip_infos"] += 1
                if current is not None:
                    current["records_042"] += 1
            elif isinstance(event, SectionEnd) and current is not None:
                current["control_amount"] = event.amount
            elif isinstance(event, DeliveryEnd):
                report.amounts["control"] = event.amount
    except FormatError:
        pass
    report.errors = reader.errors
    report.warnings = [i for i in reader.issues.issues if i.severity is Severity.WARNING]
    if reader.start is not None:
        report.delivery_type = reader.start.delivery_type
        report.delivery_number = reader.start.delivery_number
        report.data_supplier = reader.start.data_supplier
    report.counts = counts
    report.amounts.update(paid=paid, received=received)
    return report


def _validate_0601(source: BinaryLineSource, policy: Policy) -> ValidationReport:
    from formats.pbs.d0601 import read_0601

    report = ValidationReport(FileKind.DELIVERY_0601, delivery_type="0601")
    try:
        d = read_0601(source, policy=policy)
    except FormatError as exc:
        report.errors = list(exc.issues)
        report.warnings = list(exc.warnings)
        return report
    report.warnings = list(d.warnings)
    report.delivery_number, report.data_supplier = d.delivery_number, d.data_supplier
    collected = paid_out = 0
    for s in d.sections:
        amounts = [c.amount for c in s.collections]
        report.sections.append({"section": s.section, "pbs_number": s.pbs_number, "records_042": len(amounts),
                                "net_amount": sum(amounts)})
        collected += sum(a for a in amounts if a > 0)
        paid_out -= sum(a for a in amounts if a < 0)
    report.counts = {"sections": len(d.sections), "collections": sum(len(s.collections) for s in d.sections)}
    report.amounts = {"collected": collected, "paid_out": paid_out, "net": collected - paid_out}
    return report
