"""``pbs.settle`` (seed 003's PBS Invoice Settle Engine): OCR lines → invoice payments.

Lines ``new`` or ``error`` are matched to the invoice whose number is the
payment reference. A completed payment is booked on the invoice (up to its
outstanding amount); money above it, or a payment for an invoice already paid,
is surplus on the customer's account with the invoice number recorded, for the
reallocation engine. No invoice → the line is ``error`` with the reason and is
tried again next run. Rejections and cancellations moved no money (ignored).

A charge-back (0239 automatic, 0299 slip) reverses what settle did for the
payment it takes back: the invoice is outstanding again, the payment line is
``charged_back``, and an operator alert is queued. A charge-back of a payment
never received is an ``exception`` with the reason (alerted, not retried).
Every line changed gets a seed 004 history row. Booking dates are Danish bank days.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from formats.pbs.codes import PaymentKind
from handlers.ach.audit import Actor, audit_ids
from handlers.jobs import Job, JobContext, JobResult
from handlers.pbs.settings import pbs_settings
from handlers.stats import analyze_if_stale
from store.behind import WriteBehind
from store.bulk import insert_dicts, one_of, update_rows
from store.calendars import Calendar, calendar
from store.models.ach import AuditOp
from store.models.pbs import Invoice, InvoicePayment, LineStatus, OcrLine, PaymentSurplus
from store.session import UnitSession
from store.unit import UnitOfWork, Work

OPTIONS = {"batch"}
#: what settling changes on a line and on an invoice, written per batch in one statement each
LINE_COLUMNS = ("status", "status_reason", "attempts", "invoice_id", "settled_at", "reverses_line_id")
INVOICE_COLUMNS = ("paid_amount",)
SURPLUS_OPEN = "open"
SURPLUS_REVERSED = "reversed"


@dataclass
class _Batch:
    """What one unit of work changed: invoice payments, history rows and alerts are written per batch."""

    changed: dict[str, list[int]] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)
    #: invoice_payment rows not yet written, in booking order
    payments: list[dict[str, Any]] = field(default_factory=list)
    #: the lines and invoices changed, by id
    lines: dict[int, OcrLine] = field(default_factory=dict)
    invoices: dict[int, Invoice] = field(default_factory=dict)
    #: returns once the batches before this one are committed
    settled_before: Callable[[], None] = field(default=lambda: None)

    def mark(self, outcome: str, line: OcrLine) -> None:
        self.changed.setdefault(outcome, []).append(line.id)
        self.lines[line.id] = line

    def book(self, line: OcrLine, invoice: Invoice, amount: int, booked_on: dt.date,
             job_name: str, now: dt.datetime) -> None:
        """A payment on the invoice (its ``paid_amount`` changes with it)."""
        self.invoices[invoice.id] = invoice
        self.payments.append({"invoice_id": invoice.id, "ocr_line_id": line.id, "amount": amount,
                              "paid_on": line.payment_date, "booked_on": booked_on, "job_name": job_name,
                              "created_at": now})

    def write_payments(self, s: UnitSession) -> None:
        """One statement for the batch's payments (no ORM object per row; COPY on PostgreSQL)."""
        insert_dicts(s, InvoicePayment.__tablename__, self.payments)
        self.payments = []


class SettleJob(Job):
    kind = "pbs.settle"
    description = "match PBS OCR lines to outstanding invoices and book the payments"
    short_task = "SettleTsk"

    known_options = OPTIONS

    def run(self, ctx: JobContext) -> JobResult:
        batch = int(self.options.get("batch", 500))
        cal = calendar("dk-bank")
        actor = Actor.for_job(self, ctx)
        counts: dict[str, int] = {}
        last_id = 0
        with ctx.unit() as uow:  # lines and invoices arrive in bulk: plans need their statistics
            analyze_if_stale(uow.session, (OcrLine.__tablename__, Invoice.__tablename__))
        # PostgreSQL: batch N's writes and commit run behind while batch N+1 is read and decided
        with WriteBehind(enabled=not ctx.db.is_sqlite) as behind:
            while True:
                unit = ctx.unit()
                uow = unit.__enter__()
                try:
                    lines, done = self._decide_batch(uow.session, last_id, batch, ctx, cal, counts, behind)
                    behind.wait()  # the previous batch's error, if any, while this unit is still ours to close
                except BaseException as exc:
                    unit.__exit__(type(exc), exc, exc.__traceback__)
                    raise
                # read before the commit behind expires the batch's objects
                more, last_id = len(lines) == batch, (lines[-1].id if lines else last_id)
                behind.submit(functools.partial(_finish, unit, uow, done, actor, ctx))
                if not more:
                    break
        if not counts:
            return JobResult(outcome="noop", message="no OCR lines to settle")
        return JobResult(counts=counts, message=", ".join(f"{k} {v}" for k, v in sorted(counts.items())))

    def _decide_batch(self, s: UnitSession, last_id: int, batch: int, ctx: JobContext, cal: Calendar,
                      counts: dict[str, int], behind: WriteBehind) -> tuple[list[OcrLine], _Batch]:
        """The next batch's lines, locked, and what settling them changes (not yet written).

        The previous batch may still be committing behind: its lines are below ``last_id`` and its
        invoices are locked until it commits (``FOR UPDATE`` then reads what it wrote); a charge-back
        looks at earlier lines and waits for that commit first (``_Batch.settled_before``)."""
        query = (select(OcrLine).where(OcrLine.status.in_([LineStatus.NEW, LineStatus.ERROR]),
                                       OcrLine.id > last_id).order_by(OcrLine.id).limit(batch))
        if not ctx.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        lines = list(s.scalars(query))
        refs = {ln.payment_reference.strip() for ln in lines} - {""}
        invoices: dict[str, Invoice] = {}
        if refs:
            inv_query = select(Invoice).where(one_of(s, Invoice.invoice_number, sorted(refs)))
            if not ctx.db.is_sqlite:
                inv_query = inv_query.with_for_update()
            invoices = {i.invoice_number: i for i in s.scalars(inv_query)}
        done = _Batch(settled_before=behind.wait)
        for line in lines:
            outcome = _settle(s, line, invoices, ctx, cal, self.audit_job_name, done)
            counts[outcome] = counts.get(outcome, 0) + 1
            if outcome in ("settled", "surplus"):
                counts["amount"] = counts.get("amount", 0) + line.total_amount
        return lines, done


def _finish(unit: UnitOfWork, uow: Work, done: _Batch, actor: Actor, ctx: JobContext) -> None:
    """Write the batch and commit its unit (behind the next batch on PostgreSQL)."""
    try:
        _record(uow, done, actor, ctx)
    except BaseException as exc:
        unit.__exit__(type(exc), exc, exc.__traceback__)
        raise
    unit.__exit__(None, None, None)


def _record(uow: Work, done: _Batch, actor: Actor, ctx: JobContext) -> None:
    s = uow.session
    _write_changed(s, OcrLine.__tablename__, list(done.lines.values()), LINE_COLUMNS)
    _write_changed(s, Invoice.__tablename__, list(done.invoices.values()), INVOICE_COLUMNS)
    s.flush()
    done.write_payments(s)
    for outcome, ids in done.changed.items():
        audit_ids(s, OcrLine, ids, AuditOp.UPDATE, actor, f"pbs.settle: {outcome}")
    if done.alerts:
        recipients = pbs_settings(ctx.settings).alert_group(ctx.settings)
        n = len(done.alerts)
        uow.notify(list(recipients), f"PBS alert: {n} charge-back(s) to look at",
                   "\n".join(done.alerts) + "\n", kind="pbs.chargeback", ref=f"job_run:{ctx.run_id}")


def _write_changed(s: UnitSession, table: str, changed: list[OcrLine] | list[Invoice],
                   columns: tuple[str, ...]) -> None:
    """The batch's changed rows in one UPDATE (not one per row at the flush); the objects are then
    clean for the session. Any other column changed is left to the flush."""
    update_rows(s, table, "id", [{"id": o.id, **{c: getattr(o, c) for c in columns}} for o in changed])
    for o in changed:
        for c in columns:
            set_committed_value(o, c, getattr(o, c))


def _booking_day(line: OcrLine, cal: Calendar, today: dt.date) -> dt.date:
    day = line.booking_date or line.payment_date or today
    return cal.next_business_day(day, include=True)


def _settle(s: UnitSession, line: OcrLine, invoices: dict[str, Invoice], ctx: JobContext, cal: Calendar,
            job_name: str, done: _Batch) -> str:
    line.attempts += 1
    outcome = _decide(s, line, invoices, ctx, cal, job_name, done)
    done.mark(outcome, line)
    return outcome


def _decide(s: UnitSession, line: OcrLine, invoices: dict[str, Invoice], ctx: JobContext, cal: Calendar,
            job_name: str, done: _Batch) -> str:
    kind = line.kind
    if kind in (PaymentKind.REJECTED, PaymentKind.CANCELLED) or (kind == PaymentKind.COMPLETED
                                                                  and line.total_amount == 0):
        line.status, line.status_reason = LineStatus.IGNORED, f"{kind}: no money moved"
        return "ignored"
    if kind == PaymentKind.CHARGED_BACK or line.total_amount < 0:
        return _charge_back(s, line, invoices, ctx, cal, job_name, done)
    ref = line.payment_reference.strip()
    invoice = invoices.get(ref)
    if invoice is None:
        line.status = LineStatus.ERROR
        line.status_reason = (f"no invoice with number {ref!r} (payment reference) for customer "
                              f"{line.customer_number}" if ref else "payment reference is empty")
        return "error"
    outstanding = invoice.outstanding
    line.invoice_id = invoice.id
    line.settled_at = ctx.now
    line.status = LineStatus.SETTLED
    if outstanding <= 0:
        _surplus(s, line, invoice, line.total_amount, ctx)
        line.status_reason = (f"invoice {ref} already paid: {line.total_amount} øre recorded as surplus "
                              "on the customer's account")
        return "surplus"
    paid = min(line.total_amount, outstanding)
    done.book(line, invoice, paid, _booking_day(line, cal, ctx.today), job_name, ctx.now)
    invoice.paid_amount += paid
    surplus = line.total_amount - paid
    if surplus > 0:
        _surplus(s, line, invoice, surplus, ctx)
    line.status_reason = f"overpaid by {surplus} øre: surplus recorded" if surplus > 0 else (
        f"partly paid: {outstanding - paid} øre still outstanding" if paid < outstanding else None)
    return "settled"


def _surplus(s: UnitSession, line: OcrLine, invoice: Invoice, amount: int, ctx: JobContext) -> None:
    s.add(PaymentSurplus(ocr_line_id=line.id, invoice_id=invoice.id, invoice_number=invoice.invoice_number,
                         customer_number=line.customer_number, amount=amount, status=SURPLUS_OPEN,
                         created_at=ctx.now))


def _original(s: UnitSession, line: OcrLine, amount: int, ctx: JobContext) -> OcrLine | None:
    """The settled payment a charge-back takes back: same reference and customer, the same amount first."""
    query = (select(OcrLine).where(OcrLine.payment_reference == line.payment_reference,
                                   OcrLine.customer_number == line.customer_number,
                                   OcrLine.status == LineStatus.SETTLED, OcrLine.total_amount > 0,
                                   OcrLine.id != line.id).order_by(OcrLine.id))
    if not ctx.db.is_sqlite:
        query = query.with_for_update()
    candidates = list(s.scalars(query))
    same = [c for c in candidates if c.total_amount == amount]
    return same[0] if same else (candidates[0] if candidates else None)


def _charge_back(s: UnitSession, line: OcrLine, invoices: dict[str, Invoice], ctx: JobContext, cal: Calendar,
                 job_name: str, done: _Batch) -> str:
    amount = -line.total_amount if line.total_amount < 0 else line.paid_amount
    ref = line.payment_reference.strip()
    done.write_payments(s)  # the payment taken back may have been booked earlier in this batch
    done.settled_before()  # ... or in the previous batch, still committing behind this one
    orig = _original(s, line, amount, ctx)
    what = f"charge-back ({line.transaction_code}) of {amount} øre for invoice {ref!r}"
    if orig is None or amount > orig.total_amount:
        line.status = LineStatus.EXCEPTION
        line.status_reason = (f"{what}: no payment for it was received" if orig is None else
                              f"{what}: more than the {orig.total_amount} øre payment it takes back (line {orig.id})")
        line.invoice_id = invoices[ref].id if ref in invoices else None
        done.alerts.append(f"exception: {line.status_reason} (ocr_line {line.id})")
        return "exception"
    booked = s.scalar(select(InvoicePayment).where(InvoicePayment.ocr_line_id == orig.id))
    invoice = s.get(Invoice, orig.invoice_id) if orig.invoice_id is not None else None
    from_invoice = min(amount, booked.amount) if booked is not None else 0
    rest = amount - from_invoice
    if invoice is not None and from_invoice:
        invoice.paid_amount -= from_invoice
        done.book(line, invoice, -from_invoice, _booking_day(line, cal, ctx.today), job_name, ctx.now)
    if rest:
        surplus = s.scalar(select(PaymentSurplus).where(PaymentSurplus.ocr_line_id == orig.id))
        if surplus is not None:
            if rest >= surplus.amount:
                surplus.status = SURPLUS_REVERSED
            else:
                surplus.amount -= rest
    orig.status = LineStatus.CHARGED_BACK
    orig.status_reason = f"charged back by ocr_line {line.id} ({amount} øre)"
    done.mark("charged_back", orig)
    line.status = LineStatus.SETTLED
    line.reverses_line_id = orig.id
    line.invoice_id = orig.invoice_id
    line.settled_at = ctx.now
    outstanding = invoice.outstanding if invoice is not None else None
    line.status_reason = f"{what} reverses ocr_line {orig.id}: invoice outstanding again ({outstanding} øre)"
    done.alerts.append(f"charged back: {line.status_reason}")
    return "charged_back"
