"""Console page render time at 1,000,000 ledger rows and 1,000,000 payments, SQLite and PostgreSQL.

    .venv/bin/python -m bench.web.bench                     # both databases, 1,000,000 rows
    .venv/bin/python -m bench.web.bench --db sqlite --rows 100000

Each database is built from the migrations (so the console's indexes are the shipped ones) and
filled in SQL: ``rows`` ledger rows over four channels and ~70 days, ``rows`` check payments each
with a history row written by one of the files, and ``rows`` outbound items carrying them. Pages
are requested through the real application in-process (session lookup, queries, Jinja2
rendering; no network) as a logged-in operator; each page ``--repeat`` times with varied
parameters. The baseline is the same pages on a 1,000-row database in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from daemon import migrate
from store.config import Settings
from store.db import Database, make_engine

CHANNELS = ("ch0", "ch1", "ch2", "ch3")
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"


def settings(root: Path, url: str) -> Settings:
    chans = {c: {"inbox": f"{c}/in", "work": f"{c}/work", "processed": f"{c}/processed", "error": f"{c}/error",
                 "routes": [{"pattern": "*", "handler": "archive"}]} for c in CHANNELS}
    for c in CHANNELS:
        (root / "spool" / c / "in").mkdir(parents=True, exist_ok=True)
    return Settings(base_dir=root, spool_root=root / "spool", state_dir=root / "state", database_url=url,
                    channels=chans, jobs={"nightly": {"kind": "core.noop", "every": "1 h"}})


def _series(dialect: str, n: int) -> tuple[str, str]:
    """A CTE head producing ``i`` = 1..n, and the SQL for ``base + i*6 seconds``."""
    if dialect == "sqlite":
        return (f"WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {n}) ",
                "strftime('%Y-%m-%d %H:%M:%f', :base, '+' || (i * 6) || ' seconds')")
    return "", "CAST(:base AS timestamp) + i * interval '6 seconds'"


def fill(db: Database, n: int) -> None:
    dialect = db.engine.dialect.name
    head, ts = _series(dialect, n)
    src = "FROM c" if dialect == "sqlite" else f"FROM generate_series(1::bigint, {n}) AS i"
    pad = "printf('%08d', i)" if dialect == "sqlite" else "lpad(i::text, 8, '0')"
    sha = "lower(hex(randomblob(32)))" if dialect == "sqlite" else "md5(i::text) || md5((i + 1)::text)"
    mod = "%"
    textual = "TEXT" if dialect == "sqlite" else "varchar"
    json, json_end = ("", "") if dialect == "sqlite" else ("CAST(", " AS json)")
    base = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=6 * n)).replace(tzinfo=None).isoformat(sep=" ")
    stmts = [
        f"""{head}INSERT INTO spool_files (id, channel, original_name, work_name, sha256, size, state, route, handler,
            attempts, claimed_at, started_at, finished_at, final_path, error)
            SELECT i, 'ch' || (i {mod} 4), 'returns-' || {pad} || '.ach', 'w-' || i, {sha}, 1000 + i {mod} 5000,
            CASE WHEN i {mod} 5000 = 0 THEN 'error' ELSE 'done' END, '*', 'archive', 1, {ts}, {ts}, {ts},
            '/spool/processed/returns-' || {pad} || '.ach',
            CASE WHEN i {mod} 5000 = 0 THEN {json}'{{"reason": "bad batch control total", "code": "E_TOTAL"}}'{json_end}
            END {src}""",
        f"""{head}INSERT INTO check_payments (payment_id, last_modify_time, create_time, needs_backup, payee_id,
            payer_id, pay_date, status, routing_transit, account_name, check_account_number, amount, partition_id,
            reminded, account_type, payment_source, txn_number, pid)
            SELECT i, {ts}, {ts}, 'N', 1, 'u-' || i, '2026-11-30', 7, '021000021', 'Jane Doe', '9' || {pad} || '12',
            100 + i {mod} 90000, 0, 'N', 'checking', 'S', '0210000' || {pad}, 'PID-' || i {src}""",
        f"""{head}INSERT INTO check_payments_history (history_id, payment_id, last_modify_time, create_time,
            needs_backup, payee_id, payer_id, pay_date, status, routing_transit, account_name,
            check_account_number, amount, partition_id, reminded, account_type, payment_source, pid,
            audit_operation, audit_status, job_id, job_name, time_stamp)
            SELECT i, i, {ts}, {ts}, 'N', 1, 'u-' || i, '2026-11-30', 7, '021000021', 'Jane Doe',
            '9' || {pad} || '12', 100 + i {mod} 90000, 0, 'N', 'checking', 'S', 'PID-' || i, 1002, 1,
            ((i * 7919) {mod} {n}) + 1, 'ch' || ((((i * 7919) {mod} {n}) + 1) {mod} 4) || '-archive', {ts} {src}""",
        f"""{head}INSERT INTO outbound_files (id, target, folder, name, temp_name, signal_style, mode, sha256, size,
            records, state, created_at, source)
            SELECT i, 'bank', '/spool/out', 'ACH-' || {pad} || '.txt', '.t' || i, 'summary', 416, {sha}, 94000,
            1000, 'delivered', {ts}, 'job:' || i {src.replace(str(n), str(max(1, n // 1000)))}""",
        f"""{head}INSERT INTO outbound_items (id, outbound_id, kind, ref, amount)
            SELECT i, (i {mod} {max(1, n // 1000)}) + 1, 'payment', CAST(i AS {textual}), 100 + i {mod} 90000
            {src}""",
        "INSERT INTO payment_payees (payee_id, name, gateway, create_time, last_modify_time) "
        "VALUES (1, 'ACME', 'ach', :base, :base)",
    ]
    if dialect == "sqlite":
        stmts[3] = stmts[3].replace(f"WHERE i < {n})", f"WHERE i < {max(1, n // 1000)})")
    with db.engine.begin() as conn:
        for sql in stmts:
            conn.execute(text(sql), {"base": base})
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def client(s: Settings, db: Database) -> Any:
    from starlette.testclient import TestClient

    from daemon.web import auth
    from daemon.web.app import create_app

    with db.transaction() as ses:
        auth.add_user(ses, "bench", "bench-password-123", "operator")
    c = TestClient(create_app(s, db))
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert token
    r = c.post("/login", data={"username": "bench", "password": "bench-password-123", "csrf": token.group(1)},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    return c


def pages(n: int) -> dict[str, Callable[[random.Random], str]]:
    return {
        "overview": lambda r: "/",
        "files (newest)": lambda r: "/files",
        "search by payment id": lambda r: f"/files?payment={r.randint(1, n)}",
        "search by file name": lambda r: f"/files?name=returns-{r.randint(1, n):08d}",
        "search by name prefix": lambda r: f"/files?name=returns-{r.randint(1, n // 1000 or 1):05d}",
        "search channel+dates": lambda r: f"/files?channel=ch{r.randint(0, 3)}&from=2026-11-01&to=2026-11-30",
        "file story": lambda r: f"/files/{r.randint(1, n)}",
        "errors": lambda r: "/errors",
        "jobs": lambda r: "/jobs",
    }


def measure(c: Any, n: int, repeat: int) -> dict[str, tuple[float, float]]:
    rng = random.Random(7)
    out = {}
    for name, path in pages(n).items():
        c.get(path(rng))  # warm the statement cache and the pages
        times = []
        for _ in range(repeat):
            p = path(rng)
            t0 = time.perf_counter()
            resp = c.get(p)
            times.append((time.perf_counter() - t0) * 1000)
            assert resp.status_code == 200, (p, resp.status_code)
        times.sort()
        out[name] = (statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)])
    return out


def build(kind: str, n: int, tmp: Path) -> tuple[Settings, Database, Callable[[], None]]:
    if kind == "sqlite":
        url = f"sqlite:///{tmp / f'web-{n}.db'}"
        cleanup: Callable[[], None] = lambda: None  # noqa: E731
    else:
        import psycopg

        admin = os.environ.get("SPOOLGATE_BENCH_PG", PG_DEFAULT)
        name = f"sg_benchweb_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = admin.rpartition("/")[0] + "/" + name

        def cleanup() -> None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine = make_engine(url, pool=False)
    migrate.upgrade(engine)
    engine.dispose()
    root = tmp / f"{kind}-{n}"
    root.mkdir()
    s = settings(root, url)
    db = Database(url, durable=False)
    t0 = time.perf_counter()
    fill(db, n)
    print(f"  {kind}: {n:,} ledger rows, {n:,} payments + history, {n:,} outbound items loaded in "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
    return s, db, cleanup


def run(kind: str, rows: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="sg-bench-web-") as d:
        tmp = Path(d)
        figures = {}
        for n in (1000, rows):
            s, db, cleanup = build(kind, n, tmp)
            try:
                with client(s, db) as c:
                    figures[n] = measure(c, n, repeat)
            finally:
                db.dispose()
                cleanup()
        print(f"\n{kind}: page time in ms (p50 / p95 over {repeat} requests); baseline: the same page at 1,000 rows")
        print(f"  {'page':<24} {'1,000 rows':>16} {f'{rows:,} rows':>20} {'p95 ratio':>10}")
        for page, (p50, p95) in figures[rows].items():
            b50, b95 = figures[1000][page]
            flag = "" if p95 < 200 else "  OVER 200 ms"
            print(f"  {page:<24} {b50:7.1f} / {b95:6.1f} {p50:9.1f} / {p95:8.1f} {p95 / b95:10.1f}{flag}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=40)
    args = ap.parse_args()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPU(s)")
    for kind in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        run(kind, args.rows, args.repeat)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
