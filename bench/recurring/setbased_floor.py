"""What a set-based recurring-payments would cost at N setups on SQLite: a probe, not the job.

Usage: python bench/recurring/setbased_floor.py [N=1000000]

Seeds the bench's case (bench.seed: one new bill per setup, amount due, one day before the due date),
then writes the rows one run of recurring-payments writes for it (a bill summary, a check payment, three
history copies, the setup's update, an e-mail) with INSERT ... SELECT and UPDATE ... FROM, chunks of
10,000 setups, one transaction each, no per-setup Python. Only that case, and not its exact values (no
eligibility checks, no hooks, the e-mail text built in SQL): a lower bound for issue 13's idea 3, not a
substitute for a differential test. Prints the CPU of each statement.
"""

from __future__ import annotations

import importlib.util
import os
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

NOW = "2030-03-10 05:00:00.000000"
TODAY = "2030-03-10"
FIRST_DOC = "2030-02-08"
AUDIT = "audit_operation, audit_status, audit_reason, job_id, job_name, time_stamp"
AUDIT_VALUES = f"1, 0, 'probe', 1, 'recurring-payments', '{NOW}'"
CHUNK = 10000


def columns(c: sqlite3.Connection, table: str) -> str:
    return ", ".join(r[1] for r in c.execute(f"PRAGMA table_info({table})"))


def run(path: str) -> dict[str, float]:
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA synchronous=FULL")
    cp, summ, rec = columns(c, "check_payments"), columns(c, "payment_bill_summaries"), columns(c, "recurring_payments")
    stats: dict[str, float] = {}

    def ex(name: str, sql: str, params: tuple[object, ...] = ()) -> None:
        t = time.process_time()
        c.execute(sql, params)
        stats[name] = stats.get(name, 0.0) + time.process_time() - t

    top = c.execute("SELECT COALESCE(MAX(recurring_id), 0) FROM recurring_payments").fetchone()[0]
    for lo in range(1, top + 1, CHUNK):
        hi = lo + CHUNK - 1
        ex("begin", "BEGIN IMMEDIATE")
        pb = c.execute("SELECT COALESCE(MAX(payment_id), 0) FROM check_payments").fetchone()[0]
        sb = c.execute("SELECT COALESCE(MAX(bill_id), 0) FROM payment_bill_summaries").fetchone()[0]
        ex("INSERT payment_bill_summaries", """
            INSERT INTO payment_bill_summaries (bill_id, recurring_id, doc_id, payer_account_number, doc_date, due_date,
                amount_due, min_amount_due, status, payment_id, create_time, last_modify_time)
            SELECT ? + r.recurring_id - ? + 1, r.recurring_id, b.bill_id, b.account_number, b.document_date, b.due_date,
                b.amount_due, b.minimum_amount_due, 'scheduled', ? + r.recurring_id - ? + 1, ?, ?
            FROM recurring_payments r JOIN bills b ON b.account_number = r.payer_account_number
            WHERE r.recurring_id BETWEEN ? AND ? AND r.status = 'active' AND b.status IN ('LOADED', 'PUBLISHED')
                AND b.document_date BETWEEN ? AND ?
            ORDER BY r.recurring_id""", (sb, lo, pb, lo, NOW, NOW, lo, hi, FIRST_DOC, TODAY))
        ex("INSERT check_payments", """
            INSERT INTO check_payments (payment_id, payee_id, payer_id, pay_date, amount, status, pid, routing_transit,
                check_account_number, account_name, account_type, payer_account_number, bill_id, payment_source, memo,
                reminded, create_time, last_modify_time, needs_backup, partition_id, flexible_field_1)
            SELECT s.payment_id, r.payee_id, r.user_id, MAX(DATE(s.due_date, '-1 day'), ?), s.amount_due, 6, r.pid,
                a.routing_transit, a.account_number, SUBSTR(a.account_holder_name, 1, 40),
                COALESCE(a.account_type, 'checking'), s.payer_account_number, s.doc_id, 'R', NULL, 'N', ?, ?, 'N', 0,
                r.setup_ref
            FROM payment_bill_summaries s JOIN recurring_payments r ON r.recurring_id = s.recurring_id
                JOIN payment_accounts a ON a.pid = r.pid
            WHERE s.bill_id > ? ORDER BY s.payment_id""", (TODAY, NOW, NOW, sb))
        ex("history of check_payments", f"INSERT INTO check_payments_history ({cp}, {AUDIT}) "
           f"SELECT {cp}, {AUDIT_VALUES} FROM check_payments WHERE payment_id > ? ORDER BY pid", (pb,))
        ex("history of summaries", f"INSERT INTO payment_bill_summaries_history ({summ}, {AUDIT}) "
           f"SELECT {summ}, {AUDIT_VALUES} FROM payment_bill_summaries WHERE bill_id > ?", (sb,))
        ex("UPDATE recurring_payments", """
            UPDATE recurring_payments SET last_process_time = ?, last_pay_date = MAX(DATE(s.due_date, '-1 day'), ?),
                next_pay_date = DATE(s.due_date, '-1 day'), bill_id = s.bill_id, payment_id = s.payment_id,
                curr_num_payments = curr_num_payments + 1, last_modify_time = ?
            FROM payment_bill_summaries s
            WHERE s.recurring_id = recurring_payments.recurring_id AND s.bill_id > ?""", (NOW, TODAY, NOW, sb))
        ex("history of recurring_payments", f"INSERT INTO recurring_payments_history ({rec}, {AUDIT}) "
           f"SELECT {rec}, {AUDIT_VALUES} FROM recurring_payments WHERE recurring_id BETWEEN ? AND ?", (lo, hi))
        ex("INSERT notifications", """
            INSERT INTO notifications (lane, kind, recipients, subject, body, state, attempts, created_at, ref)
            SELECT 'bulk', 'recurring-scheduled', JSON_ARRAY(r.payer_email_addr),
                'Payment of ' || PRINTF('%d.%02d', p.amount / 100, p.amount % 100) || ' scheduled for ' || p.pay_date,
                'Your recurring payment ' || r.setup_ref || ' for account ****' || SUBSTR(r.payer_account_number, -4)
                || ' has scheduled a payment of ' || PRINTF('%d.%02d', p.amount / 100, p.amount % 100) || CHAR(10)
                || 'to be made on ' || p.pay_date || '.' || CHAR(10) || CHAR(10)
                || 'You can change or cancel this payment in the portal until the day before it is made.',
                'pending', 0, ?, 'job_run:probe'
            FROM recurring_payments r JOIN check_payments p ON p.payment_id = r.payment_id
            WHERE r.recurring_id BETWEEN ? AND ? ORDER BY p.payment_id""", (NOW, lo, hi))
        ex("commit", "COMMIT")
    c.close()
    return stats


def seed(url: str, n: int) -> None:
    """bench.py's own seed (this folder is no package)."""
    spec = importlib.util.spec_from_file_location("recurring_bench", Path(__file__).with_name("bench.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.seed(url, n)


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory(prefix="bench-recurring-floor-") as root:
        path = f"{root}/bench.db"
        seed(f"sqlite:///{path}", n)
        print(f"n={n} load={os.getloadavg()[0]:.2f}", flush=True)
        cpu0, t0 = time.process_time(), time.perf_counter()
        stats = run(path)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    for name, s in sorted(stats.items(), key=lambda kv: -kv[1]):
        print(f"{s:8.2f} s  {name}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"set-based floor: wall_s={wall:.1f} cpu_s={cpu:.1f} peak_rss_mb={rss:.0f} "
          f"load_after={os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
