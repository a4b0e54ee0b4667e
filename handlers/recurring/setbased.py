"""recurring-payments' common case written set-based (SQLite): one new bill, one payment, per setup.

A setup is taken here only where the general path (``payments.py``) would certainly do exactly this:
active, amount due or minimum due, N days before the due date, ``bill_scheduled`` Y, its only account
(no other ``recurring_payment_accounts`` row) has exactly one bill in its window
[first_doc_date(last_process_time), today], due after the last one scheduled, nothing pending, a
payment account neither inactive nor invalid, the pay date within the horizon, no limit crossed, no
end reached, an amount above zero, and the job has no hooks. The rows it writes are the general path's
(same columns, same history rows, e-mails rendered by the same templates); every other setup of the
chunk is left to the general path, in the same transaction. The decisions (``_DECIDE``) are one
``INSERT ... SELECT`` into a temporary table; the rows go in with ``INSERT ... SELECT`` and
``UPDATE ... FROM`` from it, and the e-mails with ``setbased_mail``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from handlers.ach.store import db_value
from handlers.recurring import setbased_mail
from handlers.recurring.audit import audit_ids
from handlers.recurring.dates import first_doc_date
from handlers.recurring.ids import top_id
from store.bulk import column_defaults, result_processor
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
    from handlers.recurring.stepjob import RecurringJob
    from store.unit import Work


#: the decisions of one chunk; the general path's read of the chunk leaves these setups out
FAST_TABLE = "temp.recurring_fast"
_WINDOWS = "temp.recurring_windows"
#: the general path's columns of a scheduled payment, in ``_payment``'s order
PAYMENT_COLUMNS = ("payment_id", "payee_id", "payer_id", "pay_date", "amount", "status", "pid", "routing_transit",
                   "check_account_number", "account_name", "account_type", "payer_account_number", "bill_id",
                   "payment_source", "memo", "reminded", "create_time", "last_modify_time", "needs_backup",
                   "partition_id", "flexible_field_1")

#: the chunk's common-case setups and the general path's decision for each, computed in SQL: the pay date
#: N days before the due date (never before today), the bill's amount, the limits; payment ids in
#: (payer_id, pid) order and summary ids in setup order, each after the table's highest (SQLite writers
#: hold the database lock, see ``ids.py``). Anything the general path would decide otherwise, or where a
#: value is missing or odd (NULL, a date out of range), is left out and goes to the general path.
#: MATERIALIZED: computed once per row, not once per use (SQLite flattens a subquery into its uses).
_DECIDE = f"""
INSERT INTO {FAST_TABLE} (recurring_id, payment_id, summary_id, doc_id, account, pay_date, next_pay_date, amount)
WITH c AS MATERIALIZED (
    SELECT r.recurring_id, r.user_id, r.pid, b.bill_id, b.account_number, r.end_date,
        r.curr_num_payments AS curr, r.max_num_payments AS most, r.amount AS lim, r.amount_limit AS lim_kind,
        date(b.due_date, printf('%+d days', -r.days_before_due)) AS next_pay,
        CASE r.amount_type WHEN :amount_due THEN b.amount_due ELSE b.minimum_amount_due END AS amount
    FROM recurring_payments r
        JOIN {_WINDOWS} w ON w.lpt = r.last_process_time
        JOIN bills b ON b.account_number = r.payer_account_number AND b.status IN (:loaded, :published)
            AND b.document_date >= w.first_doc AND b.document_date <= :today
        JOIN payment_accounts a ON a.pid = r.pid
    WHERE r.status = :active AND r.recurring_id > :after AND r.recurring_id <= :upto
        AND r.amount_type IN (:amount_due, :min_due) AND r.pay_date_type = :before_due AND r.bill_scheduled = 'Y'
        AND r.days_before_due IS NOT NULL
        AND (a.account_status IS NULL OR a.account_status NOT IN (:inactive, :bad))
        AND NOT EXISTS (SELECT 1 FROM recurring_payment_accounts x
                        WHERE x.recurring_id = r.recurring_id AND x.payer_account_number <> r.payer_account_number)
        AND NOT EXISTS (SELECT 1 FROM bills o WHERE o.account_number = b.account_number
                        AND o.status IN (:loaded, :published) AND o.document_date >= w.first_doc
                        AND o.document_date <= :today AND o.bill_id <> b.bill_id)
        AND NOT EXISTS (SELECT 1 FROM payment_bill_summaries s WHERE s.recurring_id = r.recurring_id
                        AND s.status = :summary_active)
        AND NOT EXISTS (SELECT 1 FROM payment_bill_summaries s WHERE s.recurring_id = r.recurring_id
                        AND s.payer_account_number = b.account_number AND s.status = :summary_scheduled
                        AND s.due_date >= b.due_date))
SELECT recurring_id, :pay_base + row_number() OVER (ORDER BY user_id, pid, recurring_id),
    :summary_base + row_number() OVER (ORDER BY recurring_id), bill_id, account_number, max(next_pay, :today),
    next_pay, amount
FROM c
WHERE next_pay IS NOT NULL AND next_pay >= '0001-01-01' AND next_pay <= :horizon AND next_pay <> :no_due
    AND next_pay <= end_date AND :today <= end_date AND curr + 1 < most AND amount > 0
    AND (lim_kind IS NULL OR lim_kind NOT IN (:less_than, :up_to)
         OR (lim_kind = :less_than AND lim IS NOT NULL AND amount < lim)
         OR (lim_kind = :up_to AND lim IS NOT NULL AND amount <= lim))
ORDER BY recurring_id"""


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
    lpt_of = result_processor(rp.c.last_process_time.type, dialect)
    active = RecurringStatus.ACTIVE.value
    raws = [r[0] for r in conn.exec_driver_sql(
        "SELECT DISTINCT last_process_time FROM recurring_payments "
        "WHERE status = ? AND recurring_id > ? AND recurring_id <= ?", (active, after, upto))]
    if not raws:
        return 0
    conn.exec_driver_sql(f"INSERT INTO {_WINDOWS} (lpt, first_doc) VALUES (?, ?)",
                         [(raw, first_doc_date(lpt_of(raw) if lpt_of else raw).isoformat()) for raw in raws])
    pay_base = top_id(s, "check_payments", "payment_id")
    summary_base = top_id(s, "payment_bill_summaries", "bill_id")
    conn.execute(text(_DECIDE), {
        "pay_base": pay_base, "summary_base": summary_base, "today": job.today.isoformat(),
        "horizon": job.horizon.isoformat(), "no_due": NO_DUE_DATE.isoformat(), "active": active,
        "after": after, "upto": upto, "amount_due": AmountType.AMOUNT_DUE.value, "min_due": AmountType.MIN_DUE.value,
        "before_due": PayDateType.BEFORE_DUE.value, "loaded": str(BillStatus.LOADED.value),
        "published": str(BillStatus.PUBLISHED.value), "inactive": AccountStatus.INACTIVE.value,
        "bad": AccountStatus.BAD_ACTIVE.value, "summary_active": SummaryStatus.ACTIVE.value,
        "summary_scheduled": SummaryStatus.SCHEDULED.value, "less_than": AmountLimit.LESS_THAN.value,
        "up_to": AmountLimit.UP_TO.value})
    n, cents = conn.exec_driver_sql(f"SELECT count(*), COALESCE(sum(amount), 0) FROM {FAST_TABLE}").one()
    if not n:
        return 0
    pay_ids = list(range(pay_base + 1, pay_base + n + 1))
    summary_ids = list(range(summary_base + 1, summary_base + n + 1))
    rids = [r[0] for r in conn.exec_driver_sql(f"SELECT recurring_id FROM {FAST_TABLE} ORDER BY recurring_id")]
    _write(job, uow, pay_ids, summary_ids, rids, after, upto)
    counts["rows"] += n
    counts["synchronized"] += n
    counts["scheduled"] += n
    counts["scheduled_cents"] += int(cents)
    if job.opt("email_on_schedule"):
        setbased_mail.scheduled(job, uow, FAST_TABLE, int(n), counts)
    return int(n)


def _write(job: RecurringJob, uow: Work, pay_ids: list[int], summary_ids: list[int], rids: list[int],
           after: int, upto: int) -> None:
    """The general path's ``_write`` and row update for these setups: payments, summaries, setups, histories."""
    s = uow.session
    conn = s.connection()
    now = job.actor.now
    cp, summ, rp = CheckPayment.__table__, PaymentBillSummary.__table__, RecurringPayment.__table__
    extra = column_defaults(cp, PAYMENT_COLUMNS)
    extra_cols = "".join(f", {c}" for c in extra)
    extra_vals = [db_value(s, cp.c[c], v) for c, v in extra.items()]
    cp_now = db_value(s, cp.c["create_time"], now)
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
    s_now = db_value(s, summ.c["create_time"], now)
    conn.exec_driver_sql(f"""
        INSERT INTO payment_bill_summaries (recurring_id, doc_id, payer_account_number, doc_date, due_date,
            amount_due, min_amount_due, status, payment_id, create_time, last_modify_time, bill_id)
        SELECT f.recurring_id, b.bill_id, b.account_number, b.document_date, b.due_date, b.amount_due,
            b.minimum_amount_due, ?, f.payment_id, ?, ?, f.summary_id
        FROM {FAST_TABLE} f JOIN bills b ON b.bill_id = f.doc_id
        ORDER BY f.summary_id""", (SummaryStatus.SCHEDULED.value, s_now, s_now))
    audit_ids(s, PaymentBillSummary, summary_ids, AuditOp.CREATE, job.actor, "synchronized")
    r_now = db_value(s, rp.c["last_modify_time"], now)
    # the id range lets SQLite walk the chunk's rows, not scan the table for the temporary one's
    conn.exec_driver_sql(f"""
        UPDATE recurring_payments SET last_process_time = ?, last_pay_date = f.pay_date,
            next_pay_date = f.next_pay_date, bill_id = f.summary_id, payment_id = f.payment_id,
            curr_num_payments = recurring_payments.curr_num_payments + 1, last_modify_time = ?
        FROM {FAST_TABLE} f WHERE f.recurring_id = recurring_payments.recurring_id
            AND recurring_payments.recurring_id > ? AND recurring_payments.recurring_id <= ?""",
                         (db_value(s, rp.c["last_process_time"], now), r_now, after, upto))
    audit_ids(s, RecurringPayment, rids, AuditOp.UPDATE, job.actor, "recurring-payments")
