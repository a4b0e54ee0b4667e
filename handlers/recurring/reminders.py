"""payment-reminders (seed 001 pmtPaymentReminder): reminders, and notices of check status changes.

Reminders: active ``payment_reminders`` whose next_reminder_date is today or
earlier and whose ``reminded`` is N; the next date moves on by the interval,
and a reminder with no next date (``once``, or past its end date) is marked
reminded. Check notices: ``check_payments`` in a status switched on in the
options (processed 7, paid 8, failed -1, cancelled 9, returned -4) with
``reminded`` N; the flag becomes Y. Each chunk's messages and flags commit
together, so after a crash at any point every notice is queued exactly once;
the mailer then sends it.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from typing import Any, ClassVar

from sqlalchemy import select, update

from formats.bills import format_cents
from formats.errors import mask
from handlers.jobs import Job, JobContext, JobResult
from handlers.recurring.audit import Actor, audit_ids
from handlers.recurring.mail import Notice, queue
from spool.crashpoints import crashpoint
from store.bulk import gc_paused, one_of, update_rows
from store.models.ach import AuditOp, CheckPayment, CheckStatus, PaymentAccount
from store.models.bills import BillUser
from store.models.recurring import PaymentReminder, RecurringStatus
from store.templates import renderer

STATUS_OPTIONS = {"notify_processed": (CheckStatus.PROCESSED,), "notify_paid": (CheckStatus.PAID,),
                  "notify_failed": (CheckStatus.FAILED, CheckStatus.CANCELLED, CheckStatus.RETURNED)}
STATUS_TEXT = {CheckStatus.PROCESSED: "sent for processing", CheckStatus.PAID: "paid",
               CheckStatus.FAILED: "failed", CheckStatus.CANCELLED: "cancelled", CheckStatus.RETURNED: "returned"}
BOOL_OPTIONS = ("reminders", *STATUS_OPTIONS, "audit_reminders", "audit_status")
DEFAULTS = {"reminders": True, "notify_processed": True, "notify_paid": True, "notify_failed": True,
            "audit_reminders": False, "audit_status": False}


def next_reminder(interval: str, d: dt.date, today: dt.date) -> dt.date | None:
    """The first reminder date after ``today`` on the interval from ``d``; None for ``once``."""
    if interval == "once":
        return None
    while d <= today:
        if interval == "weekly":
            d += dt.timedelta(days=7)
        else:
            months = 1 if interval == "monthly" else 3
            index = d.year * 12 + d.month - 1 + months
            y, m = divmod(index, 12)
            d = dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))
    return d


class PaymentRemindersJob(Job):
    kind = "recurring.reminders"
    short_task = "PmtRmdTsk"
    description = "e-mail payment reminders and check status notices, each once"
    known_options: ClassVar[Collection[str]] = ("chunk", *BOOL_OPTIONS)

    def check_options(self) -> list[str]:
        problems = super().check_options()
        for k in BOOL_OPTIONS:
            if k in self.options and not isinstance(self.options[k], bool):
                problems.append(f"{k} must be true or false")
        c = self.options.get("chunk", 2000)
        if not isinstance(c, int) or isinstance(c, bool) or not 1 <= c <= 10000:
            problems.append("chunk must be a whole number 1-10000")
        return problems

    def opt(self, name: str) -> bool:
        return bool(self.options.get(name, DEFAULTS[name]))

    def run(self, ctx: JobContext) -> JobResult:
        actor = Actor.for_job(self, ctx)
        counts: dict[str, int] = defaultdict(int)
        chunk = int(self.options.get("chunk", 2000))
        today = ctx.today
        if self.opt("reminders"):
            self._reminders(ctx, actor, today, chunk, counts)
        statuses = [int(st) for k, sts in STATUS_OPTIONS.items() if self.opt(k) for st in sts]
        if statuses:
            self._status(ctx, actor, statuses, chunk, counts)
        counts = {k: v for k, v in counts.items() if v}
        return JobResult(outcome="success" if counts else "noop", counts=counts,
                         message=f"{counts.get('reminders', 0)} reminder(s), {counts.get('status_notices', 0)} "
                                 "status notice(s)")

    def _reminders(self, ctx: JobContext, actor: Actor, today: dt.date, chunk: int, counts: dict[str, int]) -> None:
        render = renderer("payment_reminder")
        last = 0
        while True:
            with gc_paused(), ctx.unit() as uow:
                s = uow.session
                rows = list(s.connection().execute(
                    select(PaymentReminder.reminder_id, PaymentReminder.payer_email_addr,
                           PaymentReminder.payer_account_number, PaymentReminder.memo,
                           PaymentReminder.reminder_interval, PaymentReminder.next_reminder_date,
                           PaymentReminder.end_date)
                    .where(PaymentReminder.status == RecurringStatus.ACTIVE, PaymentReminder.reminded == "N",
                           PaymentReminder.next_reminder_date <= today, PaymentReminder.reminder_id > last)
                    .order_by(PaymentReminder.reminder_id).limit(chunk)).all())
                if not rows:
                    return
                last = rows[-1].reminder_id
                notices, updates = [], []
                for r in rows:
                    subject, body = render(account=mask(r.payer_account_number) if r.payer_account_number else "",
                                           memo=r.memo or "", date=r.next_reminder_date.isoformat())
                    notices.append(Notice("payment-reminder", r.payer_email_addr, subject, body, "payment_reminders",
                                          r.reminder_id))
                    nxt = next_reminder(r.reminder_interval, r.next_reminder_date, today)
                    done = nxt is None or (r.end_date is not None and nxt > r.end_date)
                    updates.append({"reminder_id": r.reminder_id, "reminded": "Y" if done else "N",
                                    "next_reminder_date": r.next_reminder_date if done else nxt,
                                    "last_modify_time": actor.now})
                queue(s, notices, actor, audit=self.opt("audit_reminders"), ref=f"job_run:{ctx.run_id}")
                crashpoint("reminders-queued")
                update_rows(s, PaymentReminder.__tablename__, "reminder_id", updates)
                audit_ids(s, PaymentReminder, [u["reminder_id"] for u in updates], AuditOp.UPDATE, actor,
                          "reminder sent")
                counts["reminders"] += len(rows)

    def _status(self, ctx: JobContext, actor: Actor, statuses: list[int], chunk: int, counts: dict[str, int]) -> None:
        render = renderer("payment_status")
        last = 0
        while True:
            with gc_paused(), ctx.unit() as uow:
                s = uow.session
                rows = list(s.connection().execute(
                    select(CheckPayment.payment_id, CheckPayment.status, CheckPayment.amount, CheckPayment.pay_date,
                           CheckPayment.pid, CheckPayment.payer_id, CheckPayment.payer_account_number,
                           CheckPayment.txn_err_msg)
                    .where(CheckPayment.status.in_(statuses), CheckPayment.reminded == "N",
                           CheckPayment.payment_id > last)
                    .order_by(CheckPayment.payment_id).limit(chunk)).all())
                if not rows:
                    return
                last = rows[-1].payment_id
                emails = self._addresses(s, rows)
                notices = []
                for p in rows:
                    to = emails.get(("pid", p.pid)) or emails.get(("user", p.payer_id))
                    if not to:
                        counts["no_address"] += 1
                        continue
                    status = STATUS_TEXT.get(CheckStatus(p.status), str(p.status))
                    subject, body = render(payment_id=p.payment_id, amount=format_cents(p.amount),
                                           pay_date=p.pay_date.isoformat(), status=status,
                                           account=mask(p.payer_account_number or p.payer_id),
                                           reason=p.txn_err_msg if p.status in (CheckStatus.RETURNED,
                                                                                CheckStatus.FAILED,
                                                                                CheckStatus.CANCELLED) else "")
                    notices.append(Notice(f"payment-{status.split()[0]}", to, subject, body, "check_payments",
                                          p.payment_id))
                queue(s, notices, actor, audit=self.opt("audit_status"), ref=f"job_run:{ctx.run_id}")
                crashpoint("status-notices-queued")
                ids = [p.payment_id for p in rows]
                s.connection().execute(update(CheckPayment).where(one_of(s, CheckPayment.payment_id, ids),
                                                                  CheckPayment.reminded == "N").values(reminded="Y"))
                counts["status_notices"] += len(notices)

    @staticmethod
    def _addresses(s: Any, rows: list[Any]) -> dict[tuple[str, str], str]:
        pids = {p.pid for p in rows if p.pid}
        users = {p.payer_id for p in rows}
        out: dict[tuple[str, str], str] = {}
        if pids:
            out.update({("pid", pid): email for pid, email in s.execute(
                select(PaymentAccount.pid, PaymentAccount.email).where(one_of(s, PaymentAccount.pid, pids),
                                                                        PaymentAccount.email.is_not(None)))})
        out.update({("user", uid): email for uid, email in s.execute(
            select(BillUser.user_id, BillUser.email).where(one_of(s, BillUser.user_id, users),
                                                           BillUser.email.is_not(None)))})
        return out
