"""recurring-payments' common case written set-based (SQLite): one new bill, one payment, per setup.

A setup is taken here only where the general path (``payments.py``) would certainly do exactly this:
active, amount due or minimum due, N days before the due date, ``bill_scheduled`` Y, its only account
(no other ``recurring_payment_accounts`` row) has exactly one bill in its window
[first_doc_date(last_process_time), today], due after the last one scheduled, nothing pending, a
payment account neither inactive nor invalid, the pay date within the horizon, no limit crossed, no
end reached, an amount above zero, and the job has no hooks. The rows it writes are the general path's
(same columns, same history rows, e-mails rendered by the same templates); every other setup of the
chunk is left to the general path, in the same transaction. The per-setup checks that are plain
arithmetic run in Python over the few columns the candidate query returns; the rows go in with
``INSERT ... SELECT`` and ``UPDATE ... FROM`` from a temporary table of the decisions.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Protocol

from formats.bills import format_cents
from formats.errors import mask
from handlers.recurring.audit import Actor, audit_ids
from handlers.recurring.dates import first_doc_date
from handlers.recurring.hooks import Hook
from handlers.recurring.ids import reserve_ids
from store.bulk import column_defaults
from store.models.ach import AccountStatus, AuditOp, CheckPayment, CheckStatus
from store.models.bills import BillStatus
from store.models.recurring import (
    NO_DUE_DATE,
    AmountLimit,
    AmountType,
    PayDateType,
    PaymentBillSummary,
    RecurringPayment,
    RecurringStatus,
    SummaryStatus,
)

if TYPE_CHECKING:
    from store.unit import Work


class RecurringJob(Protocol):
    """What the step needs of ``payments.RecurringPaymentsJob`` (which imports this module)."""

    options: dict[str, Any]
    hooks: list[Hook]
    today: dt.date
    horizon: dt.date
    actor: Actor

    def opt(self, name: str) -> bool: ...

    def notify(self, uow: Work, notices: list[tuple[str, dict[str, Any], str]], counts: dict[str, int]) -> None: ...

#: the decisions of one chunk; the general path's read of the chunk leaves these setups out
FAST_TABLE = "temp.recurring_fast"
_WINDOWS = "temp.recurring_windows"
#: the general path's columns of a scheduled payment, in ``_payment``'s order
PAYMENT_COLUMNS = ("payment_id", "payee_id", "payer_id", "pay_date", "amount", "status", "pid", "routing_transit",
                   "check_account_number", "account_name", "account_type", "payer_account_number", "bill_id",
                   "payment_source", "memo", "reminded", "create_time", "last_modify_time", "needs_backup",
                   "partition_id", "flexible_field_1")

_CANDIDATES = f"""
SELECT r.recurring_id, r.user_id, r.pid, r.setup_ref, r.payer_account_number, r.payer_email_addr, r.amount_type,
    r.amount, r.amount_limit, r.days_before_due, r.end_date, r.curr_num_payments, r.max_num_payments,
    b.bill_id, b.account_number, b.due_date, b.amount_due, b.minimum_amount_due
FROM recurring_payments r
    JOIN {_WINDOWS} w ON w.lpt = r.last_process_time
    JOIN bills b ON b.account_number = r.payer_account_number AND b.status IN (?, ?)
        AND b.document_date >= w.first_doc AND b.document_date <= ?
    JOIN payment_accounts a ON a.pid = r.pid
WHERE r.status = ? AND r.recurring_id > ? AND r.recurring_id <= ?
    AND r.amount_type IN (?, ?) AND r.pay_date_type = ? AND r.bill_scheduled = 'Y'
    AND (a.account_status IS NULL OR a.account_status NOT IN (?, ?))
    AND NOT EXISTS (SELECT 1 FROM recurring_payment_accounts x
                    WHERE x.recurring_id = r.recurring_id AND x.payer_account_number <> r.payer_account_number)
    AND NOT EXISTS (SELECT 1 FROM bills o WHERE o.account_number = b.account_number AND o.status IN (?, ?)
                    AND o.document_date >= w.first_doc AND o.document_date <= ? AND o.bill_id <> b.bill_id)
    AND NOT EXISTS (SELECT 1 FROM payment_bill_summaries s WHERE s.recurring_id = r.recurring_id AND s.status = ?)
    AND NOT EXISTS (SELECT 1 FROM payment_bill_summaries s WHERE s.recurring_id = r.recurring_id
                    AND s.payer_account_number = b.account_number AND s.status = ? AND s.due_date >= b.due_date)
ORDER BY r.recurring_id"""


def available(job: RecurringJob, dialect: str) -> bool:
    """Only where every setup it takes is certainly the general path's common case."""
    return (dialect == "sqlite" and bool(job.options.get("set_based", True)) and not job.hooks
            and not job.opt("skip_sync"))


def _prepare(conn: Any) -> None:
    conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {FAST_TABLE} (recurring_id INTEGER PRIMARY KEY, "
                         "payment_id INTEGER, summary_id INTEGER, doc_id TEXT, account TEXT, pay_date TEXT, "
                         "next_pay_date TEXT, amount INTEGER)")
    conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {_WINDOWS} (lpt DATETIME PRIMARY KEY, first_doc TEXT)")
    conn.exec_driver_sql(f"DELETE FROM {FAST_TABLE}")
    conn.exec_driver_sql(f"DELETE FROM {_WINDOWS}")


def step(job: RecurringJob, uow: Work, after: int, upto: int, counts: dict[str, int]) -> int:
    """Write the common-case setups with ids in (after, upto]; their ids stay in ``FAST_TABLE``. Returns how many."""
    s = uow.session
    conn = s.connection()
    dialect = conn.dialect
    _prepare(conn)
    rp = RecurringPayment.__table__
    lpt_of = rp.c.last_process_time.type._cached_result_processor(dialect, None)
    active = RecurringStatus.ACTIVE.value
    raws = [r[0] for r in conn.exec_driver_sql(
        "SELECT DISTINCT last_process_time FROM recurring_payments "
        "WHERE status = ? AND recurring_id > ? AND recurring_id <= ?", (active, after, upto))]
    if not raws:
        return 0
    conn.exec_driver_sql(f"INSERT INTO {_WINDOWS} (lpt, first_doc) VALUES (?, ?)",
                         [(raw, first_doc_date(lpt_of(raw) if lpt_of else raw).isoformat()) for raw in raws])
    today = job.today.isoformat()
    states = tuple(str(b.value) for b in (BillStatus.LOADED, BillStatus.PUBLISHED))
    cands = conn.exec_driver_sql(_CANDIDATES, (
        *states, today, active, after, upto, AmountType.AMOUNT_DUE.value, AmountType.MIN_DUE.value,
        PayDateType.BEFORE_DUE.value, AccountStatus.INACTIVE.value, AccountStatus.BAD_ACTIVE.value,
        *states, today, SummaryStatus.ACTIVE.value, SummaryStatus.SCHEDULED.value)).fetchall()
    fast: list[tuple[Any, ...]] = []
    for (rid, user_id, pid, ref, account, email, amount_type, limit, limit_kind, days_before, end, curr, most,
         doc_id, bill_account, due, amount_due, min_due) in cands:
        if days_before is None:
            continue
        end_date = dt.date.fromisoformat(end)
        next_pay = dt.date.fromisoformat(due) - dt.timedelta(days=int(days_before))
        if next_pay > job.horizon or next_pay == NO_DUE_DATE or next_pay > end_date or job.today > end_date \
                or curr + 1 >= most:
            continue
        amount = int(amount_due if amount_type == AmountType.AMOUNT_DUE else min_due)
        if limit_kind == AmountLimit.LESS_THAN and (limit is None or amount >= int(limit)):
            continue
        if limit_kind == AmountLimit.UP_TO and (limit is None or amount > int(limit)):
            continue
        if amount <= 0:
            continue
        fast.append((rid, user_id, pid, ref, account, email, doc_id, bill_account, max(next_pay, job.today),
                     next_pay, amount))
    if not fast:
        return 0
    n = len(fast)
    # the general path's ids: payments in (payer_id, pid) order, summaries in setup order
    order = sorted(range(n), key=lambda k: (fast[k][1], fast[k][2]))
    reserved = reserve_ids(s, "check_payments", "payment_id", n)
    pay_ids = [0] * n
    for k, i in zip(order, reserved, strict=True):
        pay_ids[k] = i
    summary_ids = reserve_ids(s, "payment_bill_summaries", "bill_id", n)
    conn.exec_driver_sql(f"INSERT INTO {FAST_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
        (f[0], p, b, f[6], f[7], f[8].isoformat(), f[9].isoformat(), f[10])
        for f, p, b in zip(fast, pay_ids, summary_ids, strict=True)])
    _write(job, uow, reserved, summary_ids, [f[0] for f in fast], after, upto)
    counts["rows"] += n
    counts["synchronized"] += n
    counts["scheduled"] += n
    counts["scheduled_cents"] += sum(f[10] for f in fast)
    if job.opt("email_on_schedule"):
        job.notify(uow, [("recurring_scheduled", {
            "setup": f[3], "user_id": f[1], "account": mask(f[4]), "email": f[5], "recurring_id": f[0],
            "amount": format_cents(f[10]), "pay_date": f[8].isoformat()}, "recurring-scheduled") for f in fast],
            counts)
    return n


def _bind(table: Any, column: str, value: Any, dialect: Any) -> Any:
    proc = table.c[column].type._cached_bind_processor(dialect)
    return value if proc is None else proc(value)


def _write(job: RecurringJob, uow: Work, pay_ids: list[int], summary_ids: list[int], rids: list[int],
           after: int, upto: int) -> None:
    """The general path's ``_write`` and row update for these setups: payments, summaries, setups, histories."""
    s = uow.session
    conn = s.connection()
    dialect = conn.dialect
    now = job.actor.now
    cp, summ, rp = CheckPayment.__table__, PaymentBillSummary.__table__, RecurringPayment.__table__
    extra = column_defaults(cp, PAYMENT_COLUMNS)
    extra_cols = "".join(f", {c}" for c in extra)
    extra_vals = [_bind(cp, c, v, dialect) for c, v in extra.items()]
    cp_now = _bind(cp, "create_time", now, dialect)
    conn.exec_driver_sql(f"""
        INSERT INTO check_payments ({', '.join(PAYMENT_COLUMNS)}{extra_cols})
        SELECT f.payment_id, r.payee_id, r.user_id, f.pay_date, f.amount, ?, r.pid, COALESCE(a.routing_transit, ''),
            a.account_number, SUBSTR(COALESCE(a.account_holder_name, ''), 1, 40),
            COALESCE(NULLIF(a.account_type, ''), 'checking'), f.account, f.doc_id, 'R', NULL, 'N', ?, ?, 'N', 0,
            r.setup_ref{', ?' * len(extra)}
        FROM {FAST_TABLE} f JOIN recurring_payments r ON r.recurring_id = f.recurring_id
            JOIN payment_accounts a ON a.pid = r.pid
        ORDER BY f.payment_id""", (int(CheckStatus.SCHEDULED), cp_now, cp_now, *extra_vals))
    audit_ids(s, CheckPayment, pay_ids, AuditOp.CREATE, job.actor, "scheduled by recurring-payments",
              order_by=CheckPayment.pid)
    s_now = _bind(summ, "create_time", now, dialect)
    conn.exec_driver_sql(f"""
        INSERT INTO payment_bill_summaries (recurring_id, doc_id, payer_account_number, doc_date, due_date,
            amount_due, min_amount_due, status, payment_id, create_time, last_modify_time, bill_id)
        SELECT f.recurring_id, b.bill_id, b.account_number, b.document_date, b.due_date, b.amount_due,
            b.minimum_amount_due, ?, f.payment_id, ?, ?, f.summary_id
        FROM {FAST_TABLE} f JOIN bills b ON b.bill_id = f.doc_id
        ORDER BY f.summary_id""", (SummaryStatus.SCHEDULED.value, s_now, s_now))
    audit_ids(s, PaymentBillSummary, summary_ids, AuditOp.CREATE, job.actor, "synchronized")
    r_now = _bind(rp, "last_modify_time", now, dialect)
    # the id range lets SQLite walk the chunk's rows, not scan the table for the temporary one's
    conn.exec_driver_sql(f"""
        UPDATE recurring_payments SET last_process_time = ?, last_pay_date = f.pay_date,
            next_pay_date = f.next_pay_date, bill_id = f.summary_id, payment_id = f.payment_id,
            curr_num_payments = recurring_payments.curr_num_payments + 1, last_modify_time = ?
        FROM {FAST_TABLE} f WHERE f.recurring_id = recurring_payments.recurring_id
            AND recurring_payments.recurring_id > ? AND recurring_payments.recurring_id <= ?""",
                         (_bind(rp, "last_process_time", now, dialect), r_now, after, upto))
    audit_ids(s, RecurringPayment, rids, AuditOp.UPDATE, job.actor, "recurring-payments")
