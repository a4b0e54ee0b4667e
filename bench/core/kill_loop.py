"""The suite's randomised kill -9 loop, longer: ``python -m bench.core.kill_loop [--kills 200] [--db URL]``.

Every kill lands at a random instant (start-up recovery, claiming, inside the transaction, filing,
outbound delivery); after the last restart every file must be in exactly one of processed/ or
error/, the ledger must agree and no outbound file may lack its signal (tests/support.py checks).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    from daemon import migrate
    from store.db import make_engine
    from tests.core.test_crash import _kill_loop

    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db", default=None, help="an empty database URL (default: a fresh SQLite file)")
    a = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="sg-kill-"))
    url = a.db or f"sqlite:///{root}/kill.db"
    engine = make_engine(url, pool=False)
    migrate.upgrade(engine)
    engine.dispose()
    t0 = time.monotonic()
    _kill_loop(root, url, kills=a.kills, seed=a.seed)  # raises AssertionError on any violation
    print(f"kill loop: {a.kills} kill -9 at random instants, invariants hold "
          f"({time.monotonic() - t0:.0f}s, seed {a.seed})", flush=True)
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
