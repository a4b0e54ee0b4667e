"""Seed 004 history for the recurring tables, and the notice audit (``payment_email_history``).

The recurring tables join the ACH audit helper's table map, so the same
set-based ``audit_ids`` writes their history rows.
"""

from __future__ import annotations

from handlers.ach.audit import HISTORY, Actor, audit_ids, audit_objects
from store.models.recurring import (
    PaymentBillSummary,
    PaymentBillSummaryHistory,
    PaymentEmailHistory,
    PaymentReminder,
    PaymentReminderHistory,
    RecurringPayment,
    RecurringPaymentHistory,
)
from store.unit import UnitSession

HISTORY.update({RecurringPayment: RecurringPaymentHistory, PaymentBillSummary: PaymentBillSummaryHistory,
                PaymentReminder: PaymentReminderHistory})

#: seed 001 "Email Content Audit Length" default
AUDIT_LENGTH = 100


def audit_notice(s: UnitSession, actor: Actor, notice_type: str, ref_table: str, ref_id: object, recipient: str,
                 notification_id: int | None, body: str, length: int = AUDIT_LENGTH, offset: int = 0) -> None:
    s.add(PaymentEmailHistory(notice_type=notice_type, ref_table=ref_table, ref_id=str(ref_id), recipient=recipient,
                              notification_id=notification_id, content=body[offset:offset + length] or None,
                              job_id=actor.job_id, job_name=actor.job_name, time_stamp=actor.now))


__all__ = ["Actor", "audit_ids", "audit_notice", "audit_objects"]
