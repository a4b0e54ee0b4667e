"""ach.clear-checks (pmtCheckUpdate's clearing): a processed check with no return after the
payee's days to clear is paid."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from handlers.ach.audit import Actor, audit_ids, chunks
from handlers.ach.job import PayeePassJob
from handlers.ach.store import Payee
from handlers.jobs import JobContext
from store.calendars import Calendar
from store.models.ach import AuditOp, CheckPayment, CheckStatus
from store.unit import UnitSession


def clear_cutoff(today: dt.date, days: int, cal: Calendar) -> dt.date:
    """The latest pay date with ``days`` business days after it by ``today``."""
    d = today
    while cal.add_business_days(d, days) > today:
        d -= dt.timedelta(days=1)
    return d


class ClearChecksJob(PayeePassJob):
    """pmtCheckUpdate's clearing: processed (7) checks with no return N business days after the pay date → paid."""

    kind = "ach.clear-checks"
    short_task = "ChkUpdTsk"
    description = "mark processed checks paid after the payee's days to clear"
    counted = "paid"

    def apply(self, s: UnitSession, payee: Payee, ctx: JobContext, actor: Actor) -> int:
        cutoff = clear_cutoff(ctx.today, payee.settings.days_to_clear, ctx.calendar)
        ids = list(s.scalars(select(CheckPayment.payment_id).where(
            CheckPayment.payee_id == payee.payee_id, CheckPayment.status == CheckStatus.PROCESSED,
            CheckPayment.pay_date <= cutoff)))
        for part in chunks(ids):
            s.execute(update(CheckPayment).where(CheckPayment.payment_id.in_(part))
                      .values(status=CheckStatus.PAID, reminded="N", last_modify_time=actor.now))
        audit_ids(s, CheckPayment, ids, AuditOp.UPDATE, actor,
                  f"cleared: no return {payee.settings.days_to_clear} business days after pay date")
        return len(ids)
