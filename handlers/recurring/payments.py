"""recurring-payments (seed 001 pmtRecurringPayment): synchronize with the loaded bills, then schedule.

Active setups are read in chunks of ``chunk`` rows, each chunk in its own
transaction: its bill summaries, scheduled ``check_payments``, row changes,
history rows and e-mails commit together, so a crash leaves every setup either
before or after its step, and memory stays flat for any number of setups.

Synchronization (setups whose amount or pay date depends on a bill): bills of
the setup's accounts with a document date in [last_process_time, run] (a
document date counts as that day's 00:00 local); per account the latest due
date wins; a bill whose due date is not after the last one paid is not paid
again; a rebill (same due date, later document date) replaces a pending bill
(``sync = "every_run"``, default, or ``"when_scheduling"``) or a still-scheduled
payment, which is cancelled. Scheduling: ``days_before`` (default 3) days
before the pay date a ``check_payments`` row (status 6, payment_source R) is
inserted for check-submit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from typing import Any, ClassVar

from sqlalchemy import func, select, text, update

from formats.bills import format_cents
from formats.errors import mask
from handlers.jobs import Job, JobContext, JobResult
from handlers.recurring import setbased
from handlers.recurring.audit import Actor, audit_ids
from handlers.recurring.dates import day_after, first_doc_date, first_pay_date
from handlers.recurring.hooks import Hook, HookError, ProposedPayment, apply_hooks, load_hooks
from handlers.recurring.ids import reserve_ids
from handlers.recurring.mail import Notice, queue
from handlers.recurring.setups import needs_bill
from store.bulk import fetch_rows, gc_paused, insert_rows, one_of, page_cache, update_rows
from store.models.ach import AccountStatus, AuditOp, CheckPayment, CheckStatus, PaymentAccount
from store.models.bills import Bill, BillStatus
from store.models.recurring import (
    NO_DUE_DATE,
    AmountLimit,
    AmountType,
    PayDateType,
    PaymentBillSummary,
    RecurringPayment,
    RecurringPaymentAccount,
    RecurringStatus,
    SummaryStatus,
)
from store.session import UnitSession
from store.templates import renderer
from store.unit import Work

BOOL_OPTIONS = ("email_on_schedule", "email_on_zero", "email_on_expiry", "email_on_cancel", "email_over_limit",
                "cancel_if_account_cancelled", "cancel_if_account_invalid", "skip_sync", "audit_notifications")
BOOL_DEFAULTS = {"email_on_schedule": True, "email_on_zero": False, "email_on_expiry": True, "email_on_cancel": True,
                 "email_over_limit": True, "cancel_if_account_cancelled": True, "cancel_if_account_invalid": True,
                 "skip_sync": False, "audit_notifications": False}
SYNC_MODES = ("every_run", "when_scheduling")
#: setups per transaction: each chunk dirties every page of the randomly keyed indexes it inserts into
#: (check_payments.payer_id, ...), so fewer, larger chunks write each such page fewer times
CHUNK = 10000
#: SQLite page cache of the job's connection while a chunk runs (``store.bulk.page_cache``)
PAGE_CACHE_MB = 64
ROW_COLUMNS = ("bill_scheduled", "status", "last_process_time", "last_pay_date", "next_pay_date", "bill_id",
               "payment_id", "curr_num_payments", "expiry_notified", "last_modify_time")
BILL_STATES = (BillStatus.LOADED, BillStatus.PUBLISHED)
_snapshot = itemgetter(*ROW_COLUMNS)
_pending_order = itemgetter("due_date", "payer_account_number")
# enum members as plain names: a class attribute lookup on an Enum costs several times a comparison
_ACTIVE, _FIXED, _AMOUNT_DUE = RecurringStatus.ACTIVE, AmountType.FIXED, AmountType.AMOUNT_DUE
_BEFORE_DUE, _LESS_THAN, _UP_TO = PayDateType.BEFORE_DUE, AmountLimit.LESS_THAN, AmountLimit.UP_TO
_INACTIVE_ACCOUNT, _BAD_ACCOUNT = AccountStatus.INACTIVE, AccountStatus.BAD_ACTIVE


@dataclass
class _Bill:
    doc_id: str
    account: str
    doc_date: dt.date
    due_date: dt.date
    amount_due: int
    min_due: int


@dataclass
class _Chunk:
    """What one chunk reads before it decides, and what it decides."""

    rows: list[dict[str, Any]]
    accounts: dict[int, list[str]]
    active: dict[int, list[dict[str, Any]]]
    current: dict[int, dict[str, Any]]
    last_due: dict[tuple[int, str], dt.date]
    bills: dict[str, list[_Bill]]
    pay_accounts: dict[str, Any]
    payment_status: dict[int, int]
    new_summaries: list[dict[str, Any]] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)
    cancelled_payments: list[int] = field(default_factory=list)
    changed: set[int] = field(default_factory=set)
    scheduled: list[dict[str, Any]] = field(default_factory=list)


class RecurringPaymentsJob(Job):
    kind = "recurring.payments"
    short_task = "RecurPmtTsk"
    description = "synchronize recurring payments with the loaded bills and schedule their check payments"
    known_options: ClassVar[Collection[str]] = ("days_before", "sync", "hooks", "chunk", "set_based",
                                                *BOOL_OPTIONS)

    def check_options(self) -> list[str]:
        problems = super().check_options()
        d = self.options.get("days_before", 3)
        if not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 60:
            problems.append("days_before must be a whole number 0-60")
        if self.options.get("sync", "every_run") not in SYNC_MODES:
            problems.append(f"sync must be one of {', '.join(SYNC_MODES)}")
        c = self.options.get("chunk", CHUNK)
        if not isinstance(c, int) or isinstance(c, bool) or not 1 <= c <= 10000:
            problems.append("chunk must be a whole number 1-10000")
        mb = self.options.get("page_cache_mb", PAGE_CACHE_MB)
        if not isinstance(mb, int) or isinstance(mb, bool) or not 0 <= mb <= 1024:
            problems.append("page_cache_mb must be a whole number 0-1024")
        for k in (*BOOL_OPTIONS, "set_based"):
            if k in self.options and not isinstance(self.options[k], bool):
                problems.append(f"{k} must be true or false")
        hooks = self.options.get("hooks", [])
        if not isinstance(hooks, list) or not all(isinstance(h, str) for h in hooks):
            problems.append("hooks must be a list of entry point names")
        else:
            try:
                load_hooks(hooks)
            except HookError as exc:
                problems.append(f"hooks: {exc}")
        return problems

    @cached_property
    def _opts(self) -> dict[str, bool]:
        return {k: bool(self.options.get(k, BOOL_DEFAULTS[k])) for k in BOOL_OPTIONS}

    def opt(self, name: str) -> bool:
        return self._opts[name]

    def run(self, ctx: JobContext) -> JobResult:
        self.actor = Actor.for_job(self, ctx)
        self.run_time = ctx.now.astimezone()
        self.today = self.run_time.date()
        self.horizon = self.today + dt.timedelta(days=int(self.options.get("days_before", 3)))
        self.every_run = self.options.get("sync", "every_run") == "every_run"
        self.hooks: list[Hook] = load_hooks(list(self.options.get("hooks", [])))
        self.ctx = ctx
        self._renderers: dict[str, Any] = {}
        counts: dict[str, int] = defaultdict(int)
        chunk = int(self.options.get("chunk", CHUNK))
        cache_mb = int(self.options.get("page_cache_mb", PAGE_CACHE_MB))
        last: int | None = 0
        while last is not None:
            with gc_paused(), ctx.unit() as uow, page_cache(uow.session.connection(), cache_mb):
                last = self._next_chunk(uow, last, chunk, counts)
        counts = {k: v for k, v in counts.items() if v}
        done = sum(v for k, v in counts.items() if k != "rows")
        return JobResult(outcome="success" if done else "noop", counts=counts,
                         message=f"{counts.get('scheduled', 0)} payment(s) scheduled, "
                                 f"{counts.get('synchronized', 0)} bill(s) synchronized")

    def _next_chunk(self, uow: Work, last: int, chunk: int, counts: dict[str, int]) -> int | None:
        """The setups after ``last``, one chunk (the set-based step first); the last id done, or None at the end."""
        conn = uow.session.connection()
        fast = setbased.available(self, conn.dialect.name)
        stmt = select(RecurringPayment.__table__).where(RecurringPayment.status == RecurringStatus.ACTIVE,
                                                        RecurringPayment.recurring_id > last)
        if fast:
            ids = select(RecurringPayment.recurring_id).where(
                RecurringPayment.status == RecurringStatus.ACTIVE, RecurringPayment.recurring_id > last) \
                .order_by(RecurringPayment.recurring_id).limit(chunk).subquery()
            upto = conn.scalar(select(func.max(ids.c.recurring_id)))
            if upto is None:
                return None
            # the set-based step first; the general path then reads the chunk's other setups
            stmt = stmt.where(RecurringPayment.recurring_id <= upto)
            if setbased.step(self, uow, last, upto, counts):
                stmt = stmt.where(text(f"recurring_id NOT IN (SELECT recurring_id FROM {setbased.FAST_TABLE})"))
            last = upto
        # driver rows: the ORM would load each row, Core would build a Row object per row
        keys, raw = fetch_rows(conn, stmt.order_by(RecurringPayment.recurring_id).limit(chunk))
        rows = [dict(zip(keys, r, strict=True)) for r in raw]
        if rows:
            self._chunk(uow, rows, counts)
            return max(last, rows[-1]["recurring_id"])
        return last if fast else None

    # -- reading ---------------------------------------------------------------------------------
    def _read(self, s: UnitSession, rows: list[dict[str, Any]]) -> _Chunk:
        ids = [r["recurring_id"] for r in rows]
        conn = s.connection()  # Core rows, not the ORM's loading
        accounts: dict[int, list[str]] = defaultdict(list)
        for rid, acct in conn.execute(select(RecurringPaymentAccount.recurring_id,
                                          RecurringPaymentAccount.payer_account_number)
                                   .where(one_of(s, RecurringPaymentAccount.recurring_id, ids))
                                   .order_by(RecurringPaymentAccount.id)):
            accounts[rid].append(acct)
        for r in rows:
            accounts.setdefault(r["recurring_id"], [r["payer_account_number"]])
        sync_rows = [r for r in rows if needs_bill(r["amount_type"], r["pay_date_type"])]
        sync_ids = [r["recurring_id"] for r in sync_rows]
        active: dict[int, list[dict[str, Any]]] = defaultdict(list)
        current: dict[int, dict[str, Any]] = {}
        last_due: dict[tuple[int, str], dt.date] = {}
        bills: dict[str, list[_Bill]] = defaultdict(list)
        if sync_ids:
            for m in conn.execute(select(PaymentBillSummary.__table__).where(
                    one_of(s, PaymentBillSummary.recurring_id, sync_ids),
                    PaymentBillSummary.status == SummaryStatus.ACTIVE)).mappings().all():
                active[m["recurring_id"]].append(dict(m))
            cur_ids = [r["bill_id"] for r in sync_rows if r["bill_id"] is not None]
            if cur_ids:
                current = {m["bill_id"]: dict(m) for m in conn.execute(select(PaymentBillSummary.__table__).where(
                    one_of(s, PaymentBillSummary.bill_id, cur_ids))).mappings()}
            for rid, acct, due in conn.execute(
                    select(PaymentBillSummary.recurring_id, PaymentBillSummary.payer_account_number,
                           func.max(PaymentBillSummary.due_date))
                    .where(one_of(s, PaymentBillSummary.recurring_id, sync_ids),
                           PaymentBillSummary.status == SummaryStatus.SCHEDULED)
                    .group_by(PaymentBillSummary.recurring_id, PaymentBillSummary.payer_account_number)):
                last_due[(rid, acct)] = due
            if not self.opt("skip_sync"):
                accts = sorted({a for r in sync_rows for a in accounts[r["recurring_id"]]})
                lo = min(first_doc_date(r["last_process_time"]) for r in sync_rows)
                for i in range(0, len(accts), 5000):
                    for b in fetch_rows(conn, select(Bill.bill_id, Bill.account_number, Bill.document_date,
                                                     Bill.due_date, Bill.amount_due, Bill.minimum_amount_due)
                                        .where(one_of(s, Bill.account_number, accts[i:i + 5000]),
                                               Bill.document_date >= lo, Bill.document_date <= self.today,
                                               Bill.status.in_(BILL_STATES)))[1]:
                        bills[b[1]].append(_Bill(*b))
        pids = sorted({r["pid"] for r in rows})
        pay_accounts = {a.pid: a for a in conn.execute(
            select(PaymentAccount.pid, PaymentAccount.account_status, PaymentAccount.routing_transit,
                   PaymentAccount.account_number, PaymentAccount.account_holder_name, PaymentAccount.account_type,
                   PaymentAccount.payment_type).where(one_of(s, PaymentAccount.pid, pids)))}
        pay_ids = [c["payment_id"] for c in current.values() if c["payment_id"] is not None]
        payment_status = {int(i): int(st) for i, st in conn.execute(
            select(CheckPayment.payment_id, CheckPayment.status).where(one_of(s, CheckPayment.payment_id, pay_ids)))}
        return _Chunk(rows, accounts, active, current, last_due, bills, pay_accounts, payment_status)

    # -- deciding ----------------------------------------------------------------------------------
    def _chunk(self, uow: Work, rows: list[dict[str, Any]], counts: dict[str, int]) -> None:
        s = uow.session
        c = self._read(s, rows)
        counts["rows"] += len(rows)
        notices: list[tuple[str, dict[str, Any], str]] = []
        sync = not self.opt("skip_sync")
        origin = [_snapshot(r) for r in rows]
        for r, before in zip(rows, origin, strict=True):
            if sync and needs_bill(r["amount_type"], r["pay_date_type"]):
                self._sync(r, c, counts)
            self._advance_missed(r)
            self._check_end(r, notices)
            if _snapshot(r) != before:
                c.changed.add(r["recurring_id"])
        payments: list[dict[str, Any]] = []
        links: list[tuple[dict[str, Any], list[int]]] = []
        for r in rows:
            if r["status"] == _ACTIVE and r["bill_scheduled"] == "N" and r["next_pay_date"] <= self.horizon:
                before = _snapshot(r)
                self._schedule(r, c, payments, links, notices, counts)
                self._check_end(r, notices)
                if _snapshot(r) != before:
                    c.changed.add(r["recurring_id"])
        self._write(s, c, payments, links, counts)
        changed = [(r, o) for r, o in zip(rows, origin, strict=True) if r["recurring_id"] in c.changed]
        if changed:
            for r, _ in changed:
                r["last_modify_time"] = self.actor.now
            # only the columns that changed: an indexed column in the SET list rewrites its index entries
            cols = [k for i, k in enumerate(ROW_COLUMNS) if any(r[k] != o[i] for r, o in changed)] \
                or ["last_modify_time"]
            update_rows(s, "recurring_payments", "recurring_id",
                        [{"recurring_id": r["recurring_id"], **{k: r[k] for k in cols}} for r, _ in changed])
            audit_ids(s, RecurringPayment, [r["recurring_id"] for r, _ in changed], AuditOp.UPDATE, self.actor,
                      "recurring-payments")
        self.notify(uow, notices, counts)

    def _sync(self, r: dict[str, Any], c: _Chunk, counts: dict[str, int]) -> None:
        rid = r["recurring_id"]
        lo = first_doc_date(r["last_process_time"])
        cands: dict[str, _Bill] = {}
        for a in c.accounts[rid]:
            inside = [b for b in c.bills.get(a, ()) if lo <= b.doc_date <= self.today]
            if inside:
                cands[a] = max(inside, key=lambda b: (b.due_date, b.doc_date, b.doc_id))
        if r["bill_scheduled"] == "N":
            if not (self.every_run or r["next_pay_date"] <= self.horizon):
                return
            replaced = False
            for pending in list(c.active[rid]):
                b = cands.get(pending["payer_account_number"])
                if b is None or b.doc_id == pending["doc_id"]:
                    continue
                newer_due = b.due_date > pending["due_date"]
                rebill = b.due_date == pending["due_date"] and b.doc_date > pending["doc_date"]
                if newer_due or rebill:
                    c.superseded.append(pending["bill_id"])
                    c.active[rid].remove(pending)
                    self._add_summary(r, b, c)
                    counts["rebills" if rebill else "synchronized"] += 1
                    replaced = True
            if replaced:
                r["last_process_time"] = self.actor.now
                self._after_sync(r, c)
            return
        r["last_process_time"] = self.actor.now
        added = False
        cur = c.current.get(r["bill_id"]) if r["bill_id"] is not None else None
        for a, b in cands.items():
            paid_due = c.last_due.get((rid, a))
            if paid_due is None or b.due_date > paid_due:
                self._add_summary(r, b, c)
                counts["synchronized"] += 1
                added = True
            elif cur is not None and cur["payer_account_number"] == a and b.due_date == cur["due_date"] \
                    and b.doc_date > cur["doc_date"] and b.doc_id != cur["doc_id"]:
                if c.payment_status.get(cur["payment_id"] or 0) == CheckStatus.SCHEDULED:
                    c.cancelled_payments.append(cur["payment_id"])
                    c.superseded.append(cur["bill_id"])
                    r["curr_num_payments"] = max(0, r["curr_num_payments"] - 1)
                    self._add_summary(r, b, c)
                    counts["rebills"] += 1
                    added = True
                else:
                    counts["rebills_ignored"] += 1
        if added:
            r["bill_scheduled"] = "N"
            self._after_sync(r, c)

    def _add_summary(self, r: dict[str, Any], b: _Bill, c: _Chunk) -> None:
        summ = {"recurring_id": r["recurring_id"], "doc_id": b.doc_id, "payer_account_number": b.account,
                "doc_date": b.doc_date, "due_date": b.due_date, "amount_due": b.amount_due,
                "min_amount_due": b.min_due, "status": SummaryStatus.ACTIVE, "payment_id": None,
                "create_time": self.actor.now, "last_modify_time": self.actor.now}
        c.new_summaries.append(summ)
        c.active[r["recurring_id"]].append(summ)

    def _after_sync(self, r: dict[str, Any], c: _Chunk) -> None:
        pending = c.active[r["recurring_id"]]
        if len(pending) == 1:
            latest = pending[0]
            if r["pay_date_type"] == _BEFORE_DUE:
                r["next_pay_date"] = latest["due_date"] - dt.timedelta(days=int(r["days_before_due"]))
            r["_bill"] = latest
            return
        if r["pay_date_type"] == _BEFORE_DUE and pending:
            r["next_pay_date"] = min(p["due_date"] for p in pending) - dt.timedelta(days=int(r["days_before_due"]))
        r["_bill"] = max(pending, key=lambda p: (p["due_date"], p["doc_date"])) if pending else None

    def _advance_missed(self, r: dict[str, Any]) -> None:
        """Seed case 2: a month without a bill moves next_pay_date on."""
        if r["status"] == _ACTIVE and r["bill_scheduled"] == "Y" \
                and r["pay_date_type"] != _BEFORE_DUE and r["next_pay_date"] < self.today:
            r["next_pay_date"] = first_pay_date(r["pay_date_type"], int(r["pay_day"]), r["start_date"], self.today)

    def _check_end(self, r: dict[str, Any], notices: list[tuple[str, dict[str, Any], str]]) -> None:
        if r["status"] != _ACTIVE:
            return
        nxt = r["next_pay_date"]
        if r["curr_num_payments"] >= r["max_num_payments"]:
            why = f"the maximum of {r['max_num_payments']} payment(s) is reached"
        elif nxt != NO_DUE_DATE and nxt > r["end_date"]:
            why = f"the next pay date {nxt} is after the end date {r['end_date']}"
        elif r["bill_scheduled"] == "Y" and self.today > r["end_date"] and \
                needs_bill(r["amount_type"], r["pay_date_type"]):
            why = f"the end date {r['end_date']} has passed"
        else:
            return
        r["status"] = RecurringStatus.INACTIVE
        if self.opt("email_on_expiry") and r["expiry_notified"] == "N":
            r["expiry_notified"] = "Y"
            notices.append(("recurring_expired", {**self._view(r), "why": why}, "recurring-expired"))

    def _schedule(self, r: dict[str, Any], c: _Chunk, payments: list[dict[str, Any]],
                  links: list[tuple[dict[str, Any], list[int]]], notices: list[tuple[str, dict[str, Any], str]],
                  counts: dict[str, int]) -> None:
        rid = r["recurring_id"]
        opt = self._opts
        acct = c.pay_accounts.get(r["pid"])
        reason = None
        if acct is None or acct.account_status == _INACTIVE_ACCOUNT:
            reason = "the payment account is cancelled" if opt["cancel_if_account_cancelled"] else None
        elif acct.account_status == _BAD_ACCOUNT and opt["cancel_if_account_invalid"]:
            reason = "the payment account is invalid"
        if reason:
            r["status"] = RecurringStatus.CANCELLED
            counts["cancelled"] += 1
            if opt["email_on_cancel"]:
                notices.append(("recurring_cancelled", {**self._view(r), "why": reason}, "recurring-cancelled"))
            return
        period = r["next_pay_date"]
        pay_date = max(period, self.today)
        amount_type = r["amount_type"]
        fixed_amount = amount_type == _FIXED
        bill_based = not fixed_amount or r["pay_date_type"] == _BEFORE_DUE
        pending = c.active[rid]
        if len(pending) > 1:
            pending = sorted(pending, key=_pending_order)
        if bill_based and not pending:
            return
        proposals: list[tuple[ProposedPayment, list[dict[str, Any]]]] = []
        if fixed_amount:
            last = pending[-1] if pending else None
            proposals.append((self._proposal(r, int(r["amount"]), pay_date, last), pending))
        else:
            for p in pending:
                due = int(p["amount_due"] if amount_type == _AMOUNT_DUE else p["min_amount_due"])
                limit, amount = r["amount"], due
                if r["amount_limit"] == _LESS_THAN and due >= int(limit):
                    counts["over_limit_skipped"] += 1
                    if opt["email_over_limit"]:
                        notices.append(("recurring_over_limit", {**self._view(r), "due": format_cents(due),
                                                                 "paid": format_cents(0)}, "recurring-over-limit"))
                    amount = 0
                elif r["amount_limit"] == _UP_TO and due > int(limit):
                    amount = int(limit)
                    if opt["email_over_limit"]:
                        notices.append(("recurring_over_limit", {**self._view(r), "due": format_cents(due),
                                                                 "paid": format_cents(amount)},
                                        "recurring-over-limit"))
                proposals.append((self._proposal(r, amount, pay_date, p), [p]))
        made = 0
        for prop, summaries in proposals:
            final = apply_hooks(self.hooks, prop) if prop.amount > 0 and self.hooks else prop
            ids: list[int] = []
            if final is None:
                counts["vetoed"] += 1
            elif final.amount == 0:
                counts["zero_skipped"] += 1
                if opt["email_on_zero"]:
                    notices.append(("recurring_scheduled", {**self._view(r), "amount": format_cents(0),
                                                            "pay_date": final.pay_date.isoformat()},
                                    "recurring-scheduled"))
            else:
                payments.append(self._payment(r, acct, final))
                ids = [len(payments) - 1]
                made += 1
                r["last_pay_date"] = final.pay_date
                if opt["email_on_schedule"]:
                    notices.append(("recurring_scheduled", {**self._view(r), "amount": format_cents(final.amount),
                                                            "pay_date": final.pay_date.isoformat()},
                                    "recurring-scheduled"))
            links.append((r, ids))
            for summ in summaries:
                summ["status"] = SummaryStatus.SCHEDULED
                summ["_payment"] = ids
                c.scheduled.append(summ)
        c.active[rid] = []
        if made:
            r["curr_num_payments"] += 1
        if bill_based:
            r["bill_scheduled"] = "Y"
        if r["pay_date_type"] != _BEFORE_DUE:
            r["next_pay_date"] = first_pay_date(r["pay_date_type"], int(r["pay_day"]), r["start_date"],
                                                day_after(period))

    def _proposal(self, r: dict[str, Any], amount: int, pay_date: dt.date,
                  bill: dict[str, Any] | None) -> ProposedPayment:
        return ProposedPayment(r["recurring_id"], r["setup_ref"], r["user_id"],
                               bill["payer_account_number"] if bill else r["payer_account_number"], amount, pay_date,
                               bill["doc_id"] if bill else None, bill["due_date"] if bill else None)

    def _payment(self, r: dict[str, Any], acct: Any, p: ProposedPayment) -> dict[str, Any]:
        return {"payee_id": r["payee_id"], "payer_id": r["user_id"], "pay_date": p.pay_date, "amount": p.amount,
                "status": CheckStatus.SCHEDULED, "pid": r["pid"], "routing_transit": acct.routing_transit or "",
                "check_account_number": acct.account_number, "account_name": (acct.account_holder_name or "")[:40],
                "account_type": acct.account_type or "checking", "payer_account_number": p.payer_account_number,
                "bill_id": p.doc_id, "payment_source": "R", "memo": p.memo, "reminded": "N",
                "create_time": self.actor.now, "last_modify_time": self.actor.now, "needs_backup": "N",
                "partition_id": 0, "flexible_field_1": r["setup_ref"]}

    def _view(self, r: dict[str, Any]) -> dict[str, Any]:
        return {"setup": r["setup_ref"], "user_id": r["user_id"], "account": mask(r["payer_account_number"]),
                "email": r["payer_email_addr"], "recurring_id": r["recurring_id"]}

    # -- writing -----------------------------------------------------------------------------------
    def _write(self, s: UnitSession, c: _Chunk, payments: list[dict[str, Any]],
               links: Sequence[tuple[dict[str, Any], list[int]]], counts: dict[str, int]) -> None:
        """Payments first (their ids go into the summaries), then summaries in their final state."""
        now = self.actor.now
        if c.cancelled_payments:
            s.execute(update(CheckPayment).where(CheckPayment.payment_id.in_(c.cancelled_payments),
                                                 CheckPayment.status == CheckStatus.SCHEDULED)
                      .values(status=CheckStatus.CANCELLED, reminded="N", last_modify_time=now,
                              txn_err_msg="replaced by a rebill"))
            audit_ids(s, CheckPayment, c.cancelled_payments, AuditOp.UPDATE, self.actor, "rebill: cancelled")
            counts["payments_cancelled"] += len(c.cancelled_payments)
        if c.superseded:
            s.execute(update(PaymentBillSummary).where(PaymentBillSummary.bill_id.in_(c.superseded))
                      .values(status=SummaryStatus.SUPERSEDED, last_modify_time=now))
            audit_ids(s, PaymentBillSummary, c.superseded, AuditOp.UPDATE, self.actor, "superseded by a rebill")
        pay_ids: list[int] = []
        if payments:
            # ids ascend in (payer_id, pid) order: the primary key still appends, and the randomly keyed
            # indexes (payer_id, pid, the history's pid) take the chunk's entries page by page in key order
            order = sorted(range(len(payments)), key=lambda k: (payments[k]["payer_id"], payments[k]["pid"]))
            reserved = reserve_ids(s, "check_payments", "payment_id", len(payments))
            pay_ids = [0] * len(payments)
            for k, i in zip(order, reserved, strict=True):
                pay_ids[k] = payments[k]["payment_id"] = i
            insert_rows(s, "check_payments", [payments[k] for k in order])
            audit_ids(s, CheckPayment, reserved, AuditOp.CREATE, self.actor, "scheduled by recurring-payments",
                      order_by=CheckPayment.pid)
            counts["scheduled"] += len(pay_ids)
            counts["scheduled_cents"] += sum(p["amount"] for p in payments)
        for r, idx in links:
            if idx:
                r["payment_id"] = pay_ids[idx[-1]]
        for m in c.scheduled:
            idx = m.pop("_payment", [])
            m["payment_id"] = pay_ids[idx[-1]] if idx else None
        if c.new_summaries:
            cols = [k for k in c.new_summaries[0] if not k.startswith("_")]
            ids = reserve_ids(s, "payment_bill_summaries", "bill_id", len(c.new_summaries))
            insert_rows(s, "payment_bill_summaries", [{**{k: m[k] for k in cols}, "bill_id": i}
                                                      for m, i in zip(c.new_summaries, ids, strict=True)])
            for m, i in zip(c.new_summaries, ids, strict=True):
                m["bill_id"] = i
            audit_ids(s, PaymentBillSummary, ids, AuditOp.CREATE, self.actor, "synchronized")
        new = {id(m) for m in c.new_summaries}
        updates = [{"bill_id": m["bill_id"], "status": SummaryStatus.SCHEDULED, "payment_id": m["payment_id"],
                    "last_modify_time": now} for m in c.scheduled if id(m) not in new]
        if updates:
            update_rows(s, "payment_bill_summaries", "bill_id", updates)
            audit_ids(s, PaymentBillSummary, [u["bill_id"] for u in updates], AuditOp.UPDATE, self.actor,
                      "scheduled")
        for r in c.rows:
            b = r.pop("_bill", None)
            if b is not None and r["bill_id"] != b["bill_id"]:
                r["bill_id"] = b["bill_id"]
                c.changed.add(r["recurring_id"])

    def notify(self, uow: Work, notices: list[tuple[str, dict[str, Any], str]],
                counts: dict[str, int]) -> None:
        out: list[Notice] = []
        for template, values, kind in notices:
            email = values.get("email")
            if not email:
                counts["no_address"] += 1
                continue
            if template not in self._renderers:
                self._renderers[template] = renderer(template)
            subject, body = self._renderers[template](**values)
            out.append(Notice(kind, email, subject, body, "recurring_payments", values["recurring_id"]))
        queue(uow.session, out, self.actor, audit=self.opt("audit_notifications"), ref=f"job_run:{self.ctx.run_id}")
        counts["emails"] += len(out)
