"""ACH benchmark: apply a 100,000-entry return file against 1,000,000 payments, and check-submit
100,000 scheduled payments, on SQLite and PostgreSQL.

    .venv/bin/python bench/ach/bench.py                      # both databases, default sizes
    .venv/bin/python bench/ach/bench.py --db sqlite --payments 200000 --returns 20000 --submit 20000

The database is built from the migrations in a temporary directory (SQLite) or a scratch
database (PostgreSQL at $SPOOLGATE_BENCH_PG, default postgresql://postgres@127.0.0.1:5432/postgres)
and removed afterwards. Timed: the pipeline's claim + process of the return file (hash, parse,
apply, audit rows, exception report, ack, commit, filing) and the check-submit job run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import func, insert, select

from daemon import migrate
from daemon.config import Settings
from daemon.db import Database, make_engine, utcnow
from daemon.models.ach import CheckPayment, CheckStatus, PaymentAccount, PaymentPayee
from daemon.pipeline import Pipeline
from daemon.scheduler import Scheduler
from formats.nacha import AchReader
from formats.nacha.model import AchFile, Batch, Entry
from formats.nacha.records.addenda_98 import Addenda98
from formats.nacha.records.addenda_99 import Addenda99
from formats.nacha.records.batch_control import BatchControl
from formats.nacha.records.batch_header import BatchHeader
from formats.nacha.records.entry_detail import EntryDetail
from formats.nacha.records.file_control import FileControl
from formats.nacha.records.file_header import FileHeader
from formats.nacha.writer import dumps

ODFI = "09100001"
RDFI, RDFI_CD = "01100001", "5"
PAYEE = {"immediate_destination": "091000019", "immediate_destination_name": "FED RESERVE",
         "immediate_origin": "071000013", "immediate_origin_name": "SPOOLGATE BILLER", "company_id": "1111111111",
         "company_name": "UTILITY CO", "odfi": ODFI, "sec_code": "PPD"}
NOCS = 1000


def config(root: Path, url: str) -> dict[str, Any]:
    return {
        "base_dir": str(root), "spool_root": str(root / "spool"), "state_dir": str(root / "state"),
        "database_url": url,
        "channels": {"ach": {"inbox": "ach/in", "work": "ach/work", "processed": "ach/processed",
                             "error": "ach/error", "dated": False,
                             "routes": [{"pattern": "*", "handler": "ach.returns"}]}},
        "outbound": {"ach_out": {"folder": "ach/out"}, "acks": {"folder": "acks/out"}},
        "jobs": {"nightly": {"kind": "ach.check-submit", "every": "1 day", "enabled": False,
                             "options": {"payee": "UTILCO"}}},
    }


def load(db: Database, n: int, submit: int, today: dt.date) -> int:
    """n processed payments with trace numbers, NOCS of them on accounts; ``submit`` scheduled ones."""
    now = utcnow()
    with db.transaction() as s:
        s.add(PaymentPayee(name="UTILCO", gateway="ach", settings=PAYEE))
        s.flush()
        payee_id = int(s.scalar(select(PaymentPayee.payee_id)) or 0)
        s.execute(insert(PaymentAccount), [
            {"pid": f"P{i}", "user_id": f"u{i}", "ddn": "UTILCO", "payment_type": "check",
             "account_holder_name": f"USER {i}", "account_number": f"{i:09d}", "account_type": "checking",
             "account_status": "active", "routing_transit": RDFI + RDFI_CD, "notify_expire_status": "N"}
            for i in range(NOCS)])
    base = {"payee_id": payee_id, "routing_transit": RDFI + RDFI_CD, "account_type": "checking",
            "last_modify_time": now, "create_time": now, "needs_backup": "N", "partition_id": 0, "reminded": "N",
            "payment_source": "S"}
    step = 50_000
    for start in range(0, n + submit, step):
        rows = []
        for i in range(start, min(start + step, n + submit)):
            if i < n:
                rows.append({**base, "payer_id": f"u{i}", "pay_date": today, "status": CheckStatus.PROCESSED,
                             "account_name": f"USER {i}", "check_account_number": f"{i:09d}", "amount": 1000 + i % 997,
                             "txn_number": f"{ODFI}{i + 1:07d}", "action_code": "27",
                             "pid": f"P{i}" if i < NOCS else None})
            else:
                rows.append({**base, "payer_id": f"s{i}", "pay_date": today, "status": CheckStatus.SCHEDULED,
                             "account_name": f"SUBMIT {i}", "check_account_number": f"{i:09d}",
                             "amount": 500 + i % 991})
        with db.transaction() as s:
            s.execute(insert(CheckPayment), rows)
    return payee_id


def return_file(n_payments: int, n_returns: int) -> bytes:
    stride = max(1, n_payments // n_returns)
    entries = []
    for k in range(n_returns):
        i = (k * stride) % n_payments
        orig = f"{ODFI}{i + 1:07d}"
        trace = f"02100002{k + 1:07d}"
        if k < NOCS:  # payments 0..NOCS-1 have accounts
            i = k
            orig = f"{ODFI}{i + 1:07d}"
            detail = EntryDetail(26, RDFI, RDFI_CD, f"{i:09d}", 0, trace, f"u{i}", f"USER {i}", "", 1)
            add: Any = Addenda98("C01", orig, RDFI, f"{i + 5_000_000:09d}", trace)
        else:
            detail = EntryDetail(26, RDFI, RDFI_CD, f"{i:09d}", 1000 + i % 997, trace, f"u{i}", f"USER {i}", "", 1)
            add = Addenda99("R01", orig, RDFI, trace)
        entries.append(Entry(detail, (add,)))
    nocs, rets = tuple(entries[:NOCS]), tuple(entries[NOCS:])
    batches = []
    for num, (sec, es) in enumerate((("COR", nocs), ("PPD", rets)), 1):
        debit = sum(e.detail.amount for e in es)
        ehash = sum(int(e.detail.rdfi_identification) for e in es) % 10**10
        batches.append(Batch(BatchHeader(200, "UTILITY CO", "1111111111", sec, "UTILITY", "", "02100002", num), es,
                             BatchControl(200, 2 * len(es), ehash, debit, 0, "1111111111", "02100002", num)))
    lines = 2 + sum(2 + 2 * len(b.entries) for b in batches)
    fc = FileControl(2, -(-lines // 10), 2 * n_returns, sum(b.control.entry_hash for b in batches if b.control)
                     % 10**10, sum(b.control.total_debit_amount for b in batches if b.control), 0)
    header = FileHeader(" 071000013", " 091000019", dt.date.today().strftime("%y%m%d"), "1200", "A",
                        "SPOOLGATE BILLER", "FED RESERVE")
    return dumps(AchFile(header, tuple(batches), fc))


def run(kind: str, url: str, root: Path, args: argparse.Namespace) -> None:
    engine = make_engine(url, pool=False)
    migrate.upgrade(engine)
    engine.dispose()
    settings = Settings(**config(root, url))
    db = Database(url)
    try:
        today = dt.datetime.now().astimezone().date()
        t = time.perf_counter()
        load(db, args.payments, args.submit, today)
        print(f"[{kind}] loaded {args.payments:,} + {args.submit:,} payments in {time.perf_counter() - t:.1f}s")
        data = return_file(args.payments, args.returns)
        inbox = settings.channels["ach"].inbox
        inbox.mkdir(parents=True)
        (inbox / "returns.ach").write_bytes(data)
        pipe = Pipeline(settings, db)
        t, cpu = time.perf_counter(), time.process_time()
        fid = pipe.claim("ach", inbox / "returns.ach")
        assert fid is not None
        out = pipe.process(fid)
        took, cpu = time.perf_counter() - t, time.process_time() - cpu
        assert out.state == "done", out.reason
        t = time.perf_counter()
        reader = AchReader(io.BytesIO(data))
        for _ in reader:
            pass
        parse_s = time.perf_counter() - t
        print(f"[{kind}] return file: {args.returns:,} entries ({len(data) / 1e6:.1f} MB) against "
              f"{args.payments:,} payments: {took:.2f}s wall, {cpu:.2f}s CPU in this process "
              f"(of which NACHA parsing alone: {parse_s:.2f}s; load average {os.getloadavg()[0]:.1f})  "
              f"counts={out.counts}")
        with db.transaction() as s:
            returned = s.scalar(select(func.count()).select_from(CheckPayment)
                                .where(CheckPayment.status == CheckStatus.RETURNED))
        assert returned == args.returns - NOCS, returned
        t, cpu = time.perf_counter(), time.process_time()
        summary = Scheduler(settings, db, identity="bench").run("nightly")
        took, cpu = time.perf_counter() - t, time.process_time() - cpu
        assert summary.outcome == "success", summary.message
        print(f"[{kind}] check-submit of {args.submit:,} scheduled payments: {took:.2f}s wall, {cpu:.2f}s CPU  "
              f"counts={summary.counts}")
    finally:
        db.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--payments", type=int, default=1_000_000)
    ap.add_argument("--returns", type=int, default=100_000)
    ap.add_argument("--submit", type=int, default=100_000)
    args = ap.parse_args()
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="achbench") as tmp:
            run("sqlite", f"sqlite:///{tmp}/bench.db", Path(tmp), args)
    if args.db in ("postgresql", "both"):
        import psycopg

        admin = os.environ.get("SPOOLGATE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
        name = f"achbench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        try:
            with tempfile.TemporaryDirectory(prefix="achbench") as tmp:
                run("postgresql", f"{admin.rpartition('/')[0]}/{name}", Path(tmp), args)
        finally:
            with psycopg.connect(admin, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
