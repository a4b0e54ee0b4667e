"""bills.notify: one message per user per run listing every account with new bills (seed 000 "Bill Notify").

New = PUBLISHED and not yet notified. The messages (bulk lane), the per-user
``bill_notices`` and the bills' ``notified_run`` commit together: a failed run
leaves everything pending for the next run, a successful one never repeats.
The template depends on how many accounts a user has new bills for: one, few
(up to ``few_accounts_max``) or many. The message goes to every address of the
user (``bill_users``, filled by bill files that carry ``userEmail``). Users
without an address are recorded (notice without message) and not retried.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select, update

from formats.bills import format_cents
from formats.errors import mask
from handlers.jobs import Job, JobContext, JobResult
from handlers.registry import section
from store.models.bills import Bill, BillNotice, BillStatus, BillUser
from store.templates import render
from store.unit import UnitSession

OPTIONS = {"few_accounts_max", "one_template", "few_template", "many_template"}
TEMPLATES = {"one": "bill_new_doc_one_account", "few": "bill_new_doc_few_accounts",
             "many": "bill_new_doc_many_accounts"}
ID_CHUNK = 500


@dataclass
class AccountNews:
    account: str
    currency: str
    bills: int = 0
    amount: int = 0
    due: dt.date | None = None

    def view(self) -> dict[str, object]:
        return {"account": self.account, "masked": mask(self.account), "currency": self.currency,
                "bills": self.bills, "amount_due": format_cents(self.amount),
                "due_date": self.due.isoformat() if self.due else ""}


@dataclass
class UserNews:
    user_id: str
    bill_ids: list[int] = field(default_factory=list)
    accounts: dict[tuple[str, str], AccountNews] = field(default_factory=dict)


class BillNotifyJob(Job):
    kind = "bills.notify"
    short_task = "BillNtfy"
    description = "tell each user, in one message per run, about new bills on their accounts"

    known_options = OPTIONS

    def check_options(self) -> list[str]:
        problems = super().check_options()
        few = self.options.get("few_accounts_max")
        if few is not None and (not isinstance(few, int) or few < 2):
            problems.append("few_accounts_max must be a whole number of at least 2")
        return problems

    def template(self, accounts: int) -> str:
        few_max = int(self.options.get("few_accounts_max", section(self.settings, "bills").few_accounts_max))
        size = "one" if accounts == 1 else "few" if accounts <= few_max else "many"
        return str(self.options.get(f"{size}_template", TEMPLATES[size]))

    def run(self, ctx: JobContext) -> JobResult:
        counts = {"users": 0, "messages": 0, "bills": 0, "no_address": 0}
        with ctx.unit() as uow:
            s = uow.session
            for news in _pending(s):
                user = s.get(BillUser, news.user_id)
                accounts = sorted(news.accounts.values(), key=lambda a: (a.account, a.currency))
                template = self.template(len(accounts))
                notification_id = None
                if user is not None and user.addresses and user.notify:
                    subject, body = render(template, user_id=news.user_id, user_name=user.name or news.user_id,
                                           accounts=[a.view() for a in accounts], bills=len(news.bill_ids))
                    n = uow.notify(user.addresses, subject, body, lane="bulk", kind="bill-notify",
                                   ref=f"job_run:{ctx.run_id}")
                    assert n is not None
                    s.flush()
                    notification_id = n.id
                    counts["messages"] += 1
                else:
                    counts["no_address"] += 1
                s.add(BillNotice(run_id=ctx.run_id, user_id=news.user_id, accounts=len(accounts),
                                 bills=len(news.bill_ids), notification_id=notification_id,
                                 template=template if notification_id else None, created_at=ctx.now))
                for i in range(0, len(news.bill_ids), ID_CHUNK):
                    s.execute(update(Bill).where(Bill.id.in_(news.bill_ids[i:i + ID_CHUNK]))
                              .values(notified_run=ctx.run_id))
                counts["users"] += 1
                counts["bills"] += len(news.bill_ids)
        return JobResult(outcome="success" if counts["bills"] else "noop", counts=counts)


def _pending(s: UnitSession) -> Iterator[UserNews]:
    """New bills grouped by user, one user at a time (the query is ordered by user)."""
    rows = s.execute(select(Bill.id, Bill.user_id, Bill.account_number, Bill.currency, Bill.amount_due,
                            Bill.due_date)
                     .where(Bill.notified_run.is_(None), Bill.status == BillStatus.PUBLISHED,
                            Bill.user_id.is_not(None))
                     .order_by(Bill.user_id, Bill.id)).all()
    current: UserNews | None = None
    for bill_pk, user_id, account, currency, amount, due in rows:
        if current is None or current.user_id != user_id:
            if current is not None:
                yield current
            current = UserNews(str(user_id))
        current.bill_ids.append(bill_pk)
        acc = current.accounts.setdefault((account, currency), AccountNews(account, currency))
        acc.bills += 1
        acc.amount += amount
        acc.due = due if acc.due is None else min(acc.due, due)
    if current is not None:
        yield current
