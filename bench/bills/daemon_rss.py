"""A 200 MB bill file through the real daemon: peak RSS of the daemon process and load time.

Usage: python bench/bills/daemon_rss.py [SIZE_MB=200] [--rows] [--pg SERVER_URL] [--inprocess]
Starts ``spoolgate run`` on a scratch spool (SQLite, or a scratch database on the
PostgreSQL server given by --pg, e.g. postgresql://postgres@127.0.0.1:5432/postgres), drops the
generated file into the bills inbox, and polls the daemon's VmHWM (peak resident
set) from /proc until the file is filed. Target (issue 7): under 150 MB.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import generate  # type: ignore[import-not-found]  # noqa: E402

from tests.bills.conftest import bills_config  # noqa: E402
from tests.support import DaemonProcess, files_in, write_config  # noqa: E402

LIMIT_MB = 150


def vm(pid: int, key: str) -> float:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0.0
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(config: str, path: str) -> int:
    """--inprocess: the daemon's worker code path (claim, handle, commit, file away) in a fresh process."""
    from daemon.pipeline import Pipeline
    from store.config import load
    from store.db import Database

    settings = load(config)
    db = Database(settings.database_url)
    pipe = Pipeline(settings, db, identity="bench")
    t0 = time.perf_counter()
    fid = pipe.claim("bills", Path(path))
    assert fid is not None
    out = pipe.process(fid)
    db.dispose()
    print(f"in-process: {out.state} {out.counts} in {time.perf_counter() - t0:.1f} s; "
          f"peak_rss_mb={vm(os.getpid(), 'VmHWM'):.1f} limit_mb={LIMIT_MB}")
    return 0 if out.state == "done" and vm(os.getpid(), "VmHWM") < LIMIT_MB else 1


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        return child(sys.argv[2], sys.argv[3])
    size = int(next((a for a in sys.argv[1:] if a.isdigit()), "200"))
    compress = "--rows" not in sys.argv
    pg = sys.argv[sys.argv.index("--pg") + 1] if "--pg" in sys.argv else None
    root = Path(tempfile.mkdtemp(prefix="bills-daemon-bench-"))
    src = root / "bills.xml"
    t0 = time.perf_counter()
    n = generate(str(src), size)
    print(f"generated {n} bills, {src.stat().st_size / 1024 / 1024:.1f} MB in {time.perf_counter() - t0:.1f} s")
    url = f"sqlite:///{root / 'bench.db'}"
    if pg:
        import psycopg

        with psycopg.connect(pg, autocommit=True) as c:
            c.execute("DROP DATABASE IF EXISTS sg_bills_bench")
            c.execute("CREATE DATABASE sg_bills_bench")
        url = pg.rpartition("/")[0] + "/sg_bills_bench"
    from daemon import migrate
    from store.db import make_engine

    engine = make_engine(url, pool=False)
    migrate.upgrade(engine)
    engine.dispose()
    cfg = bills_config(root, url, route_options={"data_compress": compress}, transient_retry_s=600.0,
                       lease_s=3600)
    config = write_config(root / "spoolgate.toml", cfg)
    if "--inprocess" in sys.argv:
        inbox = root / "spool/bills/processing"
        inbox.mkdir(parents=True)
        os.rename(src, inbox / "big.xml")
        import subprocess

        return subprocess.call([sys.executable, __file__, "--child", str(config), str(inbox / "big.xml")])
    d = DaemonProcess(config)
    d.wait_ready()
    pid = d.proc.pid
    idle = vm(pid, "VmRSS")
    spool = root / "spool/bills"
    os.rename(src, spool / "processing" / "big.xml")
    t0 = time.perf_counter()
    peak = idle
    while not files_in(spool / "processed") and not files_in(spool / "error"):
        if d.proc.poll() is not None:
            print(f"daemon exited with {d.proc.returncode} after {time.perf_counter() - t0:.1f} s, "
                  f"peak_rss_mb so far={peak:.1f}")
            print(d.log()[-3000:])
            return 2
        peak = max(peak, vm(pid, "VmHWM"))
        time.sleep(0.5)
    elapsed = time.perf_counter() - t0
    peak = max(peak, vm(pid, "VmHWM"))
    d.terminate()
    where = "processed" if files_in(spool / "processed") else "error"
    print(f"filed to {where} in {elapsed:.1f} s; data_compress={compress}")
    print(f"daemon idle_rss_mb={idle:.1f} peak_rss_mb={peak:.1f} limit_mb={LIMIT_MB}")
    ok = where == "processed" and peak < LIMIT_MB
    if not ok:
        print(d.log()[-3000:])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
