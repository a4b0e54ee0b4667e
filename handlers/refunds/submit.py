"""refunds.submit: seed 001 SubmitRefundTask over the scheduled ``payment_refunds``, one at a time.

Per refund type, against its original check payment (``refund_for_payment_id``):

- Refund (R): a paid (settled) payment gets a new check payment for the
  negative amount, scheduled for today, to the refund's payment account if it
  names one we know (``payment_accounts``), else to the original account; the
  refund becomes ``processed`` with ``refund_payment_id``. A processed payment
  (sent, no answer yet) waits: the refund stays scheduled for a later run.
  Anything else is rejected with the reason.
- Cancellation (C): a scheduled payment is cancelled and the refund processed;
  a payment in another state is handled as a refund.
- Void (V): voids apply to card payments only, so a void of a check is rejected.

Each refund is its own transaction, audited (seed 004) with the payments it
changes, so a failure part-way keeps the refunds already done.
"""

from __future__ import annotations

from sqlalchemy import select

from handlers.ach.audit import Actor, audit_objects
from handlers.jobs import Job, JobContext, JobResult
from handlers.refunds.load import OPTIONS, refund_settings, refunded_so_far
from handlers.refunds.settings import RefundKind, RefundStatus
from store.models.ach import AuditOp, CheckPayment, CheckStatus, PaymentAccount, PaymentRefund
from store.unit import UnitSession

COPIED = ("payee_id", "payer_id", "routing_transit", "account_name", "check_account_number",
          "payer_account_number", "account_type", "check_usage", "pid", "bill_id")


class RefundSubmitJob(Job):
    kind = "refunds.submit"
    short_task = "SubRfndTsk"
    description = "submit scheduled refunds: negative check payments for paid payments, cancellations"

    known_options = ("allow_multiple",)

    def run(self, ctx: JobContext) -> JobResult:
        conf = refund_settings(self.settings, {k: v for k, v in self.options.items() if k in OPTIONS})
        with ctx.unit() as uow:
            ids = list(uow.session.scalars(select(PaymentRefund.refund_id)
                                           .where(PaymentRefund.status == RefundStatus.SCHEDULED)
                                           .order_by(PaymentRefund.refund_id)))
        counts = {"processed": 0, "rejected": 0, "waiting": 0, "refund_payments": 0, "cancelled_payments": 0}
        for rid in ids:
            with ctx.unit() as uow:
                s = uow.session
                refund = s.get(PaymentRefund, rid, with_for_update=True)
                if refund is None or refund.status != RefundStatus.SCHEDULED:
                    continue
                actor = Actor.for_job(self, ctx)
                original = (s.get(CheckPayment, refund.refund_for_payment_id, with_for_update=True)
                            if refund.refund_for_payment_id is not None else None)
                outcome = self._one(ctx, s, refund, original, conf.allow_multiple, actor)
                counts[outcome] += 1
                if outcome != "waiting":
                    refund.last_modify_time = ctx.now
                    audit_objects(s, [refund], AuditOp.UPDATE, actor, refund.reason)
                    if outcome == "processed":
                        counts["refund_payments" if refund.refund_payment_id else "cancelled_payments"] += 1
        busy = counts["processed"] + counts["rejected"]
        return JobResult(outcome="success" if busy else "noop", counts=counts)

    def _one(self, ctx: JobContext, session: UnitSession, refund: PaymentRefund, original: CheckPayment | None,
             allow_multiple: bool, actor: Actor) -> str:
        if original is None:
            return _reject(refund, f"original payment {refund.refund_for_payment_id} not found")
        kind = refund.refund_type
        if kind == RefundKind.VOID:
            return _reject(refund, "voids apply to card payments only; a check payment cannot be voided")
        if kind == RefundKind.CANCELLATION and original.status == CheckStatus.SCHEDULED:
            original.status = int(CheckStatus.CANCELLED)
            original.last_modify_time = ctx.now
            audit_objects(session, [original], AuditOp.UPDATE, actor, f"cancelled by refund {refund.refund_id}")
            refund.status = RefundStatus.PROCESSED
            return "processed"
        if kind not in (RefundKind.REFUND, RefundKind.CANCELLATION):
            return _reject(refund, f"refund type {kind!r} is not submitted by this job")
        if original.status == CheckStatus.PROCESSED:
            return "waiting"  # sent to the bank, no answer yet: try again on the next run
        if original.status != CheckStatus.PAID:
            return _reject(refund, f"original payment {original.payment_id} is {_status(original.status)}; "
                                   f"only a paid (settled) payment can be refunded")
        already = refunded_so_far(session, original.payment_id, exclude=refund.refund_id)
        done_before = session.scalar(select(PaymentRefund.refund_id).where(
            PaymentRefund.refund_for_payment_id == original.payment_id,
            PaymentRefund.status == RefundStatus.PROCESSED, PaymentRefund.refund_id != refund.refund_id).limit(1))
        if done_before is not None and not allow_multiple:
            return _reject(refund, f"payment {original.payment_id} was refunded already by refund {done_before} "
                                   f"(multiple refunds not allowed)")
        if refund.amount <= 0 or refund.amount > original.amount - already:
            return _reject(refund, f"amount {refund.amount} cents is more than the {original.amount - already} "
                                   f"cents left to refund on payment {original.payment_id}")
        new = CheckPayment(**{c: getattr(original, c) for c in COPIED})
        if refund.payment_account_number and refund.payment_account_number != original.check_account_number:
            account = session.scalar(select(PaymentAccount).where(
                PaymentAccount.account_number == refund.payment_account_number,
                PaymentAccount.payment_type == "check").limit(1))
            if account is None or not account.routing_transit:
                return _reject(refund, "payment account number of the refund is not a known check account")
            new.check_account_number = account.account_number
            new.routing_transit = account.routing_transit
            new.account_name = account.account_holder_name[:40]
            new.account_type = account.account_type
            new.pid = account.pid
        new.amount = -refund.amount
        new.status = int(CheckStatus.SCHEDULED)
        new.pay_date = ctx.today
        new.create_time = new.last_modify_time = ctx.now
        new.memo = f"refund {refund.refund_id} of payment {original.payment_id}"
        session.add(new)
        session.flush()
        audit_objects(session, [new], AuditOp.CREATE, actor, f"refund {refund.refund_id}")
        refund.refund_payment_id = new.payment_id
        refund.status = RefundStatus.PROCESSED
        refund.reason = None
        return "processed"


def _reject(refund: PaymentRefund, reason: str) -> str:
    refund.status = RefundStatus.REJECTED
    refund.reason = reason[:255]
    return "rejected"


def _status(code: int) -> str:
    try:
        return CheckStatus(code).name.lower()
    except ValueError:
        return f"status {code}"
