"""Scale-out on PostgreSQL: aggregate files/s of 1, 2 and 3 daemons on one spool, in one run.

    .venv/bin/python -m bench.core.scaleout [--files 3000] [--daemons 1,2,3] [--repeat 2] [--kill]

Each round gets a scratch database on ``$SPOOLGATE_BENCH_PG`` (default
postgresql://postgres@127.0.0.1:5432/postgres) and a fresh spool on local disk, starts N real
daemons (archive handler, durable, quiet period 0), stops them (SIGSTOP), drops the files,
resumes them and times until the ledger has every file done. ``--kill`` adds a round per N >= 2
in which one daemon is killed with -9 when a third of the files are done: the survivors take its
claimed files over after the lease (5 s here) and the invariants (every file exactly once in
processed/, the ledger agreeing) are checked. The spool is local: on a shared filesystem (NFS)
the renames and fsyncs of the claim and the filing would be the next limit.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from bench.core.bench import _count_done, _cpu_seconds, _setup
from tests.support import DaemonProcess, check_invariants, wait_for


def _scratch(admin: str) -> str:
    import psycopg

    name = f"sg_scale_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return f"{admin.rpartition('/')[0]}/{name}"


def _drop_db(admin: str, url: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')


def _staged(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as c:
        row = c.execute("SELECT count(*) FROM outbound_files WHERE state = 'staged'").fetchone()
        return int(row[0]) if row else 0


def round_(admin: str, n: int, files: int, workers: int, kill: bool) -> float:
    root = Path(tempfile.mkdtemp(prefix=f"sg-scale-{n}-"))
    url = _scratch(admin)
    try:
        cfg, _ = _setup(root, url, channel={"quiet_ms": 0}, workers=workers, durable=True, lease_s=5)
        daemons = [DaemonProcess(cfg) for _ in range(n)]
        for d in daemons:
            d.wait_ready(timeout=60)
        for d in daemons:
            os.kill(d.proc.pid, signal.SIGSTOP)
        inbox = root / "spool/drop/in"
        dropped = {}
        for i in range(files):
            data = b"payload %d\n" % i
            (inbox / f"t{i:06d}.dat").write_bytes(data)
            dropped[f"t{i:06d}.dat"] = hashlib.sha256(data).hexdigest()
        load0 = os.getloadavg()[0]
        t0 = time.monotonic()
        for d in daemons:
            os.kill(d.proc.pid, signal.SIGCONT)
        killed = False
        deadline = t0 + 600
        while (done := _count_done(url)) < files and time.monotonic() < deadline:
            if kill and not killed and done >= files // 3:
                daemons[-1].kill9()
                killed = True
            time.sleep(0.1)
        elapsed = time.monotonic() - t0
        cpu = sum(_cpu_seconds(d.proc.pid) for d in daemons if d.proc.poll() is None)
        load = max(load0, os.getloadavg()[0])
        if not kill:
            for d in daemons:
                d.terminate()
        verdict = ""
        if kill:
            # the victim's committed-but-unrenamed outbound files: a survivor delivers them at 60 s
            wait_for(lambda: _staged(url) == 0, 300, interval=1.0, what="outbound files delivered")
            for d in daemons:
                if d.proc.poll() is None:
                    d.terminate()
            check_invariants(root, url, dropped)  # raises on anything lost, doubled or left behind
            verdict = ", one daemon killed -9 at 1/3: invariants hold"
        print(f"scale-out daemons={n} workers={workers} files={files}: {elapsed:.1f}s = {files / elapsed:.0f} files/s "
              f"aggregate (load {load:.1f}; survivors' CPU {cpu / files * 1000:.2f} ms/file){verdict}", flush=True)
        return files / elapsed
    finally:
        _drop_db(admin, url)
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--daemons", default="1,2,3")
    ap.add_argument("--workers", type=int, default=2, help="workers per daemon")
    ap.add_argument("--repeat", type=int, default=2, help="rounds of 1..N daemons")
    ap.add_argument("--kill", action="store_true", help="also a round per N >= 2 with one daemon killed -9")
    a = ap.parse_args(argv)
    admin = os.environ.get("SPOOLGATE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    rates: dict[int, list[float]] = {}
    for _ in range(a.repeat):  # 1, 2, 3, 1, 2, 3...: every N sees the same spread of machine load
        for n in (int(x) for x in a.daemons.split(",")):
            rates.setdefault(n, []).append(round_(admin, n, a.files, a.workers, kill=False))
            if a.kill and n >= 2:
                round_(admin, n, a.files, a.workers, kill=True)
    med = {n: statistics.median(r) for n, r in rates.items()}
    if 1 in med:
        print(f"scale-out summary (median of {a.repeat}): " + ", ".join(
            f"{n} daemon(s) {r:.0f} files/s = {r / med[1]:.2f}x" for n, r in med.items()), flush=True)


if __name__ == "__main__":
    main()
