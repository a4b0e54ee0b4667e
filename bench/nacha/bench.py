"""NACHA benchmark: baseline slicing vs ``spoolgate ach validate --json`` vs achkit.

Run from the repository root::

    .venv/bin/python bench/nacha/bench.py                 # 200,000 and 1,000,000 entries
    .venv/bin/python bench/nacha/bench.py --sizes 200000  --out /tmp/nacha-bench --repeat 3

It generates valid PPD files (with :class:`formats.nacha.AchWriter`, 10,000 entries
per batch, 2,000 distinct routing numbers) into ``--out`` (default: a directory
under the system temp dir; never inside the repository), then runs each contender
as a subprocess on the same file in the same run and reports wall time and peak
RSS (from ``wait4``):

(a) ``baseline.py``: read the file and slice every record into its fields via the
    field tables (binary lines; ``--text`` variant also shown), no validation;
(b) ``spoolgate ach validate --json FILE``: parse and full validation, streaming;
(c) achkit 0.2 ``validate(text)`` (reads the whole file into memory), if installed
    (``pip install achkit``; only the benchmark uses it).

Targets: (b) <= 1.0 x (a) and (b) peak RSS < 64 MiB on 1,000,000 entries.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def routing_pool(n: int, rng: random.Random) -> list[str]:
    from formats.nacha.routing import check_digit

    out = []
    for _ in range(n):
        first8 = f"{rng.randrange(1, 12):02d}{rng.randrange(0, 10**6):06d}"
        out.append(first8 + check_digit(first8))
    return out


def generate(path: Path, entries: int, seed: int = 1) -> None:
    from formats.nacha.writer import AchWriter, BatchSpec, FileSpec, Payment

    rng = random.Random(seed)
    pool = routing_pool(2000, rng)
    names = ["JOHN DOE", "JANE ROE", "ACME TENANT", "MARIA GARCIA", "WEI ZHANG", "OLE NORDMANN"]
    spec = FileSpec("091000019", "1234567890", dt.datetime(2024, 5, 1, 9, 30), "A", "FED RESERVE",
                    "SPOOLGATE BILLER")
    counter = itertools.count(1)
    per_batch = 10_000
    with open(path, "wb") as out:
        w = AchWriter(out, spec, next_sequence=counter)
        left = entries
        b = 0
        while left:
            n = min(per_batch, left)
            b += 1
            batch = BatchSpec("SPOOLGATE UTIL", "1234567890", "PPD", "UTILITY", dt.date(2024, 5, 2) +
                              dt.timedelta(days=b % 5), "09100001",
                              service_class_code=225)
            w.write_batch(batch, (Payment(27, rng.choice(pool), str(rng.randrange(10**5, 10**12)),
                                          rng.randrange(100, 500_000), rng.choice(names),
                                          f"CUST{rng.randrange(10**8):08d}") for _ in range(n)))
            left -= n
        w.close()


def run(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS MiB and the first output line of one subprocess."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    out = p.stdout.read() if p.stdout else b""
    err = p.stderr.read() if p.stderr else b""
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode not in (0,):
        raise SystemExit(f"{cmd} failed ({p.returncode}): {err.decode()[-2000:]} {out.decode()[:300]}")
    return wall, usage.ru_maxrss / 1024, out.decode().strip()[:120]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="200000,1000000")
    ap.add_argument("--out", default=None, help="directory for generated files (default: temp)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per contender; the best is reported")
    ap.add_argument("--keep", action="store_true", help="keep generated files")
    args = ap.parse_args()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="nacha-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    spoolgate = [py, "-c", "import sys; from daemon.cli import main; sys.exit(main())"]
    try:
        import achkit  # noqa: F401

        have_achkit = True
    except ImportError:
        have_achkit = False
    for size in (int(s) for s in args.sizes.split(",")):
        path = out / f"ppd-{size}.ach"
        if not path.exists():
            t0 = time.perf_counter()
            generate(path, size)
            print(f"generated {path} ({path.stat().st_size / 2**20:.1f} MiB) in "
                  f"{time.perf_counter() - t0:.1f} s")
        contenders = {
            "(a) baseline slicing (binary)": [py, str(HERE / "baseline.py"), str(path)],
            "(a') baseline slicing (text)": [py, str(HERE / "baseline.py"), str(path), "--text"],
            "(b) spoolgate ach validate --json": [*spoolgate, "ach", "validate", "--json", str(path)],
        }
        if have_achkit:
            contenders["(c) achkit.validate"] = [
                py, "-c", "import sys, achkit; r = achkit.validate(open(sys.argv[1]).read()); "
                "print(r['ok'], len(r['errors']))", str(path)]
        results: dict[str, tuple[float, float, str]] = {}
        for _ in range(args.repeat):
            for name, cmd in contenders.items():
                wall, rss, first = run(cmd)
                best = results.get(name)
                if best is None or wall < best[0]:
                    results[name] = (wall, max(rss, best[1]) if best else rss, first)
        base = results["(a) baseline slicing (binary)"][0]
        print(f"\n{size:,} entries, best of {args.repeat}:")
        for name, (wall, rss, first) in results.items():
            print(f"  {name:36} {wall:7.2f} s  {wall / base:5.2f} x (a)  peak RSS {rss:6.1f} MiB   "
                  f"[{first[:60]}]")
    if not args.keep and not args.out:
        shutil.rmtree(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
