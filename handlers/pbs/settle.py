"""``pbs.settle`` (seed 003's PBS Invoice Settle Engine): OCR lines → invoice payments.

Lines ``new`` or ``error`` are matched to the outstanding invoice whose number
is the payment reference. A completed payment is booked on the invoice (up to
its outstanding amount; the initial payment for the full amount) and the line
is settled; money above the outstanding amount is recorded as surplus for the
reallocation engine. No match → the line is ``error`` with the reason and is
tried again next run. Rejections and cancellations moved no money (ignored);
a charge-back needs a person (review). Booking dates are Danish bank days.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from daemon.calendars import Calendar, calendar
from daemon.models.pbs import Invoice, InvoicePayment, LineStatus, OcrLine, PaymentSurplus
from formats.pbs.codes import PaymentKind
from handlers.bulk import insert_dicts
from handlers.jobs import Job, JobContext, JobResult
from handlers.stats import analyze_if_stale

OPTIONS = {"batch"}


class SettleJob(Job):
    kind = "pbs.settle"
    description = "match PBS OCR lines to outstanding invoices and book the payments"
    short_task = "SettleTsk"

    known_options = OPTIONS

    def run(self, ctx: JobContext) -> JobResult:
        batch = int(self.options.get("batch", 500))
        cal = calendar("dk-bank")
        counts: dict[str, int] = {}
        last_id = 0
        with ctx.unit() as uow:  # lines and invoices arrive in bulk: plans need their statistics
            analyze_if_stale(uow.session, (OcrLine.__tablename__, Invoice.__tablename__))
        while True:
            with ctx.unit() as uow:
                s = uow.session
                query = (select(OcrLine).where(OcrLine.status.in_([LineStatus.NEW, LineStatus.ERROR]),
                                               OcrLine.id > last_id).order_by(OcrLine.id).limit(batch))
                if not ctx.db.is_sqlite:
                    query = query.with_for_update(skip_locked=True)
                lines = list(s.scalars(query))
                refs = {ln.payment_reference.strip() for ln in lines} - {""}
                invoices: dict[str, Invoice] = {}
                if refs:
                    inv_query = select(Invoice).where(Invoice.invoice_number.in_(refs))
                    if not ctx.db.is_sqlite:
                        inv_query = inv_query.with_for_update()
                    invoices = {i.invoice_number: i for i in s.scalars(inv_query)}
                booked: list[dict[str, Any]] = []
                for line in lines:
                    outcome = _settle(s, line, invoices, ctx, cal, self.audit_job_name, booked)
                    counts[outcome] = counts.get(outcome, 0) + 1
                    if outcome == "settled":
                        counts["amount"] = counts.get("amount", 0) + line.total_amount
                insert_dicts(s, InvoicePayment.__tablename__, booked)  # one statement, no ORM object per row
            if len(lines) < batch:
                break
            last_id = lines[-1].id
        if not counts:
            return JobResult(outcome="noop", message="no OCR lines to settle")
        return JobResult(counts=counts, message=", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


def _booking_day(line: OcrLine, cal: Calendar, today: dt.date) -> dt.date:
    day = line.booking_date or line.payment_date or today
    return cal.next_business_day(day, include=True)


def _settle(s: Session, line: OcrLine, invoices: dict[str, Invoice], ctx: JobContext, cal: Calendar,
            job_name: str, booked: list[dict[str, Any]]) -> str:
    line.attempts += 1
    kind = line.kind
    if kind in (PaymentKind.REJECTED, PaymentKind.CANCELLED) or (kind == PaymentKind.COMPLETED
                                                                  and line.total_amount == 0):
        line.status, line.status_reason = LineStatus.IGNORED, f"{kind}: no money moved"
        return "ignored"
    if kind == PaymentKind.CHARGED_BACK or line.total_amount < 0:
        line.status = LineStatus.REVIEW
        line.status_reason = (f"{kind} of {-line.total_amount} øre for reference {line.payment_reference!r}: "
                              "reverse the invoice payment by hand")
        return "review"
    ref = line.payment_reference.strip()
    invoice = invoices.get(ref)
    if invoice is None:
        line.status = LineStatus.ERROR
        line.status_reason = (f"no invoice with number {ref!r} (payment reference) for customer "
                              f"{line.customer_number}" if ref else "payment reference is empty")
        return "error"
    outstanding = invoice.outstanding
    if outstanding <= 0:
        line.status = LineStatus.ERROR
        line.status_reason = f"invoice {ref} has nothing outstanding ({outstanding} øre)"
        line.invoice_id = invoice.id
        return "error"
    paid = min(line.total_amount, outstanding)
    booked.append({"invoice_id": invoice.id, "ocr_line_id": line.id, "amount": paid, "paid_on": line.payment_date,
                   "booked_on": _booking_day(line, cal, ctx.today), "job_name": job_name, "created_at": ctx.now})
    invoice.paid_amount += paid
    surplus = line.total_amount - paid
    if surplus > 0:
        s.add(PaymentSurplus(ocr_line_id=line.id, invoice_id=invoice.id, customer_number=line.customer_number,
                             amount=surplus, created_at=ctx.now))
    line.status = LineStatus.SETTLED
    line.status_reason = f"overpaid by {surplus} øre: surplus recorded" if surplus > 0 else (
        f"partly paid: {outstanding - paid} øre still outstanding" if paid < outstanding else None)
    line.invoice_id = invoice.id
    line.settled_at = ctx.now
    return "settled"
