"""ACH benchmark: apply a 100,000-entry return file against 1,000,000 payments, and check-submit
100,000 scheduled payments, on SQLite and PostgreSQL.

    .venv/bin/python bench/ach/bench.py                      # both databases, 1/10 of the size, then full
    .venv/bin/python bench/ach/bench.py --db sqlite --payments 200000 --returns 20000 --submit 20000

Each size runs on SQLite then PostgreSQL (interleaved, so both see the same machine load); the
summary gives PostgreSQL/SQLite per size, in wall time and in CPU time (this process plus,
for a local PostgreSQL, its backends: on a loaded machine wall time is mostly waiting for a
core), and, per database, how time grows with size (a 10x larger run taking much more than 10x
is superlinear). Figures: README.md.

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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import func, insert, select

from daemon import migrate
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
from store.bulk import bind_processor
from store.config import Settings
from store.db import Database, make_engine, utcnow
from store.models.ach import CheckPayment, CheckStatus, PaymentAccount, PaymentPayee

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
            _insert(s, rows)
    return payee_id


def _insert(s: Any, rows: list[dict[str, Any]]) -> None:
    """Fast plain inserts (the load is not what is measured): COPY on PostgreSQL, executemany on SQLite."""
    from handlers.ach.store import bulk_insert

    table = CheckPayment.__table__
    dialect = s.get_bind().dialect
    cols = sorted(set().union(*rows))
    procs = [(c, bind_processor(table.c[c].type, dialect)) for c in cols]
    out = []
    for r in rows:
        vals = []
        for c, proc in procs:
            v = r.get(c)
            v = int(v) if c == "status" and v is not None else v
            vals.append(proc(v) if proc is not None and v is not None else v)
        out.append(tuple(vals))
    bulk_insert(s, "check_payments", cols, out)


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


def server_cpu(db: Database) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to the bench database, read from
    /proc (a local server; empty otherwise): under a shared machine's load, wall time mostly
    measures waiting for a core, CPU time the work."""
    if db.engine.dialect.name != "postgresql":
        return {}
    with db.engine.connect() as conn:
        pids = [r[0] for r in conn.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'")]
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def cpu_since(db: Database, before: dict[int, float]) -> float:
    return sum(v - before.get(pid, 0.0) for pid, v in server_cpu(db).items())


def run(kind: str, url: str, root: Path, payments: int, returns: int, submit: int,
        statements: int = 0) -> dict[str, float]:
    """One database, one size: the return file's apply and check-submit, wall seconds; with
    ``statements`` (PostgreSQL), the costliest statements of each (:mod:`bench.pgstatements`)."""
    engine = make_engine(url, pool=False)
    migrate.upgrade(engine)
    engine.dispose()
    settings = Settings(**config(root, url))
    db = Database(url)
    tag = f"[{kind} {payments:,}/{returns:,}/{submit:,}]"
    try:
        today = dt.datetime.now().astimezone().date()
        t = time.perf_counter()
        load(db, payments, submit, today)
        print(f"{tag} loaded {payments:,} + {submit:,} payments in {time.perf_counter() - t:.1f}s", flush=True)
        data = return_file(payments, returns)
        inbox = settings.channels["ach"].inbox
        inbox.mkdir(parents=True)
        (inbox / "returns.ach").write_bytes(data)
        pipe = Pipeline(settings, db)
        load_before = os.getloadavg()[0]
        backends = server_cpu(db)
        t, cpu = time.perf_counter(), time.process_time()
        with _statements(db, statements, "return file"):
            fid = pipe.claim("ach", inbox / "returns.ach")
            assert fid is not None
            out = pipe.process(fid)
        ret_s, ret_cpu = time.perf_counter() - t, time.process_time() - cpu
        ret_server = cpu_since(db, backends)
        assert out.state == "done", out.reason
        ret_load = max(load_before, os.getloadavg()[0])
        t = time.perf_counter()
        reader = AchReader(io.BytesIO(data))
        for _ in reader:
            pass
        parse_s = time.perf_counter() - t
        print(f"{tag} return file: {returns:,} entries ({len(data) / 1e6:.1f} MB) against "
              f"{payments:,} payments: {ret_s:.2f}s wall, {ret_cpu:.2f}s CPU here + {ret_server:.2f}s server "
              f"(NACHA parsing alone: {parse_s:.2f}s; load {ret_load:.1f})  counts={out.counts}", flush=True)
        with db.transaction() as s:
            returned = s.scalar(select(func.count()).select_from(CheckPayment)
                                .where(CheckPayment.status == CheckStatus.RETURNED))
        assert returned == returns - NOCS, returned
        load_before = os.getloadavg()[0]
        backends = server_cpu(db)
        t, cpu = time.perf_counter(), time.process_time()
        with _statements(db, statements, "check-submit"):
            summary = Scheduler(settings, db, identity="bench").run("nightly")
        sub_s, sub_cpu = time.perf_counter() - t, time.process_time() - cpu
        sub_server = cpu_since(db, backends)
        assert summary.outcome == "success", summary.message
        sub_load = max(load_before, os.getloadavg()[0])
        print(f"{tag} check-submit of {submit:,} scheduled payments: {sub_s:.2f}s wall, {sub_cpu:.2f}s CPU "
              f"+ {sub_server:.2f}s server "
              f"(load {sub_load:.1f})  counts={summary.counts}", flush=True)
        return {"return": ret_s, "return_load": ret_load, "submit": sub_s, "submit_load": sub_load,
                "return_cpu": ret_cpu + ret_server, "submit_cpu": sub_cpu + sub_server}
    finally:
        db.dispose()


@contextmanager
def _statements(db: Database, top: int, title: str) -> Iterator[None]:
    """With ``top`` on PostgreSQL, print the ``top`` statements of the block by wall time."""
    if not top or db.engine.dialect.name != "postgresql":
        yield
        return
    from bench.pgstatements import tally

    with tally() as stats:
        yield
    print(stats.report(title, top), flush=True)


def run_pg(admin: str, payments: int, returns: int, submit: int, statements: int = 0) -> dict[str, float]:
    import psycopg

    name = f"achbench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix="achbench") as tmp:
            return run("postgresql", f"{admin.rpartition('/')[0]}/{name}", Path(tmp), payments, returns, submit,
                       statements)
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--payments", type=int, default=1_000_000, help="payments at the large size")
    ap.add_argument("--returns", type=int, default=100_000, help="return entries at the large size")
    ap.add_argument("--submit", type=int, default=100_000, help="payments to check-submit at the large size")
    ap.add_argument("--scale", type=int, default=10, help="the small size is the large one divided by this")
    ap.add_argument("--statements", type=int, default=0, metavar="N",
                    help="PostgreSQL: print the N costliest statements of each phase (wall and server CPU)")
    args = ap.parse_args()
    admin = os.environ.get("SPOOLGATE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    sizes = [(args.payments // args.scale, args.returns // args.scale, args.submit // args.scale),
             (args.payments, args.returns, args.submit)] if args.scale > 1 else [
             (args.payments, args.returns, args.submit)]
    results: dict[tuple[str, int], dict[str, float]] = {}
    for k, (p, r, n) in enumerate(sizes):  # interleaved: both databases at one size, then the next size
        for kind in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
            if kind == "sqlite":
                with tempfile.TemporaryDirectory(prefix="achbench") as tmp:
                    results[(kind, k)] = run("sqlite", f"sqlite:///{tmp}/bench.db", Path(tmp), p, r, n)
            else:
                results[(kind, k)] = run_pg(admin, p, r, n, args.statements)
    print("\nsummary (wall seconds, load average at the time in brackets)")
    for what, label in (("return", "return file apply"), ("submit", "check-submit")):
        for k, (p, r, n) in enumerate(sizes):
            sq, pg = results.get(("sqlite", k)), results.get(("postgresql", k))
            line = f"  {label:18} {p:>9,} payments / {r if what == 'return' else n:>7,}: "
            if sq:
                line += f"SQLite {sq[what]:7.2f}s [{sq[what + '_load']:.1f}]  "
            if pg:
                line += f"PostgreSQL {pg[what]:7.2f}s [{pg[what + '_load']:.1f}]  "
            if sq and pg:
                line += (f"PG/SQLite {pg[what] / sq[what]:.2f}x wall, {pg[what + '_cpu'] / sq[what + '_cpu']:.2f}x CPU "
                         f"({pg[what + '_cpu']:.1f}s with the server's / {sq[what + '_cpu']:.1f}s)")
            print(line)
        if len(sizes) == 2:
            for kind in ("sqlite", "postgresql"):
                a, b = results.get((kind, 0)), results.get((kind, 1))
                if a and b:
                    print(f"  {label:18} scale {args.scale}x in size -> {b[what] / a[what]:.1f}x in time ({kind})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
