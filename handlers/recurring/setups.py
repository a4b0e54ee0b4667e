"""setups.load: recurring payments, payment reminders and payment accounts from the customer portal.

One file, one transaction: every record is checked (format first, then against
the database: unknown payee or account, the seed's edit rules) before anything
is written, and every problem goes into the error report. Every change writes
its seed 004 history row (1001 create, 1002 update, 1003 cancel).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy import delete, select

from formats.errors import Issue, IssueCode
from formats.setups import AccountRecord, CancelRecord, RecurringRecord, ReminderRecord, parse_setups
from formats.setups.reader import FAR_FUTURE
from formats.setups.records import SetupRecord
from handlers.base import FileContext, Handler, HandlerResult, Rejected
from handlers.recurring.audit import Actor, audit_objects
from handlers.recurring.dates import day_after, first_pay_date, local_midnight
from store.models.ach import AccountStatus, AuditOp, PaymentAccount, PaymentPayee
from store.models.recurring import (
    NEVER_PAID,
    NO_DUE_DATE,
    UNLIMITED,
    AmountType,
    PayDateType,
    PaymentBillSummary,
    PaymentReminder,
    RecurringPayment,
    RecurringPaymentAccount,
    RecurringStatus,
    SummaryStatus,
)
from store.unit import UnitSession

MAX_LINES_IN_REASON = 5


@dataclass
class SetupResult:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1


class SetupsRejected(Exception):
    def __init__(self, issues: list[Issue]) -> None:
        super().__init__(f"{len(issues)} problem(s); nothing loaded")
        self.issues = issues


def _fixed_date(pay_date_type: str) -> bool:
    return pay_date_type != PayDateType.BEFORE_DUE


def _amount_family(amount_type: str) -> str:
    return "fixed" if amount_type == AmountType.FIXED else "due"


def needs_bill(amount_type: str, pay_date_type: str) -> bool:
    """Seed 001: only a fixed amount on a fixed date is never synchronized with the bills."""
    return amount_type != AmountType.FIXED or pay_date_type == PayDateType.BEFORE_DUE


def load_setups(session: UnitSession, data: bytes, actor: Actor, today: dt.date) -> SetupResult:
    """Check everything, then apply; raises SetupsRejected with every problem (nothing written)."""
    records, issues = parse_setups(data)
    issues += _check_db(session, records)
    if issues:
        raise SetupsRejected(issues)
    return _apply(session, records, actor, today)


# -- checks against the database ------------------------------------------------------------------
def _issue(code: IssueCode, reason: str, line: int, r: SetupRecord, fld: str | None = None) -> Issue:
    return Issue(code=code, reason=reason, line=line, record=f"{r.type} {r.id}", field=fld)


def _check_db(s: UnitSession, records: Sequence[tuple[int, SetupRecord]]) -> list[Issue]:
    out: list[Issue] = []
    ids = {t: [r.id for _, r in records if r.type == t] for t in ("recurring_payment", "payment_reminder",
                                                                  "payment_account")}
    recurring = {r.setup_ref: r for r in s.scalars(select(RecurringPayment).where(
        RecurringPayment.setup_ref.in_(ids["recurring_payment"])))} if ids["recurring_payment"] else {}
    reminders = {r.setup_ref: r for r in s.scalars(select(PaymentReminder).where(
        PaymentReminder.setup_ref.in_(ids["payment_reminder"])))} if ids["payment_reminder"] else {}
    pids = set(ids["payment_account"]) | {r.pid for _, r in records if isinstance(r, RecurringRecord) and r.pid}
    accounts = {a.pid: a for a in s.scalars(select(PaymentAccount).where(PaymentAccount.pid.in_(pids)))} \
        if pids else {}
    payees = set(s.scalars(select(PaymentPayee.name)))
    file_accounts = {r.id: r for _, r in records if isinstance(r, AccountRecord) and r.op == "create"}
    for n, r in records:
        tables: dict[str, dict[str, Any]] = {"recurring_payment": recurring, "payment_reminder": reminders,
                                             "payment_account": accounts}
        known = tables[r.type]
        existing: Any = known.get(r.id)
        if r.op == "create" and existing is not None:
            out.append(_issue(IssueCode.ALREADY_EXISTS, f"{r.type} {r.id} already exists (use update)", n, r, "id"))
            continue
        if r.op in ("update", "cancel") and existing is None:
            out.append(_issue(IssueCode.UNKNOWN_SETUP, f"no {r.type} {r.id} to {r.op}", n, r, "id"))
            continue
        if isinstance(r, CancelRecord):
            continue
        payee = getattr(r, "payee", None)
        if payee is not None and payee not in payees:
            out.append(_issue(IssueCode.UNKNOWN_PAYEE, f"unknown payee {payee!r}", n, r, "payee"))
        if isinstance(r, RecurringRecord):
            out += _check_recurring(n, r, existing, accounts, file_accounts)
        elif isinstance(r, AccountRecord) and existing is not None and r.payment_type is not None \
                and r.payment_type != existing.payment_type:
            out.append(_issue(IssueCode.IMMUTABLE_FIELD, "payment_type cannot change; create a new account", n, r,
                              "payment_type"))
        elif isinstance(r, ReminderRecord) and existing is not None:
            start = r.start_date or existing.start_date
            end = r.end_date or existing.end_date
            if end is not None and end < start:
                out.append(_issue(IssueCode.END_BEFORE_START, f"end date {end} is before start date {start}", n, r,
                                  "end_date"))
    return out


def _check_recurring(n: int, r: RecurringRecord, old: RecurringPayment | None, accounts: dict[str, PaymentAccount],
                     file_accounts: dict[str, AccountRecord]) -> list[Issue]:
    out: list[Issue] = []
    if r.pid is not None:
        acct = accounts.get(r.pid)
        ptype = acct.payment_type if acct is not None else (file_accounts[r.pid].payment_type
                                                            if r.pid in file_accounts else None)
        if acct is None and r.pid not in file_accounts:
            out.append(_issue(IssueCode.UNKNOWN_ACCOUNT, f"unknown payment account {r.pid!r}", n, r, "pid"))
        elif ptype == "card":
            out.append(_issue(IssueCode.UNKNOWN_ACCOUNT, f"payment account {r.pid!r} is a card: spoolgate has no "
                              "card gateway, recurring payments draw on bank accounts", n, r, "pid"))
        elif acct is not None and acct.account_status == AccountStatus.INACTIVE:
            out.append(_issue(IssueCode.NOT_ACTIVE, f"payment account {r.pid!r} is cancelled", n, r, "pid"))
    if old is None:
        return out
    if old.status != RecurringStatus.ACTIVE:
        out.append(_issue(IssueCode.NOT_ACTIVE, f"recurring payment {r.id} is {old.status}", n, r, "id"))
    if r.amount_type is not None and _amount_family(r.amount_type) != _amount_family(old.amount_type):
        out.append(_issue(IssueCode.IMMUTABLE_FIELD, f"amount type cannot change from {old.amount_type} to "
                          f"{r.amount_type} after creation (seed rule: fixed ↔ (minimum) amount due)", n, r,
                          "amount_type"))
    if r.pay_date_type is not None and _fixed_date(r.pay_date_type) != _fixed_date(old.pay_date_type):
        out.append(_issue(IssueCode.IMMUTABLE_FIELD, f"pay date type cannot change from {old.pay_date_type} to "
                          f"{r.pay_date_type} after creation (seed rule: fixed date ↔ before due)", n, r,
                          "pay_date_type"))
    if r.start_date is not None and r.start_date != old.start_date and old.curr_num_payments > 0:
        out.append(_issue(IssueCode.START_DATE_LOCKED, "the start date cannot change once the first payment is "
                          "made", n, r, "start_date"))
    start, end = r.start_date or old.start_date, r.end_date or old.end_date
    if end < start:
        out.append(_issue(IssueCode.END_BEFORE_START, f"end date {end} is before start date {start}", n, r,
                          "end_date"))
    ptype = r.pay_date_type or old.pay_date_type
    if r.pay_date_type is not None and r.pay_date_type != old.pay_date_type and r.pay_date_type != "before_due" \
            and r.pay_day is None:
        out.append(_issue(IssueCode.MISSING_FIELD, f"pay_day is required when pay_date_type becomes {ptype}", n, r,
                          "pay_day"))
    if r.pay_day is not None and ptype == PayDateType.WEEKLY and not 1 <= r.pay_day <= 7:
        out.append(_issue(IssueCode.DAY_OUT_OF_RANGE, f"pay_day {r.pay_day} is outside 1-7 for weekly payments",
                          n, r, "pay_day"))
    if r.amount_limit is not None and (r.amount_type or old.amount_type) == AmountType.FIXED:
        out.append(_issue(IssueCode.AMOUNT_RULE, "amount_limit applies to amount_due and min_due only", n, r,
                          "amount_limit"))
    return out


# -- applying ---------------------------------------------------------------------------------------
def _apply(s: UnitSession, records: Sequence[tuple[int, SetupRecord]], actor: Actor, today: dt.date) -> SetupResult:
    res = SetupResult()
    order = {"payment_account": 0, "recurring_payment": 1, "payment_reminder": 2}
    for _n, r in sorted(records, key=lambda x: (order[x[1].type], x[0])):
        if isinstance(r, AccountRecord):
            _account(s, r, actor)
        elif isinstance(r, RecurringRecord):
            _recurring(s, r, actor, today)
        elif isinstance(r, ReminderRecord):
            _reminder(s, r, actor)
        else:
            _cancel(s, r, actor)
        res.add(f"{r.type}_{r.op}")
    return res


def _card_expiry(text: str) -> dt.date:
    import calendar

    year, month = (int(x) for x in text.split("-"))
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _account(s: UnitSession, r: AccountRecord, actor: Actor) -> None:
    values: dict[str, Any] = {k: v for k, v in {
        "user_id": r.user_id, "ddn": r.payee, "payment_type": r.payment_type, "account_holder_name": r.holder,
        "email": r.email, "account_nick_name": r.nick_name, "account_status": r.status,
        "routing_transit": r.routing_transit, "account_number": r.account_number, "account_type": r.account_type,
        "card_brand": r.brand, "card_last_four": r.last_four}.items() if v is not None}
    if r.expiry is not None:
        values["expiration_date"], values["expiration_date_format"] = _card_expiry(r.expiry), "YYYY-MM"
    row = s.get(PaymentAccount, r.id)
    if row is None:
        card = r.payment_type == "card"
        row = PaymentAccount(pid=r.id, notify_expire_status="N", **values)
        if card:
            row.account_number = f"****{r.last_four}"
            row.account_type = "card"
            row.account_status = r.status or AccountStatus.ACTIVE
        else:
            row.account_status = r.status or AccountStatus.PND_ACTIVE
        row.notify_status = "N" if row.account_status == AccountStatus.ACTIVE else None
        s.add(row)
        audit_objects(s, [row], AuditOp.CREATE, actor, "setups")
        return
    if "expiration_date" in values and values["expiration_date"] != row.expiration_date:
        values["notify_expire_status"] = "N"  # a new expiry gets its own notice
    if "card_last_four" in values:
        values["account_number"] = f"****{values['card_last_four']}"
    for k, v in values.items():
        setattr(row, k, v)
    audit_objects(s, [row], AuditOp.UPDATE, actor, "setups")


def initial_state(amount_type: str, pay_date_type: str, pay_day: int | None, start: dt.date) -> dict[str, Any]:
    """Seed 001 case tables, step 1: the columns of a new recurring payment."""
    fixed_date = pay_date_type != PayDateType.BEFORE_DUE
    return {"bill_scheduled": "Y" if needs_bill(amount_type, pay_date_type) else "N",
            "status": RecurringStatus.ACTIVE, "last_process_time": local_midnight(start),
            "last_pay_date": NEVER_PAID, "curr_num_payments": 0, "bill_id": None, "payment_id": None,
            "next_pay_date": first_pay_date(pay_date_type, int(pay_day or 1), start, start) if fixed_date
            else NO_DUE_DATE}


def _recurring(s: UnitSession, r: RecurringRecord, actor: Actor, today: dt.date) -> None:
    fields = {k: getattr(r, k) for k in ("user_id", "pid", "amount_type", "amount", "amount_limit", "pay_date_type",
                                         "pay_day", "days_before_due", "start_date", "end_date", "max_num_payments")
              if getattr(r, k) is not None}
    if r.email is not None:
        fields["payer_email_addr"] = r.email
    if r.payee is not None:
        fields["payee_id"] = s.scalar(select(PaymentPayee.payee_id).where(PaymentPayee.name == r.payee))
    if r.accounts is not None:
        fields["payer_account_number"] = r.accounts[0]
    row = s.scalar(select(RecurringPayment).where(RecurringPayment.setup_ref == r.id))
    if row is None:
        start = r.start_date or day_after(today)
        assert r.amount_type and r.pay_date_type
        row = RecurringPayment(setup_ref=r.id, **{**fields, "start_date": start,
                                                  "end_date": r.end_date or FAR_FUTURE,
                                                  "max_num_payments": r.max_num_payments or UNLIMITED},
                               **initial_state(r.amount_type, r.pay_date_type, r.pay_day, start),
                               create_time=actor.now, last_modify_time=actor.now)
        s.add(row)
        s.flush()
        op = AuditOp.CREATE
    else:
        schedule_changed = any(k in fields for k in ("pay_date_type", "pay_day", "start_date", "days_before_due"))
        for k, v in fields.items():
            setattr(row, k, v)
        row.last_modify_time = actor.now
        if schedule_changed:
            _reschedule(s, row)
        op = AuditOp.UPDATE
    if r.accounts is not None:
        old = set(s.scalars(select(RecurringPaymentAccount.payer_account_number)
                            .where(RecurringPaymentAccount.recurring_id == row.recurring_id)))
        for acct in old - set(r.accounts):
            s.execute(delete(RecurringPaymentAccount).where(
                RecurringPaymentAccount.recurring_id == row.recurring_id,
                RecurringPaymentAccount.payer_account_number == acct))
        s.add_all(RecurringPaymentAccount(recurring_id=row.recurring_id, payer_account_number=a)
                  for a in dict.fromkeys(r.accounts) if a not in old)
    audit_objects(s, [row], op, actor, "setups")


def _reschedule(s: UnitSession, row: RecurringPayment) -> None:
    """A changed pay day or start date moves the next pay date (the last payment made stays)."""
    if row.curr_num_payments == 0 and row.bill_id is None:
        row.last_process_time = local_midnight(row.start_date)
    if row.pay_date_type == PayDateType.BEFORE_DUE:
        due = s.scalar(select(PaymentBillSummary.due_date).where(PaymentBillSummary.bill_id == row.bill_id)) \
            if row.bill_id is not None and row.bill_scheduled == "N" else None
        if due is not None:
            row.next_pay_date = due - dt.timedelta(days=int(row.days_before_due or 0))
        return
    after = max(row.start_date, day_after(row.last_pay_date))
    if row.bill_scheduled == "N" or needs_bill(row.amount_type, row.pay_date_type):
        row.next_pay_date = first_pay_date(row.pay_date_type, int(row.pay_day or 1), row.start_date, after)


def _reminder(s: UnitSession, r: ReminderRecord, actor: Actor) -> None:
    fields = {k: v for k, v in {"user_id": r.user_id, "payer_email_addr": r.email, "payer_account_number": r.account,
                                "reminder_interval": r.interval, "start_date": r.start_date, "end_date": r.end_date,
                                "memo": r.memo}.items() if v is not None}
    row = s.scalar(select(PaymentReminder).where(PaymentReminder.setup_ref == r.id))
    if row is None:
        row = PaymentReminder(setup_ref=r.id, **fields, next_reminder_date=r.start_date, reminded="N",
                              status=RecurringStatus.ACTIVE, create_time=actor.now, last_modify_time=actor.now)
        s.add(row)
        audit_objects(s, [row], AuditOp.CREATE, actor, "setups")
        return
    for k, v in fields.items():
        setattr(row, k, v)
    if r.start_date is not None:
        row.next_reminder_date, row.reminded = r.start_date, "N"
    row.last_modify_time = actor.now
    audit_objects(s, [row], AuditOp.UPDATE, actor, "setups")


def _cancel(s: UnitSession, r: CancelRecord, actor: Actor) -> None:
    row: Any
    if r.type == "payment_account":
        row = s.get(PaymentAccount, r.id)
        row.account_status = AccountStatus.INACTIVE
    elif r.type == "recurring_payment":
        row = s.scalar(select(RecurringPayment).where(RecurringPayment.setup_ref == r.id))
        row.status, row.last_modify_time = RecurringStatus.CANCELLED, actor.now
        for summ in s.scalars(select(PaymentBillSummary).where(PaymentBillSummary.recurring_id == row.recurring_id,
                                                               PaymentBillSummary.status == SummaryStatus.ACTIVE)):
            summ.status = SummaryStatus.SUPERSEDED
    else:
        row = s.scalar(select(PaymentReminder).where(PaymentReminder.setup_ref == r.id))
        row.status, row.last_modify_time = RecurringStatus.CANCELLED, actor.now
    audit_objects(s, [row], AuditOp.DELETE, actor, "setups cancel")


class SetupsHandler(Handler):
    name = "setups.load"
    accepts = ("*.jsonl",)
    description = "load recurring payments, payment reminders and payment accounts (formats/setups) in one transaction"

    def handle(self, ctx: FileContext, stream: BinaryIO) -> HandlerResult:
        try:
            res = load_setups(ctx.session, stream.read(), Actor.for_file(ctx), ctx.now.astimezone().date())
        except SetupsRejected as exc:
            first = exc.issues[0]
            raise Rejected(f"{len(exc.issues)} problem(s) in the setup file, nothing loaded; first: {first}",
                           exc.issues, code=IssueCode.SETUPS_INVALID) from None
        return HandlerResult(counts=res.counts)
