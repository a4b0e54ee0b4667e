"""``EXPLAIN (ANALYZE, BUFFERS)`` of the return file's hot statements on a freshly loaded table.

    .venv/bin/python bench/ach/explain.py [--payments 1000000]

Loads the payments as ``bench.py`` does into a scratch PostgreSQL database (autovacuum or not,
nothing has analyzed the table yet), then shows, for one chunk of 2,000 trace numbers:
the trace lookup as an ``IN`` list and as ``= ANY(array)`` before statistics exist, the same
after :func:`handlers.stats.analyze_if_stale`, and the chunk's status update as per-row
``executemany`` vs ``UPDATE ... FROM unnest(arrays)`` vs, when every column has one value in the
chunk (what ``bulk_update`` now sends then), a plain ``UPDATE ... WHERE key = ANY(array)``
(each in a rolled-back transaction). Then the third round's checks (:func:`third_round`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psycopg

from bench.ach.bench import ODFI, load
from bench.pgexplain import explain, scratch_database
from bench.pgstatements import backend_cpu
from store.db import Database, make_engine

COLS = ("payment_id, payee_id, payer_id, status, amount, pid, routing_transit, check_account_number, "
        "account_type, account_name, txn_number, pay_date, action_code")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--payments", type=int, default=1_000_000)
    args = ap.parse_args()
    with scratch_database("achexplain") as url:
        db = Database(url)
        load(db, args.payments, args.payments // 10, dt.date.today())
        db.dispose()
        stride = 10
        traces = [f"{ODFI}{i + 1:07d}" for i in range(0, min(args.payments, 20_000 * stride), stride)][:2000]
        ids = list(range(1, 2 * len(traces), 2))
        from handlers.ach.audit import AUDIT_COLUMNS, base_columns
        from store.models.ach import CheckPayment

        cols = base_columns(CheckPayment)
        audit = (f"INSERT INTO check_payments_history ({', '.join(cols)}, {', '.join(AUDIT_COLUMNS)}) "
                 f"SELECT {', '.join(cols)}, 2, 0, 'bench', 1, 'bench', now() FROM check_payments")
        in_list = f"SELECT {COLS} FROM check_payments WHERE txn_number IN ({', '.join(['%s'] * len(traces))})"
        any_ = f"SELECT {COLS} FROM check_payments WHERE txn_number = ANY(%s)"
        with psycopg.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT reltuples FROM pg_class WHERE relname = 'check_payments'")
            print(f"check_payments reltuples before: {cur.fetchone()}  (-1: never analyzed)")
            explain(cur, "BEFORE: trace lookup, IN list of 2,000, no statistics", in_list, tuple(traces))
            explain(cur, "BEFORE: trace lookup, = ANY(array), no statistics", any_, (traces,))
            explain(cur, "BEFORE: per-row UPDATE (one of 2,000 executemany statements), no statistics",
                    "UPDATE check_payments SET status = %s, txn_err_msg = %s WHERE payment_id = %s", (3, "R01", 1))
            explain(cur, "BEFORE: audit rows, INSERT ... SELECT with an IN list of 2,000 ids",
                    f"{audit} WHERE payment_id IN ({', '.join(['%s'] * len(ids))})", tuple(ids))
            conn.rollback()
            from sqlalchemy.orm import Session

            from handlers.stats import analyze_if_stale

            eng = make_engine(url, pool=False)
            with Session(eng) as s, s.begin():
                t = time.perf_counter()
                done = analyze_if_stale(s, ("check_payments", "payment_accounts"))
                print(f"\nanalyze_if_stale: {done} in {time.perf_counter() - t:.2f} s")
            eng.dispose()
            explain(cur, "AFTER: trace lookup, = ANY(array), statistics from analyze_if_stale", any_, (traces,))
            explain(cur, "AFTER, first try: UPDATE ... FROM unnest(arrays), 2,000 rows",
                    "UPDATE check_payments AS t SET status = v.status, txn_err_msg = v.txn_err_msg FROM "
                    "unnest(CAST(%s AS BIGINT[]), CAST(%s AS INTEGER[]), CAST(%s AS VARCHAR(255)[])) "
                    "AS v(payment_id, status, txn_err_msg) WHERE t.payment_id = v.payment_id",
                    (ids, [3] * len(ids), ["R01"] * len(ids)))
            explain(cur, "AFTER: the same UPDATE with the keys again as = ANY(array) (what bulk_update runs)",
                    "UPDATE check_payments AS t SET status = v.status, txn_err_msg = v.txn_err_msg FROM "
                    "unnest(CAST(%s AS BIGINT[]), CAST(%s AS INTEGER[]), CAST(%s AS VARCHAR(255)[])) "
                    "AS v(payment_id, status, txn_err_msg) WHERE t.payment_id = v.payment_id "
                    "AND t.payment_id = ANY(%s)", (ids, [3] * len(ids), ["R01"] * len(ids), ids))
            explain(cur, "NOW: one value per column (a return code's chunk): UPDATE ... WHERE key = ANY(array)",
                    "UPDATE check_payments SET status = CAST(%s AS INTEGER), txn_err_msg = CAST(%s AS VARCHAR(255)) "
                    "WHERE payment_id = ANY(CAST(%s AS BIGINT[]))", (3, "R01", ids))
            explain(cur, "AFTER: audit rows, INSERT ... SELECT with = ANY(array) of 2,000 ids",
                    f"{audit} WHERE payment_id = ANY(%s)", (ids,))
            big = list(range(1, 20_001, 2))
            explain(cur, "AFTER: UPDATE ... FROM unnest(arrays), 10,000 rows (check-submit's chunk)",
                    "UPDATE check_payments AS t SET status = v.status, txn_err_msg = v.txn_err_msg FROM "
                    "unnest(CAST(%s AS BIGINT[]), CAST(%s AS INTEGER[]), CAST(%s AS VARCHAR(255)[])) "
                    "AS v(payment_id, status, txn_err_msg) WHERE t.payment_id = v.payment_id "
                    "AND t.payment_id = ANY(%s)", (big, [3] * len(big), ["R01"] * len(big), big))
            conn.rollback()
            third_round(conn, cur, audit, traces, args.payments)
    return 0


def third_round(conn: psycopg.Connection[Any], cur: psycopg.Cursor[Any], audit: str, traces: list[str],
                payments: int) -> None:
    """The trace lookup with its array in binary (``%b``, what ``key_filter`` sends now: the same
    plan); the return chunk's status update and its history rows as one statement (tried: no
    gain); and what each index of ``check_payments`` costs a non-HOT update, in server CPU per
    row, as indexes are dropped (in this scratch database)."""
    explain(cur, "NOW: trace lookup, = ANY(array) sent in binary", "SELECT " + COLS +
            " FROM check_payments WHERE txn_number = ANY(%b)", (traces,))
    step = max(1, payments // 2 // 40_000)
    pool = list(range(payments // 2, payments, step))
    blocks = [pool[i:i + 2000] for i in range(0, len(pool) - 1999, 2000)]
    upd = ("UPDATE check_payments SET status = 5, txn_err_msg = 'R01', reminded = 'N', log_id = 7, "
           "last_modify_time = now() WHERE payment_id = ANY(%s)")
    explain(cur, "TRIED: two statements (what runs): the chunk's UPDATE ...", upd, (blocks[0],))
    explain(cur, "TRIED: ... then its history rows by INSERT ... SELECT", f"{audit} WHERE payment_id = ANY(%s)",
            (blocks[0],))
    conn.rollback()
    explain(cur, "TRIED: one statement, WITH u AS (UPDATE ... RETURNING *) INSERT ... SELECT FROM u",
            f"WITH u AS ({upd} RETURNING *) {audit.replace('FROM check_payments', 'FROM u')}", (blocks[1],))
    conn.rollback()
    pid = conn.info.backend_pid
    todo = iter(blocks[2:])
    for label, drop in (("all 10 indexes", ()), ("6 indexes (nuk_3, 5, 7, 8 dropped)", (3, 5, 7, 8)),
                        ("the primary key only", (1, 2, 4, 6, 9))):
        for i in drop:
            cur.execute(f"DROP INDEX nuk_check_payments_{i}")
        conn.commit()
        rows, cpu = 0, 0.0
        for ids in [next(todo) for _ in range(5)]:
            c = backend_cpu(pid)
            cur.execute(upd, (ids,))
            cpu += backend_cpu(pid) - c
            rows += len(ids)
        conn.rollback()
        print(f"\n-- non-HOT UPDATE of {rows:,} rows with {label}: {cpu / rows * 1e6:.1f} us server CPU a row "
              f"(load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    sys.exit(main())
