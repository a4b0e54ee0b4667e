"""housekeeping.notification-purge: delete sent notification history and attachments older than N days.

Seed 000 "Notification Purge" (NTF_HISTORY, NTF_ATTACHMENT). Only finished
messages (sent or failed) go; a pending one is never purged, however old.
Chunks of ``purge.chunk.size``, one transaction each.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select

from handlers.housekeeping.options import PurgeOptions
from handlers.jobs import Job, JobContext, JobResult
from store.models.bills import BillNotice
from store.models.core import Notification, NotificationAttachment

FINISHED = ("sent", "failed")


class NotificationPurgeJob(PurgeOptions, Job):
    kind = "housekeeping.notification-purge"
    short_task = "NtfPurge"
    description = "delete sent notifications, their attachments and bill notices older than N days"
    days_names = ("older_than_days", "Keep.notification.for.x.days")

    def check_options(self) -> list[str]:
        return self.purge_problems()

    def run(self, ctx: JobContext) -> JobResult:
        days, chunk = self.days, self.chunk
        cutoff = ctx.now - dt.timedelta(days=days)
        counts = {"notifications": 0, "attachments": 0, "bill_notices": 0}
        while True:
            with ctx.unit() as uow:
                s = uow.session
                ids = list(s.scalars(select(Notification.id)
                                     .where(Notification.state.in_(FINISHED), Notification.created_at < cutoff)
                                     .order_by(Notification.id).limit(chunk)))
                if not ids:
                    break
                att = s.execute(delete(NotificationAttachment).where(NotificationAttachment.notification_id
                                                                     .in_(ids)))
                s.execute(delete(Notification).where(Notification.id.in_(ids)))
            counts["notifications"] += len(ids)
            counts["attachments"] += att.rowcount  # type: ignore[attr-defined]
        while True:
            with ctx.unit() as uow:
                s = uow.session
                nids = list(s.scalars(select(BillNotice.id).where(BillNotice.created_at < cutoff)
                                      .order_by(BillNotice.id).limit(chunk)))
                if not nids:
                    break
                s.execute(delete(BillNotice).where(BillNotice.id.in_(nids)))
            counts["bill_notices"] += len(nids)
        return JobResult(outcome="success" if any(counts.values()) else "noop", counts=counts)
