"""Issue 16's core goals in one run: the floor, the daemon end to end, latency, on both databases.

    .venv/bin/python -m bench.core.goals [--sizes 1000,10000] [--rate 200] [--workers 2]

For each size, on one disk (a fresh temporary folder) and in one process:

- floor: the least work of an exactly-once file (``bench.core.floor``), one file per
  transaction and 32 per transaction, on SQLite and on a scratch PostgreSQL database;
- end to end: the real daemon (durable, archive handler) with the files dropped while it is
  stopped (SIGSTOP), timed from SIGCONT until every file is in processed/ - intake, completeness,
  claim, handler, commit and filing - in signal mode (data file + ``NAME.done``) and in
  quiet-period mode (``quiet_ms`` 500, the files older than that when the daemon resumes);
- latency: signal-mode drops at ``--rate``/s into a running daemon; drop -> processed/ per file,
  the drop time taken after the signal file is written, the arrival from the processed file's
  ctime (set by the link into processed/ and the unlink of the work name).

``--baseline DIR`` also runs every daemon figure with the source tree in DIR (e.g. a checkout of
main), interleaved with this tree's, and prints this/baseline: a before/after under one load.

Then the ratios the issue asks for: daemon / per-file floor (target >= 0.60 on SQLite),
PostgreSQL / SQLite (target >= 0.80), latency p99 (target <= 250 ms at 200 drops/s), and each
figure's ratio between the two sizes. The load average is printed beside every figure: the
machine is shared, so only figures of one run compare. PostgreSQL is ``$SPOOLGATE_BENCH_PG``
(default postgresql://postgres@127.0.0.1:5432/postgres); each run gets a scratch database.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.core import floor
from bench.core.bench import _count_done, _cpu_seconds, _pct, _setup, drop_paced
from bench.core.scaleout import _drop_db, _scratch
from tests import support
from tests.support import DaemonProcess

QUIET_MS = 500


def _daemon(cfg: Path, tree: Path | None) -> DaemonProcess:
    """The daemon of this tree, or of ``tree`` (its own ``python -m daemon`` from that folder)."""
    if tree is None:
        return DaemonProcess(cfg)
    here = support.REPO
    support.REPO = tree
    try:
        return DaemonProcess(cfg, env={"PYTHONPATH": str(tree)})
    finally:
        support.REPO = here


def _load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


@contextmanager
def _database(kind: str, root: Path) -> Iterator[str]:
    """A fresh SQLite file under ``root`` or a scratch PostgreSQL database, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{root}/bench.db"
        return
    admin = os.environ.get("SPOOLGATE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    url = _scratch(admin)
    try:
        yield url
    finally:
        _drop_db(admin, url)


def _processed(root: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for top, _dirs, files in os.walk(root / "spool/drop/processed"):
        for f in files:
            out[f] = Path(top) / f
    return out


def _wait(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)


def floor_rate(kind: str, files: int, group: int) -> float:
    root = Path(tempfile.mkdtemp(prefix="sg-goal-floor-"))
    try:
        with _database(kind, root) as url:
            return floor.run(root, url, files, group)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def end_to_end(kind: str, mode: str, files: int, workers: int | None,
               tree: Path | None = None) -> tuple[float, float]:
    """(files/s, daemon CPU ms per file) from resume to every file in processed/."""
    root = Path(tempfile.mkdtemp(prefix=f"sg-goal-{mode}-"))
    try:
        with _database(kind, root) as db:
            quiet = QUIET_MS if mode == "quiet" else 0
            cfg, url = _setup(root, db, channel={"completeness": mode, "quiet_ms": quiet}, workers=workers,
                              durable=True)
            d = _daemon(cfg, tree)
            try:
                d.wait_ready(timeout=60)
                inbox = root / "spool/drop/in"
                os.kill(d.proc.pid, signal.SIGSTOP)
                for i in range(files):
                    (inbox / f"t{i:06d}.dat").write_bytes(b"payload %d\n" % i)
                    if mode == "signal":
                        (inbox / f"t{i:06d}.dat.done").write_bytes(b"")
                time.sleep(quiet / 1000 + 0.1)  # older than the quiet period, as after any pause
                t0 = time.monotonic()
                os.kill(d.proc.pid, signal.SIGCONT)
                _wait(lambda: _count_done(url) >= files, 900, "every file done")
                _wait(lambda: len(_processed(root)) >= files, 60, "every file in processed/")
                elapsed = time.monotonic() - t0
                cpu = _cpu_seconds(d.proc.pid)
            finally:
                d.terminate()
            return files / elapsed, cpu / files * 1000
    finally:
        shutil.rmtree(root, ignore_errors=True)


def latency(kind: str, files: int, rate: float, workers: int | None,
            tree: Path | None = None) -> tuple[float, float, float]:
    """(p50, p99, max) drop -> processed/ in ms, signal mode, drops at ``rate`` per second."""
    root = Path(tempfile.mkdtemp(prefix="sg-goal-lat-"))
    try:
        with _database(kind, root) as db:
            cfg, _ = _setup(root, db, channel={"completeness": "signal", "quiet_ms": 0}, workers=workers,
                            durable=True)
            d = _daemon(cfg, tree)
            try:
                d.wait_ready(timeout=60)
                dropped = drop_paced(root / "spool/drop/in", files, rate, signal=True)
                _wait(lambda: len(_processed(root)) >= files, 300, "every file in processed/")
                arrived = {n: p.stat().st_ctime for n, p in _processed(root).items()}
            finally:
                d.terminate()
            lat = [(arrived[n] - t) * 1000 for n, t in dropped.items()]
            return statistics.median(lat), _pct(lat, 99), max(lat)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--workers", type=int, default=None,
                    help="worker threads (default: each tree's own default for the database)")
    ap.add_argument("--dbs", default="sqlite,postgresql")
    ap.add_argument("--skip", default="", help="comma-separated: floor, e2e, latency")
    ap.add_argument("--baseline", type=Path, default=None, help="a source tree to compare with, same run")
    a = ap.parse_args(argv)
    sizes = [int(x) for x in a.sizes.split(",")]
    dbs = a.dbs.split(",")
    skip = set(a.skip.split(",")) - {""}
    got: dict[tuple[str, ...], float] = {}
    trees: list[tuple[tuple[str, ...], Path | None]] = [((), None)]
    if a.baseline is not None:
        trees.append((("baseline",), a.baseline.resolve()))

    def show(key: tuple[str, ...], value: float, text: str) -> None:
        got[key] = value
        print(f"{' '.join(key):<34} {text}  ({_load()})", flush=True)

    for n in sizes:
        for kind in dbs:
            if "floor" not in skip:
                for group in (1, 32):
                    rate = floor_rate(kind, n, group)
                    show(("floor", kind, f"{group}/txn", str(n)), rate, f"{rate:.0f} files/s")
            if "e2e" not in skip:
                for mode in ("signal", "quiet"):
                    for tag, tree in trees:
                        rate, cpu = end_to_end(kind, mode, n, a.workers, tree)
                        show(("e2e", kind, mode, *tag, str(n)), rate,
                             f"{rate:.0f} files/s, daemon CPU {cpu:.2f} ms/file")
            if "latency" not in skip:
                for tag, tree in trees:
                    p50, p99, worst = latency(kind, n, a.rate, a.workers, tree)
                    show(("p99", kind, "signal", *tag, str(n)), p99,
                         f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {worst:.0f} ms at {a.rate:.0f} drops/s")
    print("-- ratios", flush=True)
    for size in map(str, sizes):
        for kind in dbs:
            fl = got.get(("floor", kind, "1/txn", size))
            for mode in ("signal", "quiet"):
                e = got.get(("e2e", kind, mode, size))
                if e and fl:
                    print(f"daemon/floor {kind} {mode} {size}: {e / fl:.2f} (target >= 0.60 on sqlite)")
        for mode in ("signal", "quiet"):
            s, p = got.get(("e2e", "sqlite", mode, size)), got.get(("e2e", "postgresql", mode, size))
            if s and p:
                print(f"postgresql/sqlite {mode} {size}: {p / s:.2f} (target >= 0.80)")
        for key in sorted(k for k in got if "baseline" in k and k[-1] == size):
            mine = got.get((*key[:-2], size))
            if mine:
                print(f"this/baseline {' '.join(key[:-2])} {size}: {mine / got[key]:.2f}"
                      f"{' (lower is better)' if key[0] == 'p99' else ''}")
    if len(sizes) == 2:
        small, big = map(str, sizes)
        for key in sorted({k[:-1] for k in got}):
            if (*key, small) in got and (*key, big) in got:
                print(f"size {big}/{small} {' '.join(key)}: {got[(*key, big)] / got[(*key, small)]:.2f}")
    print(f"end ({_load()})", flush=True)


if __name__ == "__main__":
    main()
