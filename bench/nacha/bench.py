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

(d) typed records: iterate :class:`formats.nacha.AchReader` (what ``ach.returns`` reads).

Both a PPD payment file and a return file (every entry with an addenda 99 or 98) at each size;
each size's figures and, per contender, how its time grows from the small to the large size.
Targets: (b) <= 1.0 x (a), (b) peak RSS < 64 MiB on 1,000,000 entries, (d) <= 1.5 x (b).

``--ratio`` measures (d) against (b) in one process instead (no interpreter start-up or CLI
imports in either figure), in CPU seconds: validate (``AchReader(typed=False)``), typed records, and typed
records with the fields the ACH returns handler reads, interleaved, best of ``--repeat``, with
the load average and the process's peak RSS after each size (flat memory: it does not grow
from the small size to the large one)::

    .venv/bin/python bench/nacha/bench.py --ratio --sizes 100000,1000000 --kinds ppd
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


def _return_file(path: Path, entries: int) -> None:
    """The ACH bench's return file (R01 returns and 1,000 C01 NOCs) with ``entries`` entries, written
    by a subprocess (generated here, its memory would be counted in every contender's peak RSS)."""
    code = ("import importlib.util, sys\n"
            "spec = importlib.util.spec_from_file_location('ach_bench', sys.argv[1])\n"
            "mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)\n"
            "n = int(sys.argv[3]); open(sys.argv[2], 'wb').write(mod.return_file(n * 10, n))\n")
    subprocess.run([sys.executable, "-c", code, str(ROOT / "bench/ach/bench.py"), str(path), str(entries)],
                   check=True, cwd=ROOT)


def _read(path: Path, mode: str) -> int:
    """One in-process pass: ``validate``, ``typed`` or ``fields`` (typed plus what ach.returns reads)."""
    from formats.nacha import AchReader, Entry

    with open(path, "rb") as fh:
        reader = AchReader(fh, typed=mode != "validate")
        if mode == "validate":
            reader.validate()
        elif mode == "typed":
            for _ in reader:
                pass
        else:
            touched = 0
            for _, rec in reader:
                if isinstance(rec, Entry):
                    d = rec.detail
                    touched += (d.transaction_code + rec.amount + len(d.trace_number)
                                + (rec.return_result is not None) + (rec.noc_result is not None))
    return reader.error_count


def ratio(paths: list[tuple[str, int, Path]], repeat: int) -> None:
    """typed / validate in this process, per file, in CPU seconds (other processes on a busy machine
    stretch wall time, not this process's CPU time; wall ratios printed beside); peak RSS after each."""
    import gc
    import resource

    for kind, size, path in paths:
        cpu: dict[str, float] = {}
        wall: dict[str, float] = {}
        for _ in range(repeat):
            for mode in ("validate", "typed", "fields"):
                gc.collect()
                w0, c0 = time.perf_counter(), time.process_time()
                errors = _read(path, mode)
                c, w = time.process_time() - c0, time.perf_counter() - w0
                if errors:
                    raise SystemExit(f"{path}: {errors} errors")
                cpu[mode] = min(c, cpu.get(mode, c))
                wall[mode] = min(w, wall.get(mode, w))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        v, vw = cpu["validate"], wall["validate"]
        print(f"{kind} {size:>9,} entries (load {os.getloadavg()[0]:.1f}), CPU s: validate {v:6.2f}  "
              f"typed {cpu['typed']:6.2f} = {cpu['typed'] / v:.2f} x  typed+fields {cpu['fields']:6.2f} = "
              f"{cpu['fields'] / v:.2f} x (target <= 1.5; wall {wall['typed'] / vw:.2f} x, "
              f"{wall['fields'] / vw:.2f} x)  peak RSS {rss:.0f} MiB", flush=True)


#: the ACH bench's return file is one batch: its 6-digit entry/addenda count stops below this
RETURN_FILE_MAX = 499_999


def _too_big(kind: str, size: int) -> bool:
    if kind == "returns" and size > RETURN_FILE_MAX:
        print(f"returns {size:,} entries skipped: the return-file generator stops at {RETURN_FILE_MAX:,}")
        return True
    return False


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
    ap.add_argument("--ratio", action="store_true",
                    help="typed / validate in one process (see the module docstring) instead of the contenders")
    ap.add_argument("--kinds", default="ppd,returns",
                    help="ppd (payments, no addenda) and/or returns (every entry with an addenda 99/98)")
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
    typed = [py, "-c", "import sys; from formats.nacha import AchReader\n"
             "r = AchReader(open(sys.argv[1], 'rb'))\nn = sum(1 for _ in r)\nprint(n, r.error_count)"]
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.ratio:
        paths = []
        for kind in args.kinds.split(","):
            for size in sizes:
                path = out / f"{kind}-{size}.ach"
                if _too_big(kind, size):
                    continue
                if not path.exists():
                    (generate if kind == "ppd" else _return_file)(path, size)
                paths.append((kind, size, path))
        ratio(paths, args.repeat)
        if not args.keep and not args.out:
            shutil.rmtree(out)
        return 0
    walls: dict[tuple[str, int, str], float] = {}
    for kind in args.kinds.split(","):
        for size in sizes:
            path = out / f"{kind}-{size}.ach"
            if _too_big(kind, size):
                continue
            if not path.exists():
                t0 = time.perf_counter()
                if kind == "ppd":
                    generate(path, size)
                else:
                    _return_file(path, size)
                print(f"generated {path} ({path.stat().st_size / 2**20:.1f} MiB) in "
                      f"{time.perf_counter() - t0:.1f} s")
            contenders = {
                "(a) baseline slicing (binary)": [py, str(HERE / "baseline.py"), str(path)],
                "(a') baseline slicing (text)": [py, str(HERE / "baseline.py"), str(path), "--text"],
                "(b) spoolgate ach validate --json": [*spoolgate, "ach", "validate", "--json", str(path)],
                "(d) typed records (AchReader)": [*typed, str(path)],
            }
            if have_achkit:
                contenders["(c) achkit.validate"] = [
                    py, "-c", "import sys, achkit; r = achkit.validate(open(sys.argv[1]).read()); "
                    "print(r['ok'], len(r['errors']))", str(path)]
            results: dict[str, tuple[float, float, str]] = {}
            for _ in range(args.repeat):  # contenders interleaved: each round runs all of them
                for name, cmd in contenders.items():
                    wall, rss, first = run(cmd)
                    best = results.get(name)
                    if best is None or wall < best[0]:
                        results[name] = (wall, max(rss, best[1]) if best else rss, first)
            base = results["(a) baseline slicing (binary)"][0]
            print(f"\n{kind} file, {size:,} entries, best of {args.repeat} (load {os.getloadavg()[0]:.1f}):")
            for name, (wall, rss, first) in results.items():
                walls[(kind, size, name)] = wall
                print(f"  {name:36} {wall:7.2f} s  {wall / base:5.2f} x (a)  peak RSS {rss:6.1f} MiB   "
                      f"[{first[:60]}]")
            v = results["(b) spoolgate ach validate --json"][0]
            print(f"  typed / validate: {results['(d) typed records (AchReader)'][0] / v:.2f} x (target <= 1.5)")
        if len(sizes) >= 2:
            lo, hi = sizes[0], sizes[-1]
            for name in contenders:
                if (kind, lo, name) in walls and (kind, hi, name) in walls:
                    print(f"  {kind} {name:36} {hi / lo:.0f}x entries -> "
                          f"{walls[(kind, hi, name)] / walls[(kind, lo, name)]:.1f}x time")
    if not args.keep and not args.out:
        shutil.rmtree(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
