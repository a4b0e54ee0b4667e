"""Load a large 0602 through the PBS inbound handler and settle it, on SQLite and PostgreSQL at two sizes.

    .venv/bin/python bench/pbs/bench_inbound.py [--lines 50000] [--scale 5] [--db sqlite|postgresql|both]

Each size runs on SQLite, then on a scratch database of ``$SPOOLGATE_BENCH_PG`` (default
postgresql://postgres@127.0.0.1:5432/postgres), interleaved so both see the same machine load.
Prints lines/s and peak RSS per run, PostgreSQL/SQLite per size, and how time grows from the
small size (``--lines / --scale``) to the large one.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from daemon import migrate
from daemon.pipeline import Pipeline
from daemon.scheduler import Scheduler
from formats.pbs.writer import automatic_payment, build_0602
from store.config import Settings
from store.db import Database, make_engine
from store.models.pbs import Invoice
from tests.pbs.helpers import invoice, pbs_config


def run(url: str, root: Path, lines: int) -> tuple[float, float, float]:
    """(load seconds, settle seconds, load average) for ``lines`` OCR lines on ``url``."""
    engine = make_engine(url, pool=False)
    migrate.upgrade(engine)
    engine.dispose()
    settings = Settings(**pbs_config(root, url, policy="strict"))
    ch = settings.channels["pbs"]
    for f in (ch.inbox, ch.work, ch.processed, ch.error):
        f.mkdir(parents=True, exist_ok=True)
    db = Database(url)
    try:
        for start in range(0, lines, 5000):
            with db.transaction() as s:
                s.add_all(invoice(f"B{i}", 1000 + i % 500) for i in range(start, min(start + 5000, lines)))
        data = build_0602(automatic_payment(f"{i + 1}", f"B{i}", 1000 + i % 500) for i in range(lines))
        path = ch.inbox / "big.BS1"
        path.write_bytes(data)
        del data
        pipe = Pipeline(settings, db, identity="bench")
        load0 = os.getloadavg()[0]
        os.sync()  # each timed phase starts with nothing left to write back (the other database's run)
        t0 = time.perf_counter()
        fid = pipe.claim("pbs", path)
        assert fid is not None
        out = pipe.process(fid)
        load_s = time.perf_counter() - t0
        assert out.state == "done", out.reason
        os.sync()
        t1 = time.perf_counter()
        job = Scheduler(settings, db, identity="bench").run("pbs-settle")
        settle_s = time.perf_counter() - t1
        assert job.counts.get("settled") == lines, job
        with db.transaction() as s:
            assert s.query(Invoice).filter(Invoice.paid_amount == 0).count() == 0
        load = max(load0, os.getloadavg()[0])
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"[{db.engine.dialect.name} {lines:,} lines] load {load_s:.1f} s ({lines / load_s:,.0f} lines/s), "
              f"settle {settle_s:.1f} s ({lines / settle_s:,.0f} lines/s), load average {load:.1f}, "
              f"peak RSS {rss:.0f} MB", flush=True)
        return load_s, settle_s, load
    finally:
        db.dispose()


def run_pg(admin: str, root: Path, lines: int) -> tuple[float, float, float]:
    import psycopg

    name = f"pbsbench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        return run(f"{admin.rpartition('/')[0]}/{name}", root, lines)
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=50_000, help="OCR lines at the large size")
    ap.add_argument("--scale", type=int, default=5, help="the small size is --lines divided by this")
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = ap.parse_args()
    admin = os.environ.get("SPOOLGATE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    sizes = [args.lines // args.scale, args.lines] if args.scale > 1 else [args.lines]
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    res: dict[tuple[str, int], tuple[float, float, float]] = {}
    for n in sizes:
        for kind in kinds:
            root = Path(tempfile.mkdtemp(prefix="pbs-bench-"))
            try:
                res[(kind, n)] = run(f"sqlite:///{root / 'bench.db'}", root, n) if kind == "sqlite" \
                    else run_pg(admin, root, n)
            finally:
                shutil.rmtree(root, ignore_errors=True)
    print("\nsummary (seconds, load average in brackets)")
    for i, what in enumerate(("load", "settle")):
        for n in sizes:
            sq, pg = res.get(("sqlite", n)), res.get(("postgresql", n))
            line = f"  {what:6} {n:>7,} lines: "
            if sq:
                line += f"SQLite {sq[i]:6.1f}s [{sq[2]:.1f}]  "
            if pg:
                line += f"PostgreSQL {pg[i]:6.1f}s [{pg[2]:.1f}]  "
            if sq and pg:
                line += f"PG/SQLite {pg[i] / sq[i]:.2f}x"
            print(line)
        if len(sizes) == 2:
            for kind in kinds:
                a, b = res[(kind, sizes[0])], res[(kind, sizes[1])]
                print(f"  {what:6} {kind}: {args.scale}x lines -> {b[i] / a[i]:.1f}x time")


if __name__ == "__main__":
    main()
