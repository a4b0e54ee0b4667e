"""refunds.load: seed 001 LoadsRefundsTask for a refund batch XML dropped into ``refunds/in``.

Every ``<refund>`` becomes one ``payment_refunds`` row in the file's
transaction: ``scheduled`` with the original payment it refunds
(``refund_for_payment_id``), or ``rejected`` with the reason (mandatory field
missing, no payment found in the selection window, amount more than what is
left to refund, card payments). Only a file-level problem (malformed XML, a
DOCTYPE, a wrong root) rejects the whole file.

The original payment is a check payment for the refund's payer account, paid
(settled) or processed, with a pay date inside the window
(``selection_value`` days, weeks or months back). ``billingSystemTransactionNumber``
(our payment id) or ``originalTransactionNumber`` (the gateway's number) pick
it directly; otherwise the newest payment that still covers the amount is used.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, BinaryIO

from sqlalchemy import func, select

from formats.errors import mask
from formats.refunds import PaymentType, RefundReader, RefundRow, RefundType
from handlers.ach.audit import Actor, audit_objects
from handlers.base import FileContext, Handler, HandlerResult
from handlers.refunds.settings import RefundSettings, RefundStatus
from handlers.registry import section
from store.models.ach import AuditOp, CheckPayment, CheckStatus, PaymentPayee, PaymentRefund
from store.unit import UnitSession

REFUNDABLE = (int(CheckStatus.PROCESSED), int(CheckStatus.PAID))
OPTIONS = {"selection_unit", "selection_value", "allow_multiple"}


def refund_settings(settings: Any, options: dict[str, Any]) -> RefundSettings:
    base: RefundSettings = section(settings, "refunds")
    return base.model_copy(update={k: v for k, v in options.items() if k in OPTIONS}) if options else base


def refunded_so_far(s: UnitSession, payment_id: int, *, exclude: int | None = None) -> int:
    """Cents already refunded or on their way (scheduled or processed refunds) for one payment."""
    q = select(func.coalesce(func.sum(PaymentRefund.amount), 0)).where(
        PaymentRefund.refund_for_payment_id == payment_id,
        PaymentRefund.status.in_([RefundStatus.SCHEDULED, RefundStatus.PROCESSED]))
    if exclude is not None:
        q = q.where(PaymentRefund.refund_id != exclude)
    return int(s.scalar(q) or 0)


class RefundLoadHandler(Handler):
    name = "refunds.load"
    accepts = ("*.xml",)
    description = "load a refund batch XML (seed 001) into payment_refunds: scheduled or rejected"

    known_options = OPTIONS

    def check_options(self) -> list[str]:
        problems = super().check_options()
        try:
            RefundSettings.model_validate({k: v for k, v in self.options.items() if k in OPTIONS})
        except ValueError as exc:
            problems.append(str(exc).splitlines()[0])
        return problems

    def handle(self, ctx: FileContext, stream: BinaryIO) -> HandlerResult:
        conf = refund_settings(self.settings, self.options)
        today = ctx.now.astimezone().date()
        since = conf.window_start(today)
        reader = RefundReader(stream)
        s = ctx.session
        rows: list[PaymentRefund] = []
        counts = {"refunds": 0, "scheduled": 0, "rejected": 0}
        totals = {"scheduled": 0}
        for row in reader:
            reasons = list(row.reasons)
            payment: CheckPayment | None = None
            payee_id = _payee(s, row.payee_id)
            if row.payee_id and payee_id is None:
                reasons.append(f"payee_id: no payee {row.payee_id!r}")
            if not reasons:
                if row.refund_type is not RefundType.REFUND:
                    reasons.append("refundType: only refunds (R) are loaded from a batch; deposits are not handled")
                elif row.payment_type is PaymentType.CCARD:
                    reasons.append("paymentType: card payments are not kept here; only check payments can be "
                                   "refunded")
                else:
                    payment, why = self._select(s, row, payee_id, since, conf)
                    if payment is None:
                        reasons.append(why)
            refund = _refund_row(row, payee_id, payment, reasons, ctx.now)
            s.add(refund)
            rows.append(refund)
            s.flush()  # the next row's "already refunded" sum sees this one
            counts["refunds"] += 1
            if refund.status == RefundStatus.SCHEDULED:
                counts["scheduled"] += 1
                totals["scheduled"] += refund.amount
            else:
                counts["rejected"] += 1
        audit_objects(s, rows, AuditOp.CREATE, Actor.for_file(ctx))
        return HandlerResult(counts=counts, totals=totals, warnings=list(reader.warnings),
                             summary={"root": reader.root, "window": conf.describe(), "since": since.isoformat()})

    def _select(self, s: UnitSession, row: RefundRow, payee_id: int | None, since: dt.date,
                conf: RefundSettings) -> tuple[CheckPayment | None, str]:
        assert row.payer_account_number is not None and row.amount is not None
        q = select(CheckPayment).where(CheckPayment.payer_account_number == row.payer_account_number,
                                       CheckPayment.status.in_(REFUNDABLE), CheckPayment.pay_date >= since)
        if payee_id is not None:
            q = q.where(CheckPayment.payee_id == payee_id)
        where = f"for payer account {mask(row.payer_account_number)} within {conf.describe()} (since {since})"
        if row.billing_system_transaction_number:
            if not row.billing_system_transaction_number.isdigit():
                return None, "billing_system_transaction_number: must be our payment id (digits)"
            q = q.where(CheckPayment.payment_id == int(row.billing_system_transaction_number))
            where = f"payment {row.billing_system_transaction_number} " + where
        elif row.original_transaction_number:
            q = q.where(CheckPayment.txn_number == row.original_transaction_number)
            where = f"transaction {row.original_transaction_number} " + where
        candidates = list(s.scalars(q.order_by(CheckPayment.pay_date.desc(), CheckPayment.payment_id.desc())))
        if not candidates:
            return None, f"no paid or processed check payment {where}"
        refused: list[str] = []
        for p in candidates:
            already = refunded_so_far(s, p.payment_id)
            if already and not conf.allow_multiple:
                refused.append(f"payment {p.payment_id} was refunded already (multiple refunds not allowed)")
                continue
            if row.amount <= p.amount - already:
                return p, ""
            refused.append(f"amount {row.amount} cents is more than the {p.amount - already} cents left to "
                           f"refund on payment {p.payment_id}")
        return None, refused[0]


def _payee(s: UnitSession, name: str | None) -> int | None:
    if not name:
        return None
    pid = s.scalar(select(PaymentPayee.payee_id).where(PaymentPayee.name == name))
    return None if pid is None else int(pid)


def _refund_row(row: RefundRow, payee_id: int | None, payment: CheckPayment | None, reasons: list[str],
                now: dt.datetime) -> PaymentRefund:
    ok = payment is not None and not reasons
    return PaymentRefund(
        payee_id=payee_id if payee_id is not None else (payment.payee_id if payment else None),
        user_id=row.user_id, payment_account_number=row.payment_account_number,
        payer_account_number=(row.payer_account_number or "")[:40], amount=row.amount or 0,
        payment_type=str(row.payment_type) if row.payment_type else ("check" if ok else None),
        refund_type=str(row.refund_type) if row.refund_type else "R",
        status=RefundStatus.SCHEDULED if ok else RefundStatus.REJECTED,
        billing_system_txn_number=row.billing_system_transaction_number,
        original_txn_number=row.original_transaction_number,
        source_system_payment_initiator=row.source_system_payment_initiator,
        transaction_description=row.transaction_description,
        notify_required="Y" if row.notify_required else "N",
        refund_for_payment_id=payment.payment_id if ok and payment else None,
        reason=None if ok else "; ".join(reasons)[:255],
        flex_field_1=row.flex_field_one, flex_field_2=row.flex_field_two, flex_field_3=row.flex_field_three,
        flex_date=row.flex_field_date, create_time=now, last_modify_time=now)
