"""Load a large 0602 through the PBS inbound handler and settle it; prints lines/s and peak RSS.

    .venv/bin/python bench/pbs/bench_inbound.py [--lines 100000] [--db URL]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from daemon import migrate
from daemon.config import Settings
from daemon.db import Database, make_engine
from daemon.models.pbs import Invoice
from daemon.pipeline import Pipeline
from daemon.scheduler import Scheduler
from formats.pbs.writer import automatic_payment, build_0602
from tests.pbs.helpers import invoice, pbs_config


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--db", default=None)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="pbs-bench-"))
    url = args.db or f"sqlite:///{root / 'bench.db'}"
    engine = make_engine(url, pool=False)
    migrate.upgrade(engine)
    engine.dispose()
    settings = Settings(**pbs_config(root, url, policy="strict"))
    ch = settings.channels["pbs"]
    for f in (ch.inbox, ch.work, ch.processed, ch.error):
        f.mkdir(parents=True, exist_ok=True)
    db = Database(url)
    for start in range(0, args.lines, 5000):
        with db.transaction() as s:
            s.add_all(invoice(f"B{i}", 1000 + i % 500) for i in range(start, min(start + 5000, args.lines)))
    data = build_0602(automatic_payment(f"{i + 1}", f"B{i}", 1000 + i % 500) for i in range(args.lines))
    path = ch.inbox / "big.BS1"
    path.write_bytes(data)
    del data
    print(f"before load: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    pipe = Pipeline(settings, db, identity="bench")
    t0 = time.perf_counter()
    fid = pipe.claim("pbs", path)
    assert fid is not None
    out = pipe.process(fid)
    t1 = time.perf_counter()
    print(f"after load: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    assert out.state == "done", out.reason
    run = Scheduler(settings, db, identity="bench").run("pbs-settle")
    t2 = time.perf_counter()
    assert run.counts.get("settled") == args.lines, run
    with db.transaction() as s:
        assert s.query(Invoice).filter(Invoice.paid_amount == 0).count() == 0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.lines} lines, {db.engine.dialect.name}: "
          f"load {t1 - t0:.1f} s ({args.lines / (t1 - t0):,.0f} lines/s), "
          f"settle {t2 - t1:.1f} s ({args.lines / (t2 - t1):,.0f} lines/s), peak RSS {rss:.0f} MB")
    db.dispose()


if __name__ == "__main__":
    main()
