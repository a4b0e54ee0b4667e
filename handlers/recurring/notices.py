"""notify-enroll (seed 001 pmtNotifyEnroll) and card-expiry-notify (pmtCreditCardExpNotify).

notify-enroll: accounts with notify_status N and status active or bad_active
get a status e-mail, or a NOC e-mail when a notification of change set the
flag (``noc_email``, seed "Send Email Notification in Case of NOC");
pnd_active/pnd_wait accounts wait. card-expiry-notify: card accounts whose
expiry is within ``days`` (default 7) get one notice per card and expiry
(``notify_expire_status``; a new expiry from the portal resets it). Each
flag changes in the same transaction as its queued message and history row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from typing import ClassVar

from sqlalchemy import select, update

from formats.errors import mask
from handlers.jobs import Job, JobContext, JobResult
from handlers.recurring.audit import Actor, audit_ids
from handlers.recurring.mail import Notice, queue
from store.models.ach import AccountStatus, AuditOp, PaymentAccount
from store.models.bills import BillUser
from store.templates import renderer

STATUS_TEXT = {AccountStatus.ACTIVE: "active and ready for payments",
               AccountStatus.BAD_ACTIVE: "not verified by the bank"}


def _bool_problems(options: dict[str, object], names: Collection[str]) -> list[str]:
    return [f"{k} must be true or false" for k in names if k in options and not isinstance(options[k], bool)]


def _emails(s: object, accts: list[PaymentAccount]) -> dict[str, str]:
    users = {a.user_id for a in accts if not a.email}
    found = dict(s.execute(select(BillUser.user_id, BillUser.email)  # type: ignore[attr-defined]
                           .where(BillUser.user_id.in_(users), BillUser.email.is_not(None)))) if users else {}
    return {a.pid: a.email or found.get(a.user_id, "") for a in accts}


class NotifyEnrollJob(Job):
    kind = "recurring.notify-enroll"
    short_task = "NtfEnrTsk"
    description = "tell customers the enrollment status of their payment accounts (and NOC changes)"
    known_options: ClassVar[Collection[str]] = ("noc_email", "audit_notifications")

    def check_options(self) -> list[str]:
        return super().check_options() + _bool_problems(self.options, self.known_options)

    def run(self, ctx: JobContext) -> JobResult:
        actor = Actor.for_job(self, ctx)
        counts: dict[str, int] = defaultdict(int)
        status_tpl, noc_tpl = renderer("enroll_status"), renderer("enroll_noc")
        noc_email = bool(self.options.get("noc_email", True))
        with ctx.unit() as uow:
            s = uow.session
            accts = list(s.scalars(select(PaymentAccount).where(
                PaymentAccount.notify_status == "N",
                PaymentAccount.account_status.in_((AccountStatus.ACTIVE, AccountStatus.BAD_ACTIVE)))
                .order_by(PaymentAccount.pid)))
            emails = _emails(s, accts)
            notices = []
            for a in accts:
                msg = a.txn_message or ""
                is_noc = msg.startswith("C") and "::" in msg
                if is_noc and not noc_email:
                    counts["noc_not_sent"] += 1
                    continue
                if not emails[a.pid]:
                    counts["no_address"] += 1
                    continue
                if is_noc:
                    subject, body = noc_tpl(account=mask(a.account_number), reason=msg.split("::")[0])
                else:
                    subject, body = status_tpl(account=mask(a.account_number), holder=a.account_holder_name,
                                               status=a.account_status,
                                               status_text=STATUS_TEXT[AccountStatus(str(a.account_status))],
                                               reason=msg.split("::")[0] or "returned")
                notices.append(Notice("enroll-noc" if is_noc else "enroll-status", emails[a.pid], subject, body,
                                      "payment_accounts", a.pid))
            queue(s, notices, actor, audit=bool(self.options.get("audit_notifications", False)),
                  ref=f"job_run:{ctx.run_id}")
            pids = [a.pid for a in accts]
            for a in accts:
                s.expunge(a)
            if pids:
                s.execute(update(PaymentAccount).where(PaymentAccount.pid.in_(pids)).values(notify_status="Y"))
                audit_ids(s, PaymentAccount, pids, AuditOp.UPDATE, actor, "enrollment notice")
            counts["notified"] += len(notices)
        counts = {k: v for k, v in counts.items() if v}
        return JobResult(outcome="success" if pids else "noop", counts=counts)


class CardExpiryJob(Job):
    kind = "recurring.card-expiry"
    short_task = "CCExpTsk"
    description = "tell customers their payment card expires within N days (once per card and expiry)"
    known_options: ClassVar[Collection[str]] = ("days", "audit_notifications")

    def check_options(self) -> list[str]:
        problems = super().check_options() + _bool_problems(self.options, ("audit_notifications",))
        d = self.options.get("days", 7)
        if not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 366:
            problems.append("days must be a whole number 0-366")
        return problems

    def run(self, ctx: JobContext) -> JobResult:
        actor = Actor.for_job(self, ctx)
        render = renderer("card_expiry")
        until = ctx.today + dt.timedelta(days=int(self.options.get("days", 7)))
        with ctx.unit() as uow:
            s = uow.session
            cards = list(s.scalars(select(PaymentAccount).where(
                PaymentAccount.payment_type == "card", PaymentAccount.notify_expire_status == "N",
                PaymentAccount.account_status != AccountStatus.INACTIVE,
                PaymentAccount.expiration_date.is_not(None), PaymentAccount.expiration_date >= ctx.today,
                PaymentAccount.expiration_date <= until).order_by(PaymentAccount.pid)))
            emails = _emails(s, cards)
            notices = []
            for c in cards:
                if emails[c.pid]:
                    assert c.expiration_date is not None
                    subject, body = render(brand=(c.card_brand or "card").title(), last_four=c.card_last_four or "",
                                           expiry=c.expiration_date.strftime("%m/%Y"))
                    notices.append(Notice("card-expiry", emails[c.pid], subject, body, "payment_accounts", c.pid))
            queue(s, notices, actor, audit=bool(self.options.get("audit_notifications", False)),
                  ref=f"job_run:{ctx.run_id}")
            pids = [c.pid for c in cards]
            for c in cards:
                s.expunge(c)
            if pids:
                s.execute(update(PaymentAccount).where(PaymentAccount.pid.in_(pids)).values(notify_expire_status="Y"))
                audit_ids(s, PaymentAccount, pids, AuditOp.UPDATE, actor, "card expiry notice")
        return JobResult(outcome="success" if pids else "noop",
                         counts={k: v for k, v in {"notified": len(notices), "no_address": len(pids) - len(notices)}
                                 .items() if v})
