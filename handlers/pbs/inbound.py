"""``pbs.inbound``: files from Nets, routed by content (never by name).

- 0602 payments → one ``ocr_header`` per section and one ``ocr_line`` (status
  new) per payment;
- 0603 mandates → ``pbs_0603_result`` rows, and the agreements updated in the
  same transaction. Events apply in the order of the deliveries' own creation
  dates and numbers, not of arrival: an event from a delivery older than the one
  that last decided an agreement is recorded as ``superseded`` and changes
  nothing. A full list (section 0210, EIK: 0219) ends the creditor's active
  agreements it does not name ("not in full list"), unless a newer delivery
  changed them;
- PBCNET40/41 receipts → the ``pbs_delivery`` we sent is confirmed, or marked
  and an operator alert queued when Nets accepted another number of invoices.

Payment lines and agreements get seed 004 history rows. A delivery whose BS002
delivery number was loaded before is rejected whole. Any
error rolls the file back and sends it to error/ (the ``pbs.alerts`` job mails
the alert group about it).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from formats.errors import Issue, IssueCode
from formats.pbs import GUIDE_EXAMPLES, STRICT, FileKind, Policy, classify, parse_receipt
from formats.pbs.codes import (
    DELIVERY_0602,
    DELIVERY_0603,
    EIK_AGREEMENT,
    SECTION_ACTIVE,
    SECTION_EIK_ACTIVE,
    MandateEventKind,
)
from formats.pbs.delivery import (
    DeliveryEnd,
    DeliveryReader,
    DeliveryStart,
    MandateEvent,
    Payment,
    SectionEnd,
    SectionStart,
    SlipInfo,
)
from formats.pbs.receipts import HEAD_BYTES, Receipt, receipt_warnings
from handlers.ach.audit import Actor, audit_ids, audit_where
from handlers.base import FileContext, Handler, HandlerResult, Rejected
from handlers.pbs.settings import pbs_settings
from handlers.stats import analyze_if_stale
from store.bulk import insert_dicts
from store.models.ach import AuditOp
from store.models.pbs import (
    AgreementStatus,
    DeliveryState,
    LineStatus,
    OcrHeader,
    OcrLine,
    Pbs0603Result,
    PbsAgreement,
    PbsDelivery,
    PbsReceivedDelivery,
)
from store.unit import UnitSession

OPTIONS = {"policy", "keep_control_lists"}
POLICIES: dict[str, Policy] = {"strict": STRICT, "guide_examples": GUIDE_EXAMPLES}
#: flush loaded rows in batches so memory stays bounded on large deliveries
FLUSH_EVERY = 500
NOT_IN_FULL_LIST = "not in full list"
FULL_LISTS = (SECTION_ACTIVE, SECTION_EIK_ACTIVE)

#: a delivery this large changes ocr_line enough to refresh its planner statistics
BULK_LINES = 10_000


class PbsInboundHandler(Handler):
    name = "pbs.inbound"
    accepts = ("*",)
    description = "0602 payments, 0603 mandates and PBCNET40/41 receipts from Nets, by content"

    known_options = OPTIONS

    def check_options(self) -> list[str]:
        problems = super().check_options()
        if self.options.get("policy", "strict") not in POLICIES:
            problems.append(f"policy must be one of {', '.join(POLICIES)}")
        return problems

    @property
    def policy(self) -> Policy:
        return POLICIES[str(self.options.get("policy", "strict"))]

    def handle(self, ctx: FileContext, stream: BinaryIO) -> HandlerResult:
        head = stream.read(HEAD_BYTES)
        stream.seek(0)
        kind = classify(head)
        if kind in (FileKind.DELIVERY_0602, FileKind.DELIVERY_0603, FileKind.DELIVERY_0601,
                    FileKind.DELIVERY_OTHER):
            return _Loader(ctx, self.policy).load(stream)
        if kind.is_receipt:
            return _receipt(ctx, parse_receipt(stream))
        if kind is FileKind.CONTROL_LIST and self.options.get("keep_control_lists", True):
            return HandlerResult(counts={"control_lists": 1}, summary={"kind": str(kind)})
        raise Rejected(f"not a file this channel reads: classified as {kind} (expected a 0602/0603 "
                       "delivery or a PBCNET40/41 receipt)", [Issue(
                           code=IssueCode.WRONG_FILE_TYPE, reason=f"classified as {kind}", line=1,
                           record="(first line)", field="record_type", columns=(1, 8), value=head[:8].decode("latin-1"),
                           expected="BS002|PBCNET30|PBCNET40|PBCNET41")], code=IssueCode.WRONG_FILE_TYPE)


class _Loader:
    """Streams one delivery into the session; the reader raises at the end on any error."""

    def __init__(self, ctx: FileContext, policy: Policy) -> None:
        self.ctx = ctx
        self.s: UnitSession = ctx.session
        self.policy = policy
        self.delivery: PbsReceivedDelivery | None = None
        self.header: OcrHeader | None = None
        self.section = ""
        self.counts: dict[str, int] = {}
        self.totals: dict[str, int] = {}
        self.pending = 0
        self.actor = Actor.for_file(ctx)
        self.section_pbs = ""
        #: (agreement number, customer number) named by the full lists of this delivery, per PBS number
        self.listed: dict[str, set[tuple[str, str]]] = {}
        #: agreement id → (audit operation, reason) waiting for its history row
        self.audit_pending: dict[int, tuple[AuditOp, str]] = {}
        #: agreements a change section (0212) of this delivery decided: its full list does not end them
        self.changed_here: set[int] = set()
        self.lines: list[dict[str, Any]] = []

    def _count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def _total(self, key: str, amount: int) -> None:
        self.totals[key] = self.totals.get(key, 0) + amount

    def _added(self) -> None:
        self.pending += 1
        if self.pending >= FLUSH_EVERY:
            self._flush()

    def _flush(self) -> None:
        """OCR lines in bulk (no ORM object per line, no ids read back)."""
        self.s.flush()
        if self.lines:
            insert_dicts(self.s, OcrLine.__tablename__, self.lines)
            self.lines = []
        self.pending = 0

    def load(self, stream: BinaryIO) -> HandlerResult:
        reader = DeliveryReader(stream, policy=self.policy, accept=(DELIVERY_0602, DELIVERY_0603))
        for event in reader:
            if isinstance(event, DeliveryStart):
                self._start(event)
            elif isinstance(event, SectionStart):
                self._section(event)
            elif isinstance(event, Payment):
                self._payment(event)
            elif isinstance(event, MandateEvent):
                self._mandate(event)
            elif isinstance(event, SlipInfo):
                self._slip_info(event)
            elif isinstance(event, SectionEnd):
                self._section_end(event)
            elif isinstance(event, DeliveryEnd):
                pass
        self._flush()
        self._flush_audit()
        if self.counts.get("ocr_lines", 0) >= BULK_LINES:
            analyze_if_stale(self.s, (OcrLine.__tablename__,))  # settle reads them next
        assert self.delivery is not None
        self.delivery.warnings = len(reader.warnings)
        return HandlerResult(counts=self.counts, totals=self.totals, warnings=reader.warnings,
                             summary={"delivery_type": self.delivery.delivery_type,
                                      "delivery_number": self.delivery.delivery_number,
                                      "data_supplier": self.delivery.data_supplier})

    def _start(self, start: DeliveryStart) -> None:
        earlier = self.s.scalar(select(PbsReceivedDelivery).where(
            PbsReceivedDelivery.data_supplier == start.data_supplier,
            PbsReceivedDelivery.delivery_type == start.delivery_type,
            PbsReceivedDelivery.delivery_number == start.delivery_number))
        if earlier is not None:
            raise _duplicate(start, f"file {earlier.spool_file_id} on {earlier.received_at:%Y-%m-%d %H:%M} UTC")
        self.delivery = PbsReceivedDelivery(
            data_supplier=start.data_supplier, system_code=start.system_code, delivery_type=start.delivery_type,
            delivery_number=start.delivery_number, created=start.created, spool_file_id=self.ctx.file.id,
            received_at=self.ctx.now)
        self.s.add(self.delivery)
        try:
            self.s.flush()
        except IntegrityError:
            # Another daemon loaded the same delivery a moment ago (the unique key decided).
            raise _duplicate(start, "another file just now") from None
        self._count("deliveries")

    @property
    def as_of(self) -> tuple[dt.date, str]:
        """This delivery's place in Nets' sequence: its creation date, then its number."""
        assert self.delivery is not None
        return (self.delivery.created or self.ctx.now.date(), self.delivery.delivery_number)

    def _older(self, agreement: PbsAgreement) -> bool:
        """True when a newer delivery already decided the agreement (this one arrived late)."""
        if agreement.as_of_date is None:
            return False
        return self.as_of < (agreement.as_of_date, agreement.as_of_delivery or "")

    def _section(self, sec: SectionStart) -> None:
        assert self.delivery is not None
        self.section = sec.section
        self.section_pbs = sec.pbs_number
        self._count(f"section_{sec.section}")
        if self.delivery.delivery_type != DELIVERY_0602:
            return
        self.header = OcrHeader(delivery_id=self.delivery.id, spool_file_id=self.ctx.file.id,
                                delivery_number=self.delivery.delivery_number, section=sec.section,
                                pbs_number=sec.pbs_number, debtor_group=sec.debtor_group, created=sec.date)
        self.s.add(self.header)
        self.s.flush()

    def _section_end(self, end: SectionEnd) -> None:
        if self.header is not None:
            self.header.control_amount = end.amount
            self._flush()
            audit_where(self.s, OcrLine, OcrLine.header_id == self.header.id, AuditOp.CREATE, self.actor,
                        "loaded from 0602")
        self.header = None
        if self.section in FULL_LISTS and self.delivery is not None \
                and self.delivery.delivery_type == DELIVERY_0603:
            self._end_unlisted(self.section, self.section_pbs)

    def _end_unlisted(self, section: str, pbs_number: str) -> None:
        """Seed 003 full list: the creditor's active agreements it does not name have ended."""
        listed = self.listed.get(pbs_number, set())
        eik = PbsAgreement.agreement_number == EIK_AGREEMENT
        query = select(PbsAgreement).where(PbsAgreement.pbs_number == pbs_number,
                                           PbsAgreement.status == AgreementStatus.ACTIVE,
                                           eik if section == SECTION_EIK_ACTIVE else ~eik)
        day, number = self.as_of
        for agreement in list(self.s.scalars(query)):
            if (agreement.agreement_number, agreement.customer_number) in listed or self._older(agreement) \
                    or agreement.id in self.changed_here:
                continue
            self._audit_soon(agreement)
            agreement.status = AgreementStatus.CANCELLED
            agreement.cancel_reason = NOT_IN_FULL_LIST
            agreement.end_date = day
            agreement.updated_at = self.ctx.now
            agreement.as_of_date, agreement.as_of_delivery = day, number
            self.audit_pending[agreement.id] = (AuditOp.UPDATE, f"0603 {section}: {NOT_IN_FULL_LIST}")
            self._count("agreements_not_in_full_list")

    def _audit_soon(self, agreement: PbsAgreement) -> None:
        """An agreement changed twice in one delivery: write the first change's row before the second."""
        if agreement.id in self.audit_pending:
            self._flush_audit()

    def _flush_audit(self) -> None:
        if not self.audit_pending:
            return
        self.s.flush()
        groups: dict[tuple[AuditOp, str], list[int]] = {}
        for agreement_id, key in self.audit_pending.items():
            groups.setdefault(key, []).append(agreement_id)
        for (op, reason), ids in groups.items():
            audit_ids(self.s, PbsAgreement, ids, op, self.actor, reason)
        self.audit_pending.clear()

    def _payment(self, p: Payment) -> None:
        assert self.header is not None
        self.lines.append(dict(
            header_id=self.header.id, line_no=p.line, section=p.section, transaction_code=p.transaction_code,
            kind=str(p.kind), customer_number=p.customer_number, agreement_number=p.agreement_number,
            card_type=p.card_type, payment_reference=p.payment_reference.strip(),
            archive_reference=p.archive_reference, due_date=p.due_date, payment_date=p.payment_date,
            booking_date=p.booking_date, requested_amount=p.requested_amount, paid_amount=p.paid_amount,
            total_amount=p.received_amount, fee_amount=p.fee_amount, created_at=self.ctx.now,
            status=LineStatus.NEW, attempts=0))
        self.header.line_count += 1
        self.header.total_amount += p.received_amount
        self._count("ocr_lines")
        self._count(f"payments_{p.kind}")
        self._total("received", p.received_amount)
        self._added()

    def _result(self, **values: Any) -> Pbs0603Result:
        assert self.delivery is not None
        row = Pbs0603Result(delivery_id=self.delivery.id, spool_file_id=self.ctx.file.id,
                            section=self.section, **values)
        self.s.add(row)
        self._count("results_0603")
        self._added()
        return row

    def _mandate(self, e: MandateEvent) -> None:
        if self.section in FULL_LISTS:
            self.listed.setdefault(e.pbs_number, set()).add((e.agreement_number, e.customer_number))
        agreement = self.s.scalar(select(PbsAgreement).where(
            PbsAgreement.pbs_number == e.pbs_number, PbsAgreement.agreement_number == e.agreement_number,
            PbsAgreement.customer_number == e.customer_number))
        kind = e.kind
        status = "applied"
        if agreement is None:
            agreement = PbsAgreement(pbs_number=e.pbs_number, agreement_number=e.agreement_number,
                                     customer_number=e.customer_number, debtor_group=e.debtor_group)
            self.s.add(agreement)
            self._count("agreements_new")
            op = AuditOp.CREATE
        else:
            op = AuditOp.UPDATE
            self._audit_soon(agreement)
        if op is AuditOp.UPDATE and self._older(agreement):
            status = "superseded"
            self._count("agreements_superseded")
        else:
            before = _state(agreement)
            agreement.debtor_group = e.debtor_group
            if kind.is_cancellation:
                agreement.status = AgreementStatus.CANCELLED
                agreement.cancel_reason = str(kind)
                agreement.end_date = e.end_date
                self._count("agreements_cancelled")
            else:
                agreement.status = AgreementStatus.ACTIVE
                agreement.cancel_reason = None
                agreement.start_date = e.start_date or agreement.start_date
                agreement.end_date = e.end_date
                self._count("agreements_active" if kind is MandateEventKind.ACTIVE else "agreements_subscribed")
            agreement.as_of_date, agreement.as_of_delivery = self.as_of
            if op is AuditOp.CREATE or _state(agreement) != before:
                agreement.updated_at = self.ctx.now
                self.s.flush()
                self.audit_pending[agreement.id] = (op, f"0603 {self.section} {e.transaction_code} {kind}")
        self.s.flush()
        if self.section not in FULL_LISTS and status == "applied":
            self.changed_here.add(agreement.id)
        self._result(line_no=e.line, transaction_code=e.transaction_code, kind=str(kind), pbs_number=e.pbs_number,
                     debtor_group=e.debtor_group, customer_number=e.customer_number,
                     agreement_number=e.agreement_number, start_date=e.start_date, end_date=e.end_date,
                     status=status, agreement_id=agreement.id)

    def _slip_info(self, info: SlipInfo) -> None:
        self._result(line_no=info.line, transaction_code=info.transaction_code, kind="slip_info",
                     pbs_number=info.pbs_number, debtor_group=info.debtor_group,
                     customer_number=info.customer_number, card_type=info.card_type,
                     payment_id=info.payment_id, amount=info.amount, start_date=info.due_date,
                     reference=info.reference.strip(), status="recorded")


def _state(a: PbsAgreement) -> tuple[Any, ...]:
    return (a.debtor_group, a.status, a.start_date, a.end_date, a.cancel_reason)


def _duplicate(start: DeliveryStart, where: str) -> Rejected:
    return Rejected(
        f"duplicate delivery: {start.delivery_type} delivery number {start.delivery_number} from data supplier "
        f"{start.data_supplier} was already loaded from {where}; nothing loaded",
        [Issue(code=IssueCode.DUPLICATE_DELIVERY, reason="delivery number already loaded", line=start.line,
               record="BS002", field="delivery_number", columns=(21, 30), value=start.delivery_number)],
        code=IssueCode.DUPLICATE_DELIVERY)


_DIGITS = re.compile(r"(\d+)$")


def _find_delivery(s: UnitSession, receipt: Receipt) -> PbsDelivery | None:
    ident = receipt.identifier
    found = s.scalar(select(PbsDelivery).where(PbsDelivery.identifier == ident).with_for_update())
    if found is None and (m := _DIGITS.search(ident)):
        found = s.scalar(select(PbsDelivery).where(PbsDelivery.id == int(m.group(1))).with_for_update())
    return found


def _receipt(ctx: FileContext, receipt: Receipt) -> HandlerResult:
    """Seed 003: "whether PBS processed the same number of invoices as generated"."""
    s = ctx.session
    delivery = _find_delivery(s, receipt)
    if delivery is None:
        raise Rejected(f"receipt PBCNET{receipt.code} for {receipt.identifier!r}: no delivery of ours has that "
                       "identifier", [Issue(code=IssueCode.UNKNOWN_DELIVERY,
                                            reason="no pbs_delivery with this identifier",
                                            line=1, record=f"PBCNET{receipt.code}", field="identifier",
                                            columns=(12, 28), value=receipt.identifier)],
                       code=IssueCode.UNKNOWN_DELIVERY)
    warnings = receipt_warnings(receipt)
    delivery.receipt_file_id = ctx.file.id
    delivery.receipt_at = ctx.now
    delivery.receipt_status = receipt.status
    summary: dict[str, Any] = {"receipt": f"PBCNET{receipt.code}", "delivery_id": delivery.id,
                               "identifier": delivery.identifier, "status": receipt.status}
    problem: str | None = None
    if not receipt.accepted:
        delivery.state = DeliveryState.REJECTED
        problem = f"Nets rejected delivery {delivery.identifier}: status {receipt.status} {receipt.status_text}"
    elif receipt.code == "40":
        if delivery.state in (DeliveryState.PACKAGED, DeliveryState.SENT):
            delivery.state = DeliveryState.TRANSMITTED
    else:
        delivery.receipt_delivery_number = receipt.delivery_number
        delivery.accepted_count = receipt.accepted_count
        delivery.accepted_amount = receipt.amount_total
        summary.update(accepted_count=receipt.accepted_count, sent_count=delivery.invoice_count)
        if receipt.accepted_count is None:
            delivery.state = DeliveryState.MISMATCH
            problem = (f"the delivery receipt for {delivery.identifier} has no readable LEVERANCE figures line: "
                       f"cannot check that Nets accepted all {delivery.invoice_count} invoice(s)")
        elif receipt.accepted_count != delivery.invoice_count:
            delivery.state = DeliveryState.MISMATCH
            problem = (f"Nets accepted {receipt.accepted_count} invoice(s) of delivery {delivery.identifier}, "
                       f"we sent {delivery.invoice_count}")
        else:
            delivery.state = DeliveryState.CONFIRMED
    delivery.problem = problem
    if problem is not None:
        summary["problem"] = problem
        recipients = pbs_settings(ctx.settings).alert_group(ctx.settings)
        ctx.unit.notify(list(recipients), f"PBS alert: {problem}",
                        f"{problem}.\n\nReceipt file: {ctx.file.original_name} (ledger id {ctx.file.id})\n"
                        f"Delivery: id {delivery.id}, identifier {delivery.identifier}, XML {delivery.xml_name}, "
                        f"zip {delivery.zip_name}, {delivery.invoice_count} invoice(s), "
                        f"{delivery.total_amount} øre.\n", kind="pbs.receipt", ref=str(delivery.id))
    state = "problem" if problem else "ok"
    return HandlerResult(counts={"receipts": 1, f"receipts_{state}": 1}, summary=summary, warnings=warnings)
