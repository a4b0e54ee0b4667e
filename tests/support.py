"""Test helpers: spool configs, the real daemon as a subprocess, and the invariants every file test checks."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
#: the test-only handlers (``tests/handlers_for_tests.py``), here and in every daemon a test starts
os.environ["SPOOLGATE_HANDLER_PACKAGES"] = "tests.handlers_for_tests"


def pg_admin_url(url: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/postgres"


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str | Path):
        return json.dumps(str(v))
    if isinstance(v, list | tuple):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def write_config(path: Path, data: dict[str, Any]) -> Path:
    """Minimal TOML writer for test configs (tables of tables, inline arrays of tables)."""
    lines: list[str] = []

    def emit(prefix: str, table: dict[str, Any]) -> None:
        scalars = {k: v for k, v in table.items() if not isinstance(v, dict) or k in ("options",)}
        subs = {k: v for k, v in table.items() if isinstance(v, dict) and k not in ("options",)}
        if prefix:
            lines.append(f"[{prefix}]")
        for k, v in scalars.items():
            lines.append(f"{json.dumps(k)} = {toml_value(v)}")
        lines.append("")
        for k, v in subs.items():
            emit(f"{prefix}.{json.dumps(k)}" if prefix else json.dumps(k), v)

    emit("", data)
    path.write_text("\n".join(lines))
    return path


def archive_config(root: Path, db_url: str, **over: Any) -> dict[str, Any]:
    """One ``drop`` channel routed to the archive handler with test faults (``test.archive``), acks to an
    outbound folder."""
    channel = {
        "inbox": "drop/in", "work": "drop/work", "processed": "drop/processed", "error": "drop/error",
        "completeness": "quiet", "quiet_ms": 300,
        "routes": [{"pattern": "*", "handler": "test.archive",
                    "options": {"fail_marker": "FAIL", "ack_target": "acks", "crash_marker": "CRASH-WORKER"}}],
    }
    channel.update(over.pop("channel", {}))
    cfg: dict[str, Any] = {
        "base_dir": str(root), "spool_root": str(root / "spool"), "state_dir": str(root / "state"),
        "database_url": db_url, "workers": 2, "scan_interval_s": 1.0, "tick_ms": 20, "lease_s": 30,
        "transient_retry_s": 60.0, "watchdog_interval_s": 0.5, "shutdown_timeout_s": 20.0,
        "channels": {"drop": channel},
        "outbound": {"acks": {"folder": "acks/out", "signal": "summary"}},
    }
    cfg.update(over)
    return cfg


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


#: the ledger owner of a daemon that died (a PID that does not exist on this host)
DEAD_OWNER = f"{socket.gethostname()}:999999:dead"


def drop(settings: Any, name: str, data: bytes, channel: str = "drop") -> Path:
    """Write a file into a channel's inbox (``archive_config`` spools)."""
    p: Path = settings.channels[channel].inbox / name
    p.write_bytes(data)
    return p


def claim_and_process(pipe: Any, settings: Any, name: str, channel: str = "drop") -> str:
    """Claim one inbox file in-process and process it; its outcome's state."""
    fid = pipe.claim(channel, settings.channels[channel].inbox / name)
    assert fid is not None
    state: str = pipe.process(fid).state
    return state


def wait_for(pred: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or pred}")
        time.sleep(interval)


@dataclass
class NotifySocket:
    """A datagram socket playing systemd's part of sd_notify; collects every message."""

    path: Path
    messages: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.messages.extend(data.decode().split("\n"))

    def seen(self, prefix: str) -> list[str]:
        with self._lock:
            return [m for m in self.messages if m.startswith(prefix)]

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


class DaemonProcess:
    """``spoolgate run`` as a real process, with its own notify socket."""

    def __init__(self, config: Path, *, env: dict[str, str] | None = None, notify: NotifySocket | None = None,
                 args: tuple[str, ...] = ()) -> None:
        self.config = config
        self.notify = notify
        e = dict(os.environ)
        e.pop("NOTIFY_SOCKET", None)
        e.update(env or {})
        if notify is not None:
            e["NOTIFY_SOCKET"] = str(notify.path)
        self.log_path = config.with_suffix(f".{time.monotonic_ns()}.log")
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "daemon", "--config", str(config), "run", *args],
                                     cwd=REPO, env=e, stdout=self._log, stderr=subprocess.STDOUT)
        # A test that times out or fails before terminate() must not leave a daemon behind.
        import atexit

        atexit.register(_reap, self.proc)

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 30.0) -> None:
        notify = self.notify
        if notify is not None:
            wait_for(lambda: notify.seen("READY=1") or self.proc.poll() is not None, timeout, what="READY=1")
        else:
            wait_for(lambda: "spoolgate ready" in self.log() or self.proc.poll() is not None, timeout,
                     what="daemon ready")
        if self.proc.poll() is not None:
            raise AssertionError(f"daemon exited with {self.proc.returncode}:\n{self.log()}")

    def terminate(self, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._log.close()

    def kill9(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._log.close()


def _reap(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


def files_in(folder: Path) -> list[Path]:
    """Regular data files below ``folder`` (error reports, signals and hidden temps excluded)."""
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")
                  and not p.name.endswith((".error.json", ".done")))


def check_invariants(root: Path, db_url: str, dropped: dict[str, str], *, channel: str = "drop",
                     expect_error: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every dropped file ends in exactly one of processed/ or error/, the ledger agrees, outbound is whole.

    ``dropped`` maps original name -> sha256 of its content.
    """
    from sqlalchemy import select

    from store.db import Database
    from store.models.core import OutboundFile, SpoolFile

    spool = root / "spool"
    inbox, work = spool / "drop/in", spool / "drop/work"
    processed, error = spool / "drop/processed", spool / "drop/error"
    assert files_in(inbox) == [], f"left in inbox: {files_in(inbox)[:5]}"
    assert files_in(work) == [], f"left in work: {files_in(work)[:5]}"
    where: dict[str, list[Path]] = {}
    for p in files_in(processed) + files_in(error):
        where.setdefault(sha(p), []).append(p)
    db = Database(db_url, pool=False)
    try:
        with db.transaction() as s:
            rows = list(s.scalars(select(SpoolFile).where(SpoolFile.channel == channel)))
            outs = list(s.scalars(select(OutboundFile)))
            out_rows = [(o.folder, o.name, o.sha256, o.state, o.signal_name) for o in outs]
            ledger = [(r.original_name, r.sha256, r.state, r.final_path) for r in rows]
    finally:
        db.dispose()
    by_name: dict[str, list[tuple[Any, ...]]] = {}
    for row in ledger:
        by_name.setdefault(row[0], []).append(row)
    done_names = set()
    for name, digest in dropped.items():
        places = where.get(digest, [])
        assert len(places) == 1, f"{name}: found {len(places)} times: {places}"
        place = places[0]
        rows_ = [r for r in by_name.get(name, []) if r[2] in ("done", "error", "duplicate")]
        assert len(rows_) == 1, f"{name}: ledger rows {by_name.get(name)}"
        state, final = rows_[0][2], rows_[0][3]
        assert final == str(place), f"{name}: ledger says {final}, file is at {place}"
        if name in expect_error:
            assert state == "error" and place.is_relative_to(error), f"{name}: {state} at {place}"
            assert Path(f"{place}.error.json").exists(), f"{name}: no error report"
        else:
            assert state == "done" and place.is_relative_to(processed), f"{name}: {state} at {place}"
            done_names.add(name)
    # Outbound: every recorded file delivered, complete, signalled; nothing else there.
    acks = spool / "acks/out"
    assert all(state == "delivered" for *_, state, _sig in out_rows), out_rows
    on_disk = {p.name for p in acks.iterdir()} if acks.exists() else set()
    assert not [n for n in on_disk if n.startswith(".")], f"staging leftovers: {on_disk}"
    expected = set()
    for folder, name, digest, _state, sig in out_rows:
        f = Path(folder) / name
        assert f.exists() and sha(f) == digest, f"outbound {f} missing or altered"
        assert sig is None or (Path(folder) / sig).exists(), f"outbound {f} has no signal"
        expected |= {name, *( [sig] if sig else [])}
    assert on_disk == expected, f"unrecorded outbound files: {sorted(on_disk - expected)[:5]}"
    signals = [n for n in on_disk if n.endswith(".done")]
    for s_ in signals:
        assert s_[: -len(".done")] in on_disk, f"signal {s_} without its file"
    if out_rows:
        assert len([n for n in on_disk if not n.endswith(".done")]) == len(done_names), (
            f"{len(on_disk)} outbound for {len(done_names)} done files")
    return {"done": len(done_names), "ledger": ledger}


@contextmanager
def pipeline_env(tmp_path: Path, db_url: str) -> Iterator[Callable[..., Any]]:
    """``factory(identity=None, **settings)`` -> (settings, db, pipeline) on a fresh ``drop`` spool
    (:func:`archive_config`) with its folders made; every database is disposed afterwards."""
    from daemon.pipeline import Pipeline
    from store.config import Settings
    from store.db import Database

    made: list[Database] = []

    def factory(identity: str | None = None, **over: Any) -> tuple[Settings, Database, Pipeline]:
        settings = Settings(**archive_config(tmp_path, db_url, **over))
        for ch in settings.channels.values():
            for f in (ch.inbox, ch.work, ch.processed, ch.error):
                f.mkdir(parents=True, exist_ok=True)
        for o in settings.outbound.values():
            o.folder.mkdir(parents=True, exist_ok=True)
        db = Database(settings.database_url)
        made.append(db)
        return settings, db, Pipeline(settings, db, identity=identity)

    try:
        yield factory
    finally:
        for d in made:
            d.dispose()
