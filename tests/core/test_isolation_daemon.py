"""The real daemon with one broken channel, hostile names and symlinks: the other channels go
on, the daemon stays healthy, starts again, and the broken channel heals (issue 11, issue 10 logs)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import urllib.request
from pathlib import Path

import pytest

from tests.support import DaemonProcess, NotifySocket, archive_config, files_in, wait_for, write_config


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _two_channels(tmp_path: Path, db_url: str, port: int) -> Path:
    cfg = archive_config(tmp_path, db_url, metrics={"enabled": True, "port": port})
    cfg["channels"]["ach"] = {"inbox": "ach/in", "work": "ach/work", "processed": "ach/processed",
                              "error": "ach/error", "completeness": "quiet", "quiet_ms": 300,
                              "routes": [{"pattern": "*", "handler": "archive"}]}
    return write_config(tmp_path / "spoolgate.toml", cfg)


def _metrics(port: int) -> str:
    return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()


def test_an_inbox_replaced_by_a_file_degrades_only_its_channel_and_heals(tmp_path, db_url):
    """Reproduction 4: `rmdir ach/in` and a regular file `in` killed intake (exit 70), then start (78)."""
    port = _free_port()
    cfg = _two_channels(tmp_path, db_url, port)
    sock = NotifySocket(tmp_path / "n.sock")
    d = DaemonProcess(cfg, notify=sock)
    ach_in, drop_in = tmp_path / "spool/ach/in", tmp_path / "spool/drop/in"
    try:
        d.wait_ready()
        ach_in.rmdir()
        ach_in.write_bytes(b"an upstream copy that found no folder\n")
        wait_for(lambda: 'spoolgate_channel_down{channel="ach"} 1.0' in _metrics(port), 20, what="ach down")
        pings = len(sock.seen("WATCHDOG=1"))
        (drop_in / "still.txt").write_bytes(b"the other channel goes on\n")
        wait_for(lambda: [p.name for p in files_in(tmp_path / "spool/drop/processed")] == ["still.txt"], 20)
        wait_for(lambda: len(sock.seen("WATCHDOG=1")) > pings + 2, 15, what="watchdog pings go on")
        assert any("degraded=ach" in m for m in sock.seen("STATUS="))
        assert d.proc.poll() is None
    finally:
        assert d.terminate() == 0
        sock.close()
    log = d.log()
    assert "channel ach: intake stopped for this channel" in log
    assert "Traceback" not in log and "died" not in log
    # A start with the broken inbox: READY, not 78; the channel heals once the folder is back.
    sock = NotifySocket(tmp_path / "n2.sock")
    d = DaemonProcess(cfg, notify=sock)
    try:
        d.wait_ready()
        ach_in.unlink()
        ach_in.mkdir()
        (ach_in / "healed.txt").write_bytes(b"back\n")
        wait_for(lambda: [p.name for p in files_in(tmp_path / "spool/ach/processed")] == ["healed.txt"], 30)
        wait_for(lambda: 'spoolgate_channel_down{channel="ach"} 0.0' in _metrics(port), 10, what="ach up")
    finally:
        assert d.terminate() == 0
        sock.close()
    assert "intake resumed" in d.log() and "Traceback" not in d.log()


def test_hostile_names_and_symlinks_end_in_error_with_reports_logged_and_counted(tmp_path, db_url):
    """Reproductions 1-3 and 12 through the daemon; issue 10: a refused symlink is logged and counted."""
    port = _free_port()
    cfg = _two_channels(tmp_path, db_url, port)
    d = DaemonProcess(cfg)
    inbox = tmp_path / "spool/drop/in"
    try:
        d.wait_ready()
        os.symlink("/etc/passwd", inbox / "link.txt")
        (inbox / ("F" * 241 + ".txt")).write_bytes(b"FAIL\n")
        (inbox / ("L" * 251 + ".txt")).write_bytes(b"long\n")
        (inbox / "bidi\u202etxt.exe").write_bytes(b"bidi\n")
        with open(os.fsencode(inbox) + b"/latin\xe9.txt", "wb") as fh:
            fh.write(b"latin\n")
        (inbox / "ok.txt").write_bytes(b"ok\n")
        err = tmp_path / "spool/drop/error"
        wait_for(lambda: len(list(err.glob("*.error.json"))) == 5, 30, what="five reports")
        wait_for(lambda: [p.name for p in files_in(tmp_path / "spool/drop/processed")] == ["ok.txt"], 20)
        assert 'spoolgate_files_total{channel="drop",outcome="error"} 5.0' in _metrics(port)
    finally:
        assert d.terminate() == 0
    reports = [json.loads(p.read_text()) for p in err.glob("*.error.json")]
    assert sorted(r["code"] for r in reports) == ["refused", "unsafe_name", "unsafe_name", "unsafe_name",
                                                  "unsafe_name"]
    assert all(len(p.name.encode()) <= 255 and p.name.isprintable() for p in err.iterdir())
    log = d.log()
    assert "\u202e" not in log and "Traceback" not in log and "died" not in log
    assert "link.txt" in log and "WARNING" in log.split("link.txt")[0].rsplit("\n", 1)[-1]
    assert not files_in(tmp_path / "spool/drop/work") and not os.listdir(inbox)
    # a restart finds nothing left to do and never exits on what it filed
    d = DaemonProcess(cfg)
    try:
        d.wait_ready()
    finally:
        assert d.terminate() == 0


@pytest.mark.parametrize("how", ["deleted", "replaced", "garbage"])
def test_sqlite_file_lost_under_the_daemon_stops_intake_and_pings(tmp_path, sqlite_url, how):
    """Reproduction 10: files were "done" into an unlinked database and the health check stayed green."""
    cfg = write_config(tmp_path / "spoolgate.toml", archive_config(tmp_path, sqlite_url))
    sock = NotifySocket(tmp_path / "n.sock")
    d = DaemonProcess(cfg, notify=sock)
    db_file = Path(sqlite_url[len("sqlite:///"):])
    try:
        d.wait_ready()
        (tmp_path / "spool/drop/in/a.txt").write_bytes(b"before\n")
        wait_for(lambda: files_in(tmp_path / "spool/drop/processed"), 20)
        if how == "deleted":
            db_file.unlink()
        elif how == "replaced":
            copy = db_file.with_name("copy.db")
            shutil.copyfile(db_file, copy)
            os.replace(copy, db_file)
        else:
            db_file.write_bytes(b"this is not a database" * 500)
        (tmp_path / "spool/drop/in/b.txt").write_bytes(b"after\n")
        assert d.proc.wait(timeout=30) == 70
    finally:
        d.terminate()
        sock.close()
    assert "database lost" in d.log() and "Traceback" not in d.log()
    assert any("UNHEALTHY" in m and "database file" in m for m in sock.seen("STATUS="))
    assert [p.name for p in files_in(tmp_path / "spool/drop/processed")] == ["a.txt"]
