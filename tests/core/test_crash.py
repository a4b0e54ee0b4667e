"""kill -9 at every step, two daemons on one spool, and a database outage: nothing lost, nothing doubled."""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.tcpproxy import tcp_proxy  # noqa: F401
from tests.support import (
    REPO,
    DaemonProcess,
    archive_config,
    check_invariants,
    files_in,
    wait_for,
    write_config,
)

CRASH_POINTS = ["after_claim_rename", "after_claim_insert", "in_transaction", "after_commit",
                "after_outbound_rename", "after_link_before_unlink"]


def _config(tmp_path: Path, db_url: str, **over) -> Path:
    return write_config(tmp_path / "spoolgate.toml", archive_config(tmp_path, db_url, **over))


def _drop(tmp_path: Path, dropped: dict[str, str], name: str, data: bytes) -> None:
    inbox = tmp_path / "spool/drop/in"
    inbox.mkdir(parents=True, exist_ok=True)
    tmp = inbox / f".{name}.tmp"
    tmp.write_bytes(data)
    tmp.rename(inbox / name)
    dropped[name] = hashlib.sha256(data).hexdigest()


def _settled(tmp_path: Path, n: int):
    def pred():
        done = files_in(tmp_path / "spool/drop/processed") + files_in(tmp_path / "spool/drop/error")
        return len(done) >= n and not files_in(tmp_path / "spool/drop/work")
    return pred


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_kill9_at_each_step_then_restart(tmp_path, db_url, point):
    cfg = _config(tmp_path, db_url, workers=1)
    dropped: dict[str, str] = {}
    d = DaemonProcess(cfg, env={"SPOOLGATE_CRASHPOINT": point})
    d.wait_ready()
    _drop(tmp_path, dropped, "first.txt", b"first\n")
    d.proc.wait(timeout=30)
    assert d.proc.returncode == -9, f"the crash point {point} was not reached:\n{d.log()}"
    d.kill9()
    _drop(tmp_path, dropped, "second.txt", b"second\n")
    assert _restart_until_settled(tmp_path, cfg, db_url, dropped) == 2


def _restart_until_settled(tmp_path: Path, cfg: Path, db_url: str, dropped: dict[str, str]) -> int:
    """A daemon without crash points until every dropped file is filed; the invariants hold; files done."""
    d = DaemonProcess(cfg)
    try:
        d.wait_ready()
        wait_for(_settled(tmp_path, len(dropped)), 30, what="every file filed after restart")
    finally:
        d.terminate()
    return int(check_invariants(tmp_path, db_url, dropped)["done"])


def _ledger_states(db_url: str) -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return sorted(r[0] for r in conn.execute(text("SELECT state FROM spool_files")))
    finally:
        engine.dispose()


@pytest.mark.parametrize("point", ["in_transaction", "after_commit"])
def test_kill9_inside_a_group_commit_then_restart(tmp_path, db_url, point):
    """Six files found at start-up are claimed and decided together: a kill before the group's commit
    leaves none of them done, a kill after it all six; the restart files each exactly once."""
    cfg = _config(tmp_path, db_url, workers=1, channel={"completeness": "signal", "quiet_ms": 0})
    dropped: dict[str, str] = {}
    for i in range(6):
        _drop(tmp_path, dropped, f"g{i}.txt", f"group file {i}\n".encode())
        (tmp_path / f"spool/drop/in/g{i}.txt.done").write_bytes(b"")
    d = DaemonProcess(cfg, env={"SPOOLGATE_CRASHPOINT": point})
    d.proc.wait(timeout=60)
    assert d.proc.returncode == -9, f"the crash point {point} was not reached:\n{d.log()}"
    d.kill9()
    states = _ledger_states(db_url)
    assert states == (["processing"] * 6 if point == "in_transaction" else ["done"] * 6), states
    assert _restart_until_settled(tmp_path, cfg, db_url, dropped) == 6


def _kill_loop(tmp_path: Path, db_url: str, kills: int, seed: int) -> None:
    rnd = random.Random(seed)
    cfg = _config(tmp_path, db_url, workers=2)
    dropped: dict[str, str] = {}
    errors: set[str] = set()
    n = 0
    for _ in range(kills):
        d = DaemonProcess(cfg)
        for _ in range(rnd.randint(2, 6)):
            n += 1
            bad = rnd.random() < 0.15
            name = f"k{n:04d}.txt"
            _drop(tmp_path, dropped, name, f"file {n}\n{'FAIL' if bad else 'ok'}\n".encode())
            if bad:
                errors.add(name)
        time.sleep(rnd.uniform(0.05, 1.5))  # from start-up recovery to the middle of processing
        d.kill9()
    d = DaemonProcess(cfg)
    try:
        d.wait_ready()
        try:
            wait_for(_settled(tmp_path, len(dropped)), 90, what="every file filed after the last restart")
        except AssertionError as exc:
            left = _state_dump(tmp_path, db_url)
            raise AssertionError(f"{exc}\n{left}\n--- daemon log ---\n{d.log()[-6000:]}") from None
    finally:
        d.terminate()
    check_invariants(tmp_path, db_url, dropped, expect_error=errors)


def _state_dump(tmp_path: Path, db_url: str) -> str:
    """What a stuck kill loop left behind: every folder's files and the unfinished ledger rows."""
    from sqlalchemy import create_engine, text

    spool = tmp_path / "spool/drop"
    lines = []
    for sub in ("in", "work"):
        folder = spool / sub
        names = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
        lines.append(f"{sub}/: {names}")
    lines.append(f"processed: {len(files_in(spool / 'processed'))}, error: {len(files_in(spool / 'error'))}")
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, original_name, work_name, state, owner, attempts, lease_until "
                                     "FROM spool_files WHERE state NOT IN ('done', 'error', 'duplicate')")).all()
    finally:
        engine.dispose()
    lines += [f"row {tuple(r)}" for r in rows]
    return "\n".join(lines)


def test_randomised_kill9_loop_sqlite(tmp_path, sqlite_url):
    """50 kills at random instants; every file ends processed exactly once or in error/ with a reason."""
    _kill_loop(tmp_path, sqlite_url, kills=50, seed=20261122)


def test_randomised_kill9_loop_postgresql(tmp_path, pg_url):
    _kill_loop(tmp_path, pg_url, kills=12, seed=7)


def test_two_daemons_share_a_spool_on_postgresql(tmp_path, pg_url):
    cfg = _config(tmp_path, pg_url, workers=2)
    a, b = DaemonProcess(cfg), DaemonProcess(cfg)
    dropped: dict[str, str] = {}
    try:
        a.wait_ready()
        b.wait_ready()
        for i in range(400):
            _drop(tmp_path, dropped, f"s{i:03d}.txt", f"shared {i}\n".encode())
        wait_for(_settled(tmp_path, 400), 120, what="400 files filed")
    finally:
        a.terminate()
        b.terminate()
    check_invariants(tmp_path, pg_url, dropped)
    done_a, done_b = a.log().count("outcome=done"), b.log().count("outcome=done")
    assert done_a + done_b == 400 and done_a > 0 and done_b > 0, (done_a, done_b)


def test_second_daemon_on_sqlite_refuses_to_start(tmp_path, sqlite_url):
    cfg = _config(tmp_path, sqlite_url)
    first = DaemonProcess(cfg)
    try:
        first.wait_ready()
        second = DaemonProcess(cfg)
        assert second.proc.wait(timeout=30) == 75
        second.terminate()
        assert f"lock held by PID {first.proc.pid}" in second.log()
    finally:
        first.terminate()


def test_database_unavailable_for_30s(tmp_path, pg_url, tcp_proxy):  # noqa: F811
    from sqlalchemy.engine import make_url

    url = make_url(pg_url)
    proxy = tcp_proxy(url.host or "127.0.0.1", url.port or 5432)
    via_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    cfg = _config(tmp_path, via_proxy, transient_retry_s=120.0)
    d = DaemonProcess(cfg)
    dropped: dict[str, str] = {}
    try:
        d.wait_ready()
        proxy.down("refuse")
        t0 = time.monotonic()
        for i in range(20):
            _drop(tmp_path, dropped, f"o{i:02d}.txt", f"outage {i}\n".encode())
        time.sleep(30)
        assert files_in(tmp_path / "spool/drop/processed") == [], "processed while the database was down"
        assert d.proc.poll() is None, "the daemon died during the outage"
        proxy.up()
        wait_for(_settled(tmp_path, 20), 60, what="files processed after the outage")
        assert time.monotonic() - t0 >= 30
    finally:
        d.terminate()
    check_invariants(tmp_path, pg_url, dropped)


def test_status_errors_retry_ledger_cli(tmp_path, db_url):
    cfg = _config(tmp_path, db_url)
    d = DaemonProcess(cfg)
    dropped: dict[str, str] = {}
    try:
        d.wait_ready()
        _drop(tmp_path, dropped, "good.txt", b"good\n")
        _drop(tmp_path, dropped, "bad.txt", b"FAIL\n")
        wait_for(_settled(tmp_path, 2), 20)

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "daemon", "--config", str(cfg), *args], cwd=REPO,
                                  capture_output=True, text=True, timeout=60)

        st = cli("status", "--json")
        assert st.returncode == 0, st.stderr
        import json

        status = json.loads(st.stdout)
        assert status["channels"]["drop"]["error"]["files"] == 1
        assert status["channels"]["drop"]["ledger"] == {"done": 1, "error": 1}
        assert status["last_errors"][0]["file"] == "bad.txt"
        errs = json.loads(cli("errors", "--json").stdout)
        assert [(e["file"], e["code"]) for e in errs] == [("bad.txt", "fail_marker")]
        assert json.loads(cli("ledger", "show", "good.txt").stdout)[0]["state"] == "done"
        assert cli("ledger", "show", "nothing-here").returncode == 1
        assert cli("retry", "../../../etc/passwd").returncode == 1  # a path never escapes error/
        (tmp_path / "spool/drop/error/bad.txt").write_bytes(b"now fine\n")
        r = cli("retry", "bad.txt")
        assert r.returncode == 0 and "retrying drop/bad.txt" in r.stdout
        wait_for(lambda: len(files_in(tmp_path / "spool/drop/processed")) == 2, 20)
        dropped["bad.txt"] = hashlib.sha256(b"now fine\n").hexdigest()
        inbox_file = tmp_path / "spool/drop/in/probe.txt"
        dry = tmp_path / "probe.txt"
        dry.write_bytes(b"a\nb\n")
        out = cli("process", str(dry), "--dry-run", "--channel", "drop", "--json")
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["counts"] == {"lines": 2} and not inbox_file.exists()
    finally:
        d.terminate()
    check_invariants(tmp_path, db_url, dropped)
