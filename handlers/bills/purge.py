"""bills.purge: remove bills loaded more than N days ago (seed 000 "Bill Purge").

With ``exp_rej_only`` (seed ``purge.exp.rej.only``) only EXPIRED or REJECTED
bills past the cut-off go; otherwise every bill past it. Deleted in chunks,
one transaction each, so a long purge never holds one huge transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select

from handlers.jobs import Job, JobContext, JobResult
from store.models.bills import Bill, BillLineItem, BillStatus

OPTIONS = {"older_than_days", "purge.older.than.Xdays", "exp_rej_only", "purge.exp.rej.only", "chunk_size",
           "purge.chunk.size"}


def _opt(options: dict[str, object], *names: str, default: object) -> object:
    return next((options[n] for n in names if n in options), default)


class BillPurgeJob(Job):
    kind = "bills.purge"
    short_task = "BillPurge"
    description = "delete bills older than N days (optionally only expired or rejected ones)"

    @property
    def days(self) -> int:
        return int(str(_opt(self.options, "older_than_days", "purge.older.than.Xdays", default=-1)))

    @property
    def chunk(self) -> int:
        return int(str(_opt(self.options, "chunk_size", "purge.chunk.size", default=1000)))

    @property
    def exp_rej_only(self) -> bool:
        return bool(_opt(self.options, "exp_rej_only", "purge.exp.rej.only", default=False))

    known_options = OPTIONS

    def check_options(self) -> list[str]:
        problems = super().check_options()
        try:
            if self.days < 0:
                problems.append("older_than_days is required (days, 0 or more)")
            if not 1 <= self.chunk <= 10_000:
                problems.append("chunk_size must be 1 to 10000")
        except ValueError as exc:
            problems.append(f"not a whole number: {exc}")
        return problems

    def run(self, ctx: JobContext) -> JobResult:
        if self.days < 0:
            raise ValueError("older_than_days is not set")
        cutoff = ctx.now - dt.timedelta(days=self.days)
        cond = [Bill.loaded_at < cutoff]
        if self.exp_rej_only:
            cond.append(Bill.status.in_([BillStatus.EXPIRED, BillStatus.REJECTED]))
        purged = 0
        while True:
            with ctx.unit() as uow:
                s = uow.session
                ids = list(s.scalars(select(Bill.id).where(*cond).order_by(Bill.id).limit(self.chunk)))
                if not ids:
                    break
                s.execute(delete(BillLineItem).where(BillLineItem.bill_pk.in_(ids)))
                s.execute(delete(Bill).where(Bill.id.in_(ids)))
            purged += len(ids)
        return JobResult(outcome="success" if purged else "noop", counts={"bills_purged": purged},
                         message=f"cut-off {cutoff:%Y-%m-%d %H:%M} UTC"
                                 + (", expired or rejected only" if self.exp_rej_only else ""))
