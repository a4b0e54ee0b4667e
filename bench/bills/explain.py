"""Where PostgreSQL spends ``bills.load``'s time: ``EXPLAIN (ANALYZE, BUFFERS)`` and COPY against unnest.

    .venv/bin/python bench/bills/explain.py [--bills 20000]

Loads ``--bills`` bills with 8 line items each into a scratch database of ``$SPOOLGATE_BENCH_PG``
(default postgresql://postgres@127.0.0.1:5432/postgres) as the handler's batches of 1,000 do, then
shows for one more batch: the ``billId`` check as an ``IN`` list and as ``= ANY(array)``, the
line-item insert as ``INSERT ... SELECT FROM unnest(arrays)`` (its foreign-key trigger shows in the
plan), the wall time of the same 8,000 line items by unnest and by ``COPY``, and of 1,000 bills by
``INSERT ... RETURNING`` and by ids from the sequence + ``COPY`` (each in a rolled-back transaction,
alternating).
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

from bench.pgexplain import explain, scratch_database

BILLS = ("INSERT INTO bills (bill_id, account_number, user_id, payer_name, document_date, due_date, amount_due, "
         "minimum_amount_due, currency, pdf_ref, status, file_id, loaded_at, line_count) "
         "SELECT b, 'ACC-' || b, 'user1', 'Payer', DATE '2024-01-31', DATE '2024-02-15', 123456, 1000, 'USD', "
         "'pdf/' || b, 'PUBLISHED', 1, %s, 8 FROM unnest(%s::varchar[]) b RETURNING id")
ITEMS = "bill_line_items (bill_pk, position, description, amount, code)"
UNNEST = (f"INSERT INTO {ITEMS} SELECT * FROM unnest(CAST(%s AS BIGINT[]), CAST(%s AS INTEGER[]), "
          "CAST(%s AS VARCHAR(200)[]), CAST(%s AS BIGINT[]), CAST(%s AS VARCHAR(64)[]))")


def add_bills(cur: psycopg.Cursor[Any], ids: list[str]) -> list[list[Any]]:
    cur.execute(BILLS, (dt.datetime(2024, 1, 31), ids))
    pks = [r[0] for r in cur.fetchall()]
    return [[p for p in pks for _ in range(8)], [k + 1 for _ in pks for k in range(8)],
            [f"Charge {k}" for _ in pks for k in range(8)], [1000 + k for _ in pks for k in range(8)],
            [f"C{k}" for _ in pks for k in range(8)]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bills", type=int, default=20_000)
    args = ap.parse_args()
    with scratch_database("billsexplain") as url, psycopg.connect(url) as conn, conn.cursor() as cur:
        for start in range(0, args.bills, 1000):
            cols = add_bills(cur, [f"B{n:09d}" for n in range(start, min(start + 1000, args.bills))])
            cur.execute(UNNEST, cols)
        conn.commit()
        ids = [f"X{n:09d}" for n in range(1000)]
        explain(cur, "billId check, IN list of 1,000", "SELECT bill_id FROM bills WHERE bill_id IN "
                f"({', '.join(['%s'] * len(ids))})", ids)
        explain(cur, "billId check, = ANY(array)", "SELECT bill_id FROM bills WHERE bill_id = ANY(%s)", (ids,))
        explain(cur, "8,000 line items, INSERT ... SELECT FROM unnest", UNNEST, add_bills(cur, ids))
        conn.rollback()
        took = {"unnest": 0.0, "copy": 0.0}
        for run in range(6):
            cols = add_bills(cur, ids)
            way = "copy" if run % 2 else "unnest"
            t = time.perf_counter()
            if way == "unnest":
                cur.execute(UNNEST, cols)
            else:
                with cur.copy(f"COPY {ITEMS} FROM STDIN") as copy:
                    for row in zip(*cols, strict=True):
                        copy.write_row(row)
            took[way] += time.perf_counter() - t
            conn.rollback()
        print(f"\n-- 3 x 8,000 line items: unnest {took['unnest']:.3f} s, COPY {took['copy']:.3f} s, "
              f"COPY/unnest {took['copy'] / took['unnest']:.2f} (load {os.getloadavg()[0]:.1f})")
        took = {"returning": 0.0, "copy": 0.0}
        bill_cols = ("bill_id, account_number, user_id, payer_name, document_date, due_date, amount_due, "
                     "minimum_amount_due, currency, pdf_ref, status, file_id, loaded_at, line_count")
        bills = [(b, f"ACC-{b}", "user1", "Payer", dt.date(2024, 1, 31), dt.date(2024, 2, 15), 123456, 1000,
                  "USD", f"pdf/{b}", "PUBLISHED", 1, dt.datetime(2024, 1, 31), 8) for b in ids]
        for run in range(6):
            way = "copy" if run % 2 else "returning"
            t = time.perf_counter()
            if way == "returning":
                cur.execute(f"INSERT INTO bills ({bill_cols}) SELECT * FROM unnest(%s::varchar[], %s::varchar[], "
                            "%s::varchar[], %s::varchar[], %s::date[], %s::date[], %s::bigint[], %s::bigint[], "
                            "%s::varchar[], %s::varchar[], %s::varchar[], %s::bigint[], %s::timestamp[], "
                            "%s::integer[]) RETURNING bill_id, id", [list(c) for c in zip(*bills, strict=True)])
                cur.fetchall()
            else:
                cur.execute("SELECT nextval(pg_get_serial_sequence('bills', 'id')) FROM generate_series(1, %s)",
                            (len(bills),))
                pks = [r[0] for r in cur.fetchall()]
                with cur.copy(f"COPY bills (id, {bill_cols}) FROM STDIN") as copy:
                    for pk, row in zip(pks, bills, strict=True):
                        copy.write_row((pk, *row))
            took[way] += time.perf_counter() - t
            conn.rollback()
        print(f"-- 3 x 1,000 bills: INSERT ... RETURNING {took['returning']:.3f} s, nextval + COPY "
              f"{took['copy']:.3f} s, ratio {took['copy'] / took['returning']:.2f} (load {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
