"""A bounded chaos run against the real daemon, then the invariants (issue 11).

Random mix, for ``seconds``: good files, bad files, hostile names (too long, not UTF-8,
line breaks, bidi, C1), one channel's inbox replaced by a file and restored, full-disk
episodes on a small tmpfs spool, SIGHUP, SIGTERM and ``kill -9`` with restarts. Then every
fault is undone, the daemon drains, and ``check`` lists every violation: a file not in
exactly one of processed/ or error/ (with its report), a ledger that disagrees, leftovers
in inboxes, work/ or temp files, an outbound file without its signal, a traceback, or an
account number or hostile character written raw to a log.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import DaemonProcess, archive_config, wait_for, write_config

#: account numbers carried in every file's content; none may reach a log
ACCOUNT = "DE4450010517339"
HOSTILE = ["\u2028", "\u202e", "\u0085", "\x9b"]
CHANNELS = ("drop", "b")


@dataclass
class Dropped:
    channel: str
    name: str
    sha: str
    kind: str  # good, bad, hostile


@dataclass
class Result:
    files: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    seconds: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)


def mount_small_disk(spool: Path, size: str = "8m") -> bool:
    spool.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(spool)],
                          capture_output=True).returncode == 0


def unmount(spool: Path) -> None:
    subprocess.run(["umount", "-l", str(spool)], capture_output=True, check=False)


def config(root: Path, db_url: str) -> dict[str, Any]:
    cfg = archive_config(root, db_url, workers=2, scan_interval_s=1.0, transient_retry_s=2.0, max_attempts=5,
                         watchdog_interval_s=1.0, shutdown_timeout_s=20.0, channel={"quiet_ms": 200})
    cfg["channels"]["b"] = {"inbox": "b/in", "work": "b/work", "processed": "b/processed", "error": "b/error",
                            "completeness": "quiet", "quiet_ms": 200,
                            "routes": [{"pattern": "*", "handler": "test.archive", "options": {"fail_marker": "FAIL"}}]}
    return cfg


class Chaos:
    def __init__(self, root: Path, db_url: str, *, seed: int, full_disk: bool) -> None:
        self.root = root
        self.spool = root / "spool"
        self.rng = random.Random(seed)
        self.full_disk = full_disk
        self.cfg_path = write_config(root / "spoolgate.toml", config(root, db_url))
        self.db_url = db_url
        self.daemon: DaemonProcess | None = None
        self.logs: list[str] = []
        self.dropped: list[Dropped] = []
        self.result = Result()
        self.flipped = False
        self.filler: Path | None = None
        self.n = 0

    # -- the daemon ------------------------------------------------------------------------------
    def start(self) -> None:
        self.daemon = DaemonProcess(self.cfg_path)
        self.daemon.wait_ready(60)

    def _collect(self) -> None:
        if self.daemon is not None:
            self.logs.append(self.daemon.log())

    def stop(self, how: str) -> None:
        d = self.daemon
        assert d is not None
        if how == "kill9":
            d.kill9()
        else:
            code = d.terminate(60)
            if code != 0:
                self.result.violations.append(f"SIGTERM exit code {code}")
        self._collect()
        self.daemon = None

    # -- actions ---------------------------------------------------------------------------------
    def _content(self, kind: str) -> bytes:
        self.n += 1
        body = f"file {self.n} {kind} account {ACCOUNT}{self.n:05d} payer Jane Roe\n"
        return (body + ("FAIL here\n" if kind == "bad" else "")).encode()

    def drop(self, kind: str) -> None:
        channel = self.rng.choice([c for c in CHANNELS if not (c == "b" and self.flipped)])
        data = self._content(kind)
        if kind == "hostile":
            choice = self.rng.randrange(3)
            if choice == 0:
                raw = ("L" * self.rng.randint(208, 250) + f"{self.n}.txt").encode()
            elif choice == 1:
                raw = f"latin-{self.n}-".encode() + b"\xe9\xff.txt"
            else:
                raw = f"h{self.n}{self.rng.choice(HOSTILE)}x.txt".encode()
        else:
            raw = f"{kind}-{self.n:05d}.txt".encode()
        inbox = os.fsencode(self.spool / channel / "in")
        tmp = inbox + b"/." + str(self.n).encode() + b".part"  # a hidden name, never picked
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.rename(tmp, inbox + b"/" + raw)
        except OSError:  # a full disk refuses the upstream copy too: nothing was dropped
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return
        self.dropped.append(Dropped(channel, os.fsdecode(raw), hashlib.sha256(data).hexdigest(), kind))

    def flip_inbox(self) -> None:
        inbox, away = self.spool / "b/in", self.spool / "b/in.away"
        if not self.flipped:
            os.rename(inbox, away)
            inbox.touch()  # an upstream copy that found no folder (empty: the disk may be full)
            self.flipped = True
            self.result.faults["inbox replaced by a file"] += 1
        else:
            self.unflip()

    def unflip(self) -> None:
        if self.flipped:
            inbox, away = self.spool / "b/in", self.spool / "b/in.away"
            inbox.unlink()
            os.rename(away, inbox)
            self.flipped = False

    def disk(self) -> None:
        if self.filler is not None:
            self.free_disk()
            return
        filler = self.spool / ".filler"
        with open(filler, "wb", buffering=0) as fh:
            try:
                while True:
                    fh.write(b"\0" * 65536)
            except OSError:
                pass
        self.filler = filler
        self.result.faults["disk full"] += 1

    def free_disk(self) -> None:
        if self.filler is not None:
            self.filler.unlink()
            self.filler = None

    def step(self) -> None:
        r = self.rng.random()
        if r < 0.45:
            for _ in range(self.rng.randint(1, 6)):
                self.drop("good")
        elif r < 0.55:
            self.drop("bad")
        elif r < 0.65:
            self.drop("hostile")
            self.result.faults["hostile name"] += 1
        elif r < 0.72:
            self.flip_inbox()
        elif r < 0.79 and self.full_disk:
            self.disk()
        elif r < 0.86:
            assert self.daemon is not None
            self.daemon.proc.send_signal(signal.SIGHUP)
            self.result.faults["SIGHUP"] += 1
        elif r < 0.92:
            self.free_disk()  # a daemon started on a full disk is another test; it recovers either way
            self.stop("kill9")
            self.result.faults["kill -9"] += 1
            self.start()
        else:
            self.free_disk()
            self.stop("term")
            self.result.faults["SIGTERM"] += 1
            self.start()

    def run(self, seconds: float) -> Result:
        t0 = time.monotonic()
        self.start()
        try:
            while time.monotonic() - t0 < seconds:
                self.step()
                time.sleep(self.rng.uniform(0.02, 0.3))
            self.unflip()
            self.free_disk()
            wait_for(self._drained, 180, interval=0.5, what="every dropped file decided")
        finally:
            self.unflip()
            self.free_disk()
            if self.daemon is not None:
                self.stop("term")
        self.result.seconds = time.monotonic() - t0
        self.result.files = len(self.dropped)
        self.check()
        return self.result

    def _drained(self) -> bool:
        from sqlalchemy import func, select

        from store.db import Database
        from store.models.core import SpoolFile

        for ch in CHANNELS:
            for sub in ("in", "work"):
                folder = self.spool / ch / sub
                if folder.is_dir() and [n for n in os.listdir(folder) if not n.startswith(".")]:
                    return False
        db = Database(self.db_url, pool=False)
        try:
            with db.transaction() as s:
                n = s.scalar(select(func.count()).select_from(SpoolFile)
                             .where(SpoolFile.state.in_(["done", "error", "duplicate"])))
        finally:
            db.dispose()
        return (n or 0) >= len(self.dropped)

    # -- invariants ------------------------------------------------------------------------------
    def check(self) -> None:
        from sqlalchemy import select

        from store.db import Database
        from store.models.core import OutboundFile, SpoolFile

        v = self.result.violations
        db = Database(self.db_url, pool=False)
        try:
            with db.transaction() as s:
                rows = [(r.channel, r.sha256, r.state, r.final_path, (r.error or {}).get("code"))
                        for r in s.scalars(select(SpoolFile))]
                outs = [(o.folder, o.name, o.sha256, o.state, o.signal_name) for o in s.scalars(select(OutboundFile))]
        finally:
            db.dispose()
        by_sha: dict[str, list[tuple[Any, ...]]] = {}
        for row in rows:
            if row[2] in ("done", "error", "duplicate"):
                by_sha.setdefault(str(row[1]), []).append(row)
        places: dict[str, list[Path]] = {}
        for ch in CHANNELS:
            for sub in ("processed", "error"):
                for p in (self.spool / ch / sub).rglob("*"):
                    if p.is_file() and not p.is_symlink() and not p.name.endswith(".error.json"):
                        places.setdefault(hashlib.sha256(p.read_bytes()).hexdigest(), []).append(p)
        for d in self.dropped:
            where = places.get(d.sha, [])
            label = f"{d.kind} {d.channel}/{d.name!r}"
            if len(where) != 1:
                v.append(f"{label}: found {len(where)} times {where}")
                continue
            got = by_sha.get(d.sha, [])
            if len(got) != 1:
                v.append(f"{label}: {len(got)} terminal ledger rows")
                continue
            _ch, _sha, state, final, code = got[0]
            self.result.outcomes[f"{d.kind}:{state}:{code or ''}"] += 1
            if final != str(where[0]):
                v.append(f"{label}: ledger says {final}, file is at {where[0]}")
            in_error = (self.spool / d.channel / "error") in where[0].parents
            if state == "error" and not (in_error and Path(f"{where[0]}.error.json").exists()):
                v.append(f"{label}: error without its report in error/")
            expected: dict[str, set[tuple[str, str | None]]] = {
                "good": {("done", None)}, "bad": {("error", "fail_marker")}, "hostile": {("error", "unsafe_name")}}
            allowed = expected[d.kind] | {("error", "max_attempts")}
            if (state, code) not in allowed:
                v.append(f"{label}: ended {state} ({code})")
        for ch in CHANNELS:
            for sub in ("in", "work"):
                left = [n for n in os.listdir(self.spool / ch / sub)]
                if left:
                    v.append(f"{ch}/{sub} not empty: {left[:5]}")
        temps = [str(p) for p in self.spool.rglob("*.sgtmp")]
        if temps:
            v.append(f"temp files left: {temps[:5]}")
        for folder, name, digest, state, sig in outs:
            f = Path(folder) / name
            if state != "delivered" or not f.exists() or hashlib.sha256(f.read_bytes()).hexdigest() != digest:
                v.append(f"outbound {f}: {state}, present={f.exists()}")
            elif sig and not (Path(folder) / sig).exists():
                v.append(f"outbound {f} has no signal")
        text = "\n".join(self.logs)
        for bad, what in ((ACCOUNT, "an account number"), ("Jane Roe", "a payer name"),
                          ("Traceback", "a traceback"), *((c, f"raw U+{ord(c):04X}") for c in HOSTILE)):
            if bad in text:
                lines = text.splitlines()
                at = next(i for i, ln in enumerate(lines) if bad in ln)
                shown = lines[at:at + 25] if bad == "Traceback" else lines[at:at + 1]
                v.append(f"log carries {what}: " + "\n".join(json.dumps(ln[:300]) for ln in shown))


def run(root: Path, db_url: str, *, seconds: float, seed: int = 1) -> Result:
    """One chaos run under ``root`` (a fresh folder); the spool is a small tmpfs when root may mount,
    sized for what the run files (about 12 KB per file: data, ack and signal, a page each)."""
    spool = root / "spool"
    mounted = mount_small_disk(spool, size=f"{8 + int(seconds * 0.25)}m")
    try:
        chaos = Chaos(root, db_url, seed=seed, full_disk=mounted)
        from daemon import migrate
        from store.db import make_engine

        for ch in CHANNELS:
            for sub in ("in", "work", "processed", "error"):
                (spool / ch / sub).mkdir(parents=True, exist_ok=True)
        if db_url.startswith("sqlite"):
            engine = make_engine(db_url, pool=False)
            migrate.upgrade(engine)
            engine.dispose()
        result = chaos.run(seconds)
        if not mounted:
            result.faults["disk full (skipped: no tmpfs without root)"] += 0
        return result
    finally:
        if mounted:
            unmount(spool)
        shutil.rmtree(spool, ignore_errors=True)
