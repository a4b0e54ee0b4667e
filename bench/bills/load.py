"""``bills.load`` on SQLite and PostgreSQL at two file sizes, interleaved: time, ratio, growth.

    .venv/bin/python bench/bills/load.py [--sizes 5,25] [--pg SERVER_URL]

One generated bill file per size (``measure.generate``); for each size the file goes through the
daemon's worker code path (``Pipeline.claim`` + ``process``: parse, rows, commit, filing) on a fresh
SQLite database, then on a scratch database of the PostgreSQL server (default
postgresql://postgres@127.0.0.1:5432/postgres). Prints wall seconds with the load average,
PostgreSQL/SQLite per size, and how time grows from the small size to the large one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import generate  # type: ignore[import-not-found]  # noqa: E402

from tests.bills.conftest import bills_config  # noqa: E402
from tests.support import write_config  # noqa: E402


def load_once(src: Path, url: str) -> tuple[float, float, dict[str, int]]:
    from daemon import migrate
    from daemon.pipeline import Pipeline
    from store.config import load
    from store.db import Database, make_engine

    root = Path(tempfile.mkdtemp(prefix="bills-load-bench-"))
    try:
        url = url or f"sqlite:///{root / 'bench.db'}"
        engine = make_engine(url, pool=False)
        migrate.upgrade(engine)
        engine.dispose()
        config = write_config(root / "spoolgate.toml", bills_config(root, url, transient_retry_s=600.0,
                                                                     lease_s=3600))
        inbox = root / "spool/bills/processing"
        inbox.mkdir(parents=True)
        shutil.copyfile(src, inbox / "big.xml")
        settings = load(str(config))
        db = Database(settings.database_url)
        pipe = Pipeline(settings, db, identity="bench")
        t0 = time.perf_counter()
        fid = pipe.claim("bills", inbox / "big.xml")
        assert fid is not None
        out = pipe.process(fid)
        took = time.perf_counter() - t0
        db.dispose()
        assert out.state == "done", out.reason
        return took, os.getloadavg()[0], dict(out.counts)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="5,25", help="file sizes in MB, small then large")
    ap.add_argument("--pg", default=os.environ.get("SPOOLGATE_BENCH_PG",
                                                   "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = ap.parse_args()
    import psycopg

    sizes = [int(s) for s in args.sizes.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="bills-load-src-"))
    res: dict[tuple[str, int], float] = {}
    try:
        for size in sizes:
            src = tmp / f"bills-{size}.xml"
            n = generate(str(src), size)
            for kind in ("sqlite", "postgresql"):
                url = ""
                name = f"sg_bills_{uuid.uuid4().hex[:8]}"
                if kind == "postgresql":
                    with psycopg.connect(args.pg, autocommit=True) as c:
                        c.execute(f'CREATE DATABASE "{name}"')
                    url = f"{args.pg.rpartition('/')[0]}/{name}"
                try:
                    took, load, counts = load_once(src, url)
                finally:
                    if kind == "postgresql":
                        with psycopg.connect(args.pg, autocommit=True) as c:
                            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                res[(kind, size)] = took
                print(f"[{kind} {size} MB, {n:,} bills] bills.load {took:.2f}s (load {load:.1f}) {counts}", flush=True)
            print(f"  {size} MB: PostgreSQL/SQLite {res[('postgresql', size)] / res[('sqlite', size)]:.2f}x",
                  flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]
        for kind in ("sqlite", "postgresql"):
            print(f"  {kind}: {hi / lo:.0f}x size -> {res[(kind, hi)] / res[(kind, lo)]:.1f}x time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
