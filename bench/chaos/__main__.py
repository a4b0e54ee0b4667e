"""A long chaos run: ``python -m bench.chaos [--seconds 600] [--seed 1] [--db URL]``.

Prints the files dropped, the faults injected (by kind) and the violations found (must be 0).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from tests.chaos.harness import run

    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db", default=None, help="an empty, migrated database URL (default: a fresh SQLite file)")
    a = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="sg-chaos-"))
    url = a.db or f"sqlite:///{root}/chaos.db"
    try:
        r = run(root, url, seconds=a.seconds, seed=a.seed)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    faults = ", ".join(f"{k} {n}" for k, n in sorted(r.faults.items()))
    print(f"chaos: {r.seconds:.0f}s, seed {a.seed}: {r.files} files, {sum(r.faults.values())} faults injected "
          f"({faults}); violations: {len(r.violations)}")
    print("outcomes: " + ", ".join(f"{k} {n}" for k, n in sorted(r.outcomes.items())))
    for v in r.violations[:50]:
        print(f"  VIOLATION {v}")
    return 1 if r.violations else 0


if __name__ == "__main__":
    sys.exit(main())
