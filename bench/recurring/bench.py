"""recurring-payments over N setups and N loaded bills, then payment-reminders over N candidates.

Usage: python bench/recurring/bench.py [N=1000000] [--db sqlite|postgresql] [--chunk 10000]

Every setup is an automatic payment (amount due, one day before the due date) whose account has one new
bill, so one run synchronizes and schedules all N (the worst case: N summaries, N payments, N history rows
of each, N e-mails queued). Then the N payments are marked processed and payment-reminders queues N status
notices. Each job runs in a fresh child process so its peak RSS is its own; the baseline is a child that
only reads the same rows in the same chunks (same run, same database). cpu_s is the child's own CPU
time: on a shared machine it moves less with the load than the wall time (PostgreSQL's own CPU is not
in it). PostgreSQL: $SPOOLGATE_BENCH_PG_URL
(default postgresql://postgres@127.0.0.1:5432/postgres; a database is created and dropped).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RUN_AT = dt.datetime(2030, 3, 10, 5, 0)
BATCH = 20000


def _settings(url: str, root: str, chunk: int) -> Any:
    from store.config import Settings

    return Settings(base_dir=root, spool_root=f"{root}/spool", state_dir=f"{root}/state", database_url=url,
                    channels={}, outbound={"ach_out": {"folder": "ach/out"}},
                    jobs={"recurring-payments": {"kind": "recurring.payments", "every": "1 day",
                                                 "options": {"chunk": chunk}},
                          "payment-reminders": {"kind": "recurring.reminders", "every": "1 day",
                                                "options": {"chunk": chunk, "reminders": False}}})


def seed(url: str, n: int) -> None:
    from sqlalchemy import insert

    from daemon.migrate import upgrade
    from handlers.recurring.dates import local_midnight
    from store.db import make_engine
    from store.models.ach import PaymentAccount, PaymentPayee
    from store.models.bills import Bill
    from store.models.recurring import NEVER_PAID, NO_DUE_DATE, RecurringPayment

    engine = make_engine(url, pool=False)
    upgrade(engine)
    today = RUN_AT.date()
    start = today - dt.timedelta(days=30)
    lpt = local_midnight(start)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as c:
        c.execute(insert(PaymentPayee), [{"name": "UTILCO", "gateway": "ach", "settings": {}}])
        c.execute(insert(PaymentAccount), [
            {"pid": f"P{k}", "user_id": f"u{k}", "account_holder_name": f"HOLDER {k}", "account_number": f"{k:08d}",
             "routing_transit": "011000015", "account_status": "active", "email": f"u{k}@example.test",
             "notify_expire_status": "N"} for k in range(1000)])
    for lo in range(0, n, BATCH):
        hi = min(n, lo + BATCH)
        with engine.begin() as c:
            c.execute(insert(RecurringPayment), [
                {"setup_ref": f"R{i:08d}", "user_id": f"u{i % 100000}", "payee_id": 1, "pid": f"P{i % 1000}",
                 "payer_account_number": f"ACC{i:08d}", "payer_email_addr": f"c{i}@example.test",
                 "amount_type": "amount_due", "pay_date_type": "before_due", "days_before_due": 1,
                 "start_date": start, "end_date": dt.date(3000, 1, 1), "max_num_payments": 2147483647,
                 "bill_scheduled": "Y", "status": "active", "last_process_time": lpt, "last_pay_date": NEVER_PAID,
                 "next_pay_date": NO_DUE_DATE, "curr_num_payments": 0, "expiry_notified": "N",
                 "create_time": now, "last_modify_time": now} for i in range(lo, hi)])
            c.execute(insert(Bill), [
                {"bill_id": f"B{i:08d}", "account_number": f"ACC{i:08d}", "user_id": f"u{i % 100000}",
                 "payer_name": "PAYER", "document_date": today - dt.timedelta(days=1),
                 "due_date": today + dt.timedelta(days=4), "amount_due": 1000 + i % 9000, "minimum_amount_due": 100,
                 "currency": "USD", "status": "PUBLISHED", "loaded_at": now, "line_count": 0} for i in range(lo, hi)])
    engine.dispose()


def child(url: str, root: str, what: str, chunk: int) -> None:
    """Runs in a fresh process: one job (or the read-only baseline); prints one JSON line."""
    from sqlalchemy import select

    from daemon.scheduler import Scheduler
    from store.db import Database
    from store.models.bills import Bill
    from store.models.recurring import RecurringPayment

    settings = _settings(url, root, chunk)
    db = Database(url)
    t0 = time.perf_counter()
    cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    counts: dict[str, int] = {}
    if what == "baseline":
        last, rows = 0, 0
        while True:
            with db.transaction() as s:
                chunk_rows = [dict(r) for r in s.execute(select(RecurringPayment.__table__)
                                                         .where(RecurringPayment.recurring_id > last)
                                                         .order_by(RecurringPayment.recurring_id)
                                                         .limit(chunk)).mappings()]
                if not chunk_rows:
                    break
                accts = [r["payer_account_number"] for r in chunk_rows]
                rows += len(s.execute(select(Bill.bill_id, Bill.due_date, Bill.amount_due)
                                      .where(Bill.account_number.in_(accts))).all())
                last = chunk_rows[-1]["recurring_id"]
        counts = {"bills_read": rows}
    else:
        if what == "payment-reminders":
            from sqlalchemy import update

            from store.models.ach import CheckPayment

            with db.transaction() as s:
                s.execute(update(CheckPayment).values(status=7))
            t0 = time.perf_counter()
            cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        clock = RUN_AT.astimezone().astimezone(dt.UTC)
        r = Scheduler(settings, db, identity="bench", clock=lambda: clock).run(what)
        counts = dict(r.counts)
        if r.outcome == "failure":
            print(r.message, file=sys.stderr)
            sys.exit(1)
    wall = time.perf_counter() - t0
    use = resource.getrusage(resource.RUSAGE_SELF)
    cpu = use.ru_utime + use.ru_stime - cpu0
    print(json.dumps({"what": what, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
                      "peak_rss_mb": round(_peak_rss_mb(), 1), "counts": counts}))


def _peak_rss_mb() -> float:
    """VmHWM: this process image's own peak (ru_maxrss can carry the forking parent's level over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_child(url: str, root: str, what: str, chunk: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", what, "--url", url, "--root", root,
                          "--chunk", str(chunk)], cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"{what} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=1_000_000)
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--chunk", type=int, default=10000)
    ap.add_argument("--child")
    ap.add_argument("--url")
    ap.add_argument("--root")
    a = ap.parse_args()
    if a.child:
        child(a.url, a.root, a.child, a.chunk)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-recurring-") as root:
        pg_name = None
        pg_base = os.environ.get("SPOOLGATE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        if a.db == "sqlite":
            url = f"sqlite:///{root}/bench.db"
        else:
            import psycopg

            pg_name = f"sg_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(pg_base, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{pg_name}"')
            url = pg_base.rsplit("/", 1)[0] + f"/{pg_name}"
        try:
            t0 = time.perf_counter()
            seed(url, a.n)
            print(f"db={a.db} n={a.n} chunk={a.chunk} seed_s={time.perf_counter() - t0:.1f} "
                  f"load={os.getloadavg()[0]:.2f}", flush=True)
            results = [_run_child(url, root, w, a.chunk)
                       for w in ("baseline", "recurring-payments", "payment-reminders")]
            baseline = results[0]
            for r in results:
                ratio = r["wall_s"] / baseline["wall_s"] if baseline["wall_s"] else 0.0
                print(f"{r['what']:<20} wall_s={r['wall_s']:<7} cpu_s={r.get('cpu_s', '?'):<7} "
                      f"x_baseline={ratio:<5.1f} "
                      f"peak_rss_mb={r['peak_rss_mb']:<7} counts={r['counts']}", flush=True)
            print(f"load_after={os.getloadavg()[0]:.2f}")
        finally:
            if pg_name:
                import psycopg

                with psycopg.connect(pg_base, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
