"""The real daemon process: arrival, completeness, failures, watches, overflow, systemd notify.

Every test asserts where each file ended up and what the ledger holds.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support import (
    DaemonProcess,
    NotifySocket,
    archive_config,
    check_invariants,
    files_in,
    sha,
    wait_for,
    write_config,
)


def _start(tmp_path: Path, db_url: str, notify: bool = True, env: dict[str, str] | None = None, **over):
    cfg = write_config(tmp_path / "spoolgate.toml", archive_config(tmp_path, db_url, **over))
    sock = NotifySocket(tmp_path / "notify.sock") if notify else None
    d = DaemonProcess(cfg, notify=sock, env=env)
    d.wait_ready()
    return d, sock


def _inbox(tmp_path: Path) -> Path:
    return tmp_path / "spool/drop/in"


def _processed(tmp_path: Path) -> list[Path]:
    return files_in(tmp_path / "spool/drop/processed")


def _errors(tmp_path: Path) -> list[Path]:
    return files_in(tmp_path / "spool/drop/error")


def _settled(tmp_path: Path, n: int):
    return lambda: len(_processed(tmp_path)) + len(_errors(tmp_path)) >= n


@pytest.fixture
def daemon(tmp_path, db_url):
    started: list[tuple[DaemonProcess, NotifySocket | None]] = []

    def start(**kw):
        d, sock = _start(tmp_path, db_url, **kw)
        started.append((d, sock))
        return d, sock

    yield start
    for d, sock in started:
        d.terminate()
        if sock:
            sock.close()


def test_arrivals_rename_move_in_odd_mtimes_and_deny_list(daemon, tmp_path, db_url):
    _d, _ = daemon()
    inbox = _inbox(tmp_path)
    contents = {}
    # written under a temporary name, renamed in place
    (inbox / "x.tmp").write_bytes(b"renamed\n")
    os.rename(inbox / "x.tmp", inbox / "x.ach")
    contents["x.ach"] = b"renamed\n"
    # moved in from another folder on the same filesystem, old mtime preserved
    outside = tmp_path / "outside.dat"
    outside.write_bytes(b"moved in\n")
    os.utime(outside, (946684800, 946684800))
    os.rename(outside, inbox / "moved.dat")
    contents["moved.dat"] = b"moved in\n"
    # a future mtime must not make the file look complete or stale
    (inbox / "future.dat").write_bytes(b"future\n")
    os.utime(inbox / "future.dat", (time.time() + 86400 * 365, time.time() + 86400 * 365))
    contents["future.dat"] = b"future\n"
    (inbox / "empty.dat").write_bytes(b"")
    denied = [".hidden", "a.tmp", "b.part", "c.filepart", "d.partial", "e.writing", "f.inprogress"]
    for n in denied:
        (inbox / n).write_bytes(b"never claim me\n")
    wait_for(_settled(tmp_path, 4), 20, what="4 files filed")
    time.sleep(2.5)  # two more full scans: the deny-listed files must still be untouched
    assert sorted(p.name for p in inbox.iterdir()) == sorted(denied)
    for n in denied:
        (inbox / n).unlink()
    dropped = {k: hashlib.sha256(v).hexdigest() for k, v in contents.items()}
    dropped["empty.dat"] = hashlib.sha256(b"").hexdigest()
    check_invariants(tmp_path, db_url, dropped, expect_error={"empty.dat"})
    report = json.loads((tmp_path / "spool/drop/error/empty.dat.error.json").read_text())
    assert report["reason"] == "empty file"


def test_slow_writer_is_never_taken_before_it_is_complete(tmp_path, sqlite_url):
    """Writer timing does not depend on the database: this run is on SQLite only. 12 s of writes every
    0.25 s span twelve 1 s scans and every event of ~50 writes; intake has no clock but ``quiet_ms``."""
    db_url = sqlite_url
    d, _ = _start(tmp_path, db_url, channel={"quiet_ms": 1000})
    path = _inbox(tmp_path) / "slow.dat"
    deadline = time.monotonic() + 12
    n = 0
    with path.open("wb") as fh:
        while time.monotonic() < deadline:
            fh.write(f"line {n}\n".encode())
            fh.flush()
            n += 1
            time.sleep(0.25)
            assert path.exists(), f"claimed while still being written, after {n} lines"
    wait_for(_settled(tmp_path, 1), 15)
    d.terminate()
    check_invariants(tmp_path, db_url, {"slow.dat": sha(_processed(tmp_path)[0])})
    out = json.loads(subprocess.run(
        [sys.executable, "-m", "daemon", "--config", str(tmp_path / "spoolgate.toml"), "ledger",
         "show", "slow.dat"], capture_output=True, text=True, check=True).stdout)
    assert out[0]["counts"] == {"lines": n}


def test_signal_file_gating(daemon, tmp_path, db_url):
    _d, _ = daemon(channel={"completeness": "signal", "quiet_ms": 0})
    inbox = _inbox(tmp_path)
    (inbox / "pay.ach").write_bytes(b"payment file\n")
    time.sleep(2.5)
    assert (inbox / "pay.ach").exists(), "processed without its signal"
    t0 = time.monotonic()
    (inbox / "pay.ach.done").write_bytes(b"")
    wait_for(_settled(tmp_path, 1), 10)
    assert time.monotonic() - t0 < 8.0  # taken soon after its signal (generous: CI shares 2 cores)
    wait_for(lambda: not (inbox / "pay.ach.done").exists(), 5, what="signal consumed")
    check_invariants(tmp_path, db_url, {"pay.ach": sha(_processed(tmp_path)[0])})


def test_failing_file_does_not_stop_the_next_hundred_and_pings_continue(daemon, tmp_path, db_url):
    _d, sock = daemon()
    inbox = _inbox(tmp_path)
    (inbox / "bad.txt").write_bytes(b"one\nFAIL\n")
    wait_for(_settled(tmp_path, 1), 15)
    pings_before = len(sock.seen("WATCHDOG=1"))
    dropped = {"bad.txt": sha(_errors(tmp_path)[0])}
    for i in range(100):
        data = f"file {i}\n".encode()
        (inbox / f"f{i:03d}.txt").write_bytes(data)
        dropped[f"f{i:03d}.txt"] = hashlib.sha256(data).hexdigest()
    wait_for(_settled(tmp_path, 101), 60)
    wait_for(lambda: len(sock.seen("WATCHDOG=1")) > pings_before + 2, 10, what="watchdog pings")
    check_invariants(tmp_path, db_url, dropped, expect_error={"bad.txt"})
    report = json.loads((tmp_path / "spool/drop/error/bad.txt.error.json").read_text())
    assert report["reason"] == "line 2 contains the fail marker" and report["handler"] == "test.archive"


def test_inbox_deleted_and_recreated(daemon, tmp_path, db_url):
    _d, _ = daemon()
    inbox = _inbox(tmp_path)
    (inbox / "before.txt").write_bytes(b"before\n")
    wait_for(_settled(tmp_path, 1), 15)
    inbox.rmdir()
    time.sleep(1.5)
    inbox.mkdir()
    time.sleep(0.2)
    (inbox / "after.txt").write_bytes(b"after\n")
    wait_for(_settled(tmp_path, 2), 15)
    check_invariants(tmp_path, db_url, {"before.txt": sha(next(p for p in _processed(tmp_path)
                                                                 if p.name == "before.txt")),
                                        "after.txt": sha(next(p for p in _processed(tmp_path)
                                                                if p.name == "after.txt"))})


def test_symlinks_in_inbox_are_refused_and_never_followed(daemon, tmp_path, db_url):
    _d, _ = daemon()
    secret = tmp_path / "secret.txt"
    secret.write_text("secret\n")
    os.symlink(secret, _inbox(tmp_path) / "evil.txt")
    os.symlink("../../../../etc", _inbox(tmp_path) / "dirlink")
    err = tmp_path / "spool/drop/error"
    wait_for(lambda: (err / "evil.txt").is_symlink() and (err / "dirlink").is_symlink(), 15)
    assert (err / "evil.txt").is_symlink()
    assert json.loads((err / "evil.txt.error.json").read_text())["code"] == "refused"
    assert secret.read_text() == "secret\n"
    assert not list((tmp_path / "spool/acks/out").iterdir())


def test_overflow_30000_files_while_stopped(tmp_path, sqlite_url):
    """The rescan after lost events is database-independent: the 30,000-file run is on SQLite only."""
    db_url = sqlite_url
    plain = {"routes": [{"pattern": "*", "handler": "archive"}], "quiet_ms": 100}
    d, sock = _start(tmp_path, db_url, channel=plain, workers=2, scan_interval_s=5.0, durable=False)
    inbox = _inbox(tmp_path)
    try:
        os.kill(d.proc.pid, signal.SIGSTOP)
        try:
            for i in range(30000):
                (inbox / f"o{i:05d}.txt").write_bytes(b"%d\n" % i)
        finally:
            os.kill(d.proc.pid, signal.SIGCONT)
        t0 = time.monotonic()
        wait_for(lambda: len(_processed(tmp_path)) >= 30000, 280, interval=2.0, what="30,000 files processed")
        print(f"30,000 files processed {time.monotonic() - t0:.1f}s after SIGCONT")
    finally:
        d.terminate()
        sock.close()
    check_invariants(tmp_path, db_url,
                     {f"o{i:05d}.txt": hashlib.sha256(b"%d\n" % i).hexdigest() for i in range(30000)})


def test_notify_protocol_and_dead_worker_stops_pings(tmp_path, db_url):
    d, sock = _start(tmp_path, db_url)
    try:
        assert sock.seen("READY=1")
        wait_for(lambda: len(sock.seen("WATCHDOG=1")) >= 3, 10, what="pings")
        assert any(m.startswith("STATUS=") and "done=" in m for m in sock.messages)
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: sock.seen("RELOADING=1"), 10, what="RELOADING")
        wait_for(lambda: len(sock.seen("READY=1")) >= 2, 10, what="READY after reload")
        # kill both workers with files that make the handler raise SystemExit inside the thread
        for i in range(2):
            (_inbox(tmp_path) / f"crash{i}.txt").write_bytes(b"CRASH-WORKER\n")
        wait_for(lambda: any("UNHEALTHY" in m for m in sock.messages), 20, what="unhealthy status")
        n = len(sock.seen("WATCHDOG=1"))
        time.sleep(1.5)
        assert len(sock.seen("WATCHDOG=1")) == n, "watchdog pings continued with a dead worker"
        code = d.proc.wait(timeout=20)
        assert code == 70  # EXIT_SOFTWARE after the grace period
    finally:
        d.terminate()
        sock.close()


def test_sigterm_sends_stopping_and_exits_cleanly(tmp_path, db_url):
    d, sock = _start(tmp_path, db_url)
    try:
        (_inbox(tmp_path) / "a.txt").write_bytes(b"a\n")
        wait_for(_settled(tmp_path, 1), 15)
        assert d.terminate() == 0
        assert sock.seen("STOPPING=1")
        check_invariants(tmp_path, db_url, {"a.txt": sha(_processed(tmp_path)[0])})
    finally:
        sock.close()


def test_config_error_exits_78_without_starting(tmp_path, db_url):
    cfg = archive_config(tmp_path, db_url)
    cfg["channels"]["drop"]["routes"] = [{"pattern": "*", "handler": "no.such.handler"}]
    path = write_config(tmp_path / "bad.toml", cfg)
    d = DaemonProcess(path)
    d.proc.wait(timeout=30)
    assert d.terminate() == 78
    assert "unknown handler 'no.such.handler'" in d.log()


def test_writer_thread_keeps_intake_alive_under_load(daemon, tmp_path, db_url):
    """Files dropped while others are processed: none lost, none doubled."""
    _d, _ = daemon()
    inbox = _inbox(tmp_path)
    dropped = {}

    def writer(prefix: str) -> None:
        for i in range(150):
            data = f"{prefix}{i}\n".encode()
            tmp = inbox / f".{prefix}{i}.tmp"
            tmp.write_bytes(data)
            os.rename(tmp, inbox / f"{prefix}{i}.txt")
            dropped[f"{prefix}{i}.txt"] = hashlib.sha256(data).hexdigest()

    threads = [threading.Thread(target=writer, args=(p,)) for p in "abc"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_for(_settled(tmp_path, 450), 60)
    check_invariants(tmp_path, db_url, dropped)


def test_sigterm_hands_back_claimed_files_no_worker_started(tmp_path, db_url):
    """A stop in the middle of a claimed batch: the rest is released, not counted as a crashed attempt."""
    from sqlalchemy import create_engine, text

    d, sock = _start(tmp_path, db_url, workers=1, claim_batch=100, commit_batch=4, channel={"quiet_ms": 0})
    dropped = {}
    try:
        os.kill(d.proc.pid, signal.SIGSTOP)
        for i in range(600):
            data = f"stop {i}\n".encode()
            (_inbox(tmp_path) / f"s{i:03d}.txt").write_bytes(data)
            dropped[f"s{i:03d}.txt"] = hashlib.sha256(data).hexdigest()
        os.kill(d.proc.pid, signal.SIGCONT)
        wait_for(lambda: len(_processed(tmp_path)) >= 30, 30)
        engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
        try:
            def processing() -> int:
                with engine.connect() as c:
                    return int(c.execute(text("SELECT count(*) FROM spool_files WHERE state = 'processing'"))
                               .scalar() or 0)

            # Stop it where the one worker holds one file and a claimed run waits behind it.
            for _ in range(500):
                os.kill(d.proc.pid, signal.SIGSTOP)
                held = processing()
                if held >= 10:
                    break
                os.kill(d.proc.pid, signal.SIGCONT)
                time.sleep(0.005)
            else:
                pytest.fail("never caught the daemon with a claimed run waiting")
            d.proc.send_signal(signal.SIGTERM)  # delivered at once on SIGCONT
            os.kill(d.proc.pid, signal.SIGCONT)
            assert d.proc.wait(timeout=30) == 0
            d.terminate()
            with engine.connect() as c:
                left = c.execute(text("SELECT owner, attempts FROM spool_files WHERE state = 'processing'")).all()
        finally:
            engine.dispose()
    finally:
        sock.close()
    # The one worker ends the files in its hands (a group of up to commit_batch) and starts none of the others.
    assert len(left) >= held - 4, f"{held} claimed at the stop, {len(left)} left to release"
    assert all(owner is None and attempts == 0 for owner, attempts in left), left
    d2, _ = _start(tmp_path, db_url, notify=False, workers=1)
    try:
        wait_for(_settled(tmp_path, 600), 180, what="600 files filed by one worker")
    finally:
        d2.terminate()
    info = check_invariants(tmp_path, db_url, dropped)
    assert info["done"] == 600
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as c:
            assert c.execute(text("SELECT max(attempts) FROM spool_files")).scalar() == 1
    finally:
        engine.dispose()
