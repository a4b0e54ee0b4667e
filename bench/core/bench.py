"""Daemon core benchmarks: drop-to-processed latency, sustained throughput, a cold start on 100,000 files.

Run: ``.venv/bin/python -m bench.core.bench [--files 10000] [--start-files 100000] [--only NAME]``.
Everything but ``inprocess`` runs the real daemon process on a fresh SQLite database (or ``--db URL``
for PostgreSQL) with the archive handler; figures are printed, nothing is asserted. ``inprocess``
times the pipeline alone (claim + handle + file away, no intake, no threads) to separate its cost
from the daemon's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support import DaemonProcess, NotifySocket, archive_config, write_config


def _setup(root: Path, db: str | None, **over: Any) -> tuple[Path, str]:
    from daemon import migrate
    from store.db import make_engine

    url = db or f"sqlite:///{root}/bench.db"
    engine = make_engine(url, pool=False)
    migrate.upgrade(engine)
    engine.dispose()
    plain = {"routes": [{"pattern": "*", "handler": "archive"}]}
    plain.update(over.pop("channel", {}))
    over.setdefault("scan_interval_s", 5.0)  # the production default (the tests' configs rescan every second)
    # a None setting (e.g. workers) is left out: the daemon's own default for its database
    conf = {k: v for k, v in archive_config(root, url, channel=plain, **over).items() if v is not None}
    cfg = write_config(root / "spoolgate.toml", conf)
    (root / "spool/drop/in").mkdir(parents=True, exist_ok=True)
    return cfg, url


def _finished(url: str) -> dict[str, float]:
    """original name -> finished_at (epoch seconds) from the ledger."""
    if url.startswith("sqlite"):
        con = sqlite3.connect(url[len("sqlite:///"):])
        rows = con.execute("SELECT original_name, finished_at FROM spool_files WHERE state='done'").fetchall()
        con.close()
        import datetime as dt

        return {n: dt.datetime.fromisoformat(t).replace(tzinfo=dt.UTC).timestamp() for n, t in rows}
    import psycopg

    with psycopg.connect(url) as c:
        rows = c.execute("SELECT original_name, finished_at FROM spool_files WHERE state='done'").fetchall()
    import datetime as dt

    return {n: t.replace(tzinfo=dt.UTC).timestamp() for n, t in rows}


def _count_done(url: str) -> int:
    if url.startswith("sqlite"):
        con = sqlite3.connect(url[len("sqlite:///"):], timeout=30)
        n = con.execute("SELECT count(*) FROM spool_files WHERE state='done'").fetchone()[0]
        con.close()
        return int(n)
    import psycopg

    with psycopg.connect(url) as c:
        row = c.execute("SELECT count(*) FROM spool_files WHERE state='done'").fetchone()
        return int(row[0]) if row else 0


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def drop_paced(inbox: Path, files: int, rate: float, *, signal: bool) -> dict[str, float]:
    """Drop ``files`` small files at ``rate`` per second (with their signal files); name -> drop time."""
    dropped: dict[str, float] = {}
    t0 = time.monotonic()
    for i in range(files):
        name = f"l{i:06d}.dat"
        (inbox / name).write_bytes(b"payload %d\n" % i)
        if signal:
            (inbox / f"{name}.done").write_bytes(b"")
        dropped[name] = time.time()
        pause = t0 + (i + 1) / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    return dropped


def latency(mode: str, files: int, rate: float, db: str | None) -> None:
    root = Path(tempfile.mkdtemp(prefix=f"sg-bench-{mode}-"))
    quiet_ms = 2000
    over = {"completeness": mode, "quiet_ms": quiet_ms if mode == "quiet" else 0}
    cfg, url = _setup(root, db, channel=over, tick_ms=20)
    d = DaemonProcess(cfg)
    d.wait_ready()
    dropped = drop_paced(root / "spool/drop/in", files, rate, signal=mode == "signal")
    deadline = time.monotonic() + 120
    while _count_done(url) < files and time.monotonic() < deadline:
        time.sleep(0.5)
    done = _finished(url)
    d.terminate()
    extra = quiet_ms / 1000 if mode == "quiet" else 0.0
    lat = [done[n] - t - extra for n, t in dropped.items() if n in done]
    print(f"latency {mode:<6} files={files} rate={rate:.0f}/s done={len(done)} "
          f"p50={statistics.median(lat) * 1000:.0f}ms p99={_pct(lat, 99) * 1000:.0f}ms "
          f"max={max(lat) * 1000:.0f}ms (beyond the quiet period: {extra:.1f}s subtracted)", flush=True)
    shutil.rmtree(root, ignore_errors=True)


def throughput(files: int, db: str | None, workers: int, durable: bool = True, claim_batch: int = 32) -> None:
    root = Path(tempfile.mkdtemp(prefix="sg-bench-tp-"))
    cfg, url = _setup(root, db, channel={"quiet_ms": 0}, workers=workers, durable=durable, claim_batch=claim_batch)
    d = DaemonProcess(cfg)
    d.wait_ready()
    inbox = root / "spool/drop/in"
    os.kill(d.proc.pid, signal.SIGSTOP)
    for i in range(files):
        (inbox / f"t{i:06d}.dat").write_bytes(b"payload %d\n" % i)
    t0 = time.monotonic()
    os.kill(d.proc.pid, signal.SIGCONT)
    while _count_done(url) < files:
        time.sleep(0.2)
    elapsed = time.monotonic() - t0
    cpu = _cpu_seconds(d.proc.pid)
    d.terminate()
    print(f"throughput files={files} workers={workers} db={'sqlite' if url.startswith('sqlite') else 'postgresql'} "
          f"durable={durable} claim_batch={claim_batch} {elapsed:.1f}s = {files / elapsed:.0f} files/s, "
          f"daemon CPU {cpu / files * 1000:.2f} ms/file (archive handler, quiet period 0)",
          flush=True)
    shutil.rmtree(root, ignore_errors=True)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def inprocess(files: int, durable: bool, claim_batch: int) -> None:
    from daemon.pipeline import Pipeline
    from spool import fsops
    from store.config import Settings
    from store.db import Database

    root = Path(tempfile.mkdtemp(prefix="sg-bench-inproc-"))
    _, url = _setup(root, None, durable=durable)
    settings = Settings(**archive_config(root, url, channel={"routes": [{"pattern": "*", "handler": "archive"}]},
                                         durable=durable))
    fsops.configure(durable=durable)
    db = Database(url, durable=durable)
    pipe = Pipeline(settings, db)
    inbox = settings.channels["drop"].inbox
    for i in range(files):
        (inbox / f"t{i:06d}.dat").write_bytes(b"payload %d\n" % i)
    paths = sorted(inbox.iterdir())
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(0, files, claim_batch):
        for file_id in pipe.claim_many("drop", paths[i:i + claim_batch]):
            pipe.process(file_id)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    db.dispose()
    fsops.configure(durable=True)
    print(f"inprocess files={files} durable={durable} claim_batch={claim_batch} "
          f"{elapsed / files * 1000:.2f} ms/file wall, {cpu / files * 1000:.2f} ms/file CPU "
          f"(one thread, archive handler, no intake)", flush=True)
    shutil.rmtree(root, ignore_errors=True)


def cold_start(files: int, db: str | None) -> None:
    root = Path(tempfile.mkdtemp(prefix="sg-bench-cold-"))
    cfg, url = _setup(root, db, channel={"quiet_ms": 2000})
    inbox = root / "spool/drop/in"
    for i in range(files):
        (inbox / f"c{i:06d}.dat").write_bytes(b"payload %d\n" % i)
    time.sleep(2.1)  # the files are older than the quiet period, as after a weekend outage
    sock = NotifySocket(root / "notify.sock")
    t0 = time.monotonic()
    d = DaemonProcess(cfg, notify=sock)
    d.wait_ready(timeout=120)
    ready = time.monotonic() - t0
    while _count_done(url) < 1:
        time.sleep(0.02)
    first = time.monotonic() - t0
    peak = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _count_done(url) < files:
        for line in Path(f"/proc/{d.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
        time.sleep(1)
    n = _count_done(url)
    d.terminate()
    sock.close()
    print(f"cold start files={files}: READY after {ready:.2f}s, first file done after {first:.2f}s, "
          f"{n} done in the first {time.monotonic() - t0:.0f}s, peak RSS {peak / 1024:.0f} MiB", flush=True)
    shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--rate", type=float, default=200.0, help="drops per second in the latency runs")
    ap.add_argument("--start-files", type=int, default=100000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file)")
    ap.add_argument("--only", choices=["inprocess", "signal", "quiet", "throughput", "cold"], default=None)
    a = ap.parse_args(argv)
    if a.only in (None, "inprocess"):
        for durable in (True, False):
            inprocess(min(a.files, 3000), durable, claim_batch=32)
            inprocess(min(a.files, 3000), durable, claim_batch=1)  # baseline: one claim commit per file
    if a.only in (None, "throughput"):
        throughput(a.files, a.db, a.workers, durable=True)
        throughput(a.files, a.db, a.workers, durable=False)
        # baseline in the same run: one ledger commit per claimed file (target: >= 500 files/s)
        throughput(a.files, a.db, a.workers, durable=True, claim_batch=1)
    if a.only in (None, "signal"):
        latency("signal", a.files, a.rate, a.db)
    if a.only in (None, "quiet"):
        latency("quiet", a.files, a.rate, a.db)
    if a.only in (None, "cold"):
        cold_start(a.start_files, a.db)


if __name__ == "__main__":
    main()
