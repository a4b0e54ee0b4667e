"""SIGHUP reloads routes; the Prometheus endpoint counts outcomes; jobs run from the CLI."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request

from tests.support import REPO, DaemonProcess, NotifySocket, archive_config, files_in, wait_for, write_config


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sighup_reloads_routes_and_metrics_count(tmp_path, db_url):
    port = _free_port()
    cfg = archive_config(tmp_path, db_url, metrics={"enabled": True, "port": port})
    cfg["channels"]["drop"]["routes"] = [{"pattern": "*.a", "handler": "archive"}]
    path = write_config(tmp_path / "spoolgate.toml", cfg)
    sock = NotifySocket(tmp_path / "n.sock")
    d = DaemonProcess(path, notify=sock)
    try:
        d.wait_ready()
        inbox = tmp_path / "spool/drop/in"
        (inbox / "x.b").write_bytes(b"before reload\n")
        wait_for(lambda: (tmp_path / "spool/drop/error/x.b.error.json").exists(), 15)
        cfg["channels"]["drop"]["routes"].append({"pattern": "*.b", "handler": "archive"})
        write_config(path, cfg)
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: len(sock.seen("READY=1")) >= 2, 15, what="READY after reload")
        assert sock.seen("RELOADING=1")
        (inbox / "y.b").write_bytes(b"after reload\n")
        wait_for(lambda: [p.name for p in files_in(tmp_path / "spool/drop/processed")] == ["y.b"], 15)
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        assert 'spoolgate_files_total{channel="drop",outcome="done"} 1.0' in text
        assert 'spoolgate_files_total{channel="drop",outcome="error"} 1.0' in text
        assert "spoolgate_queue_depth" in text and "spoolgate_oldest_waiting_seconds" in text
        assert "spoolgate_overflow_rescans_total" in text
    finally:
        d.terminate()
        sock.close()


def test_jobs_list_and_run_from_the_cli(tmp_path, db_url):
    cfg = archive_config(tmp_path, db_url, jobs={"nightly": {"kind": "core.noop", "every": "1 day", "at": "02:00"},
                                                 "bad": {"kind": "core.noop", "every": "1 h",
                                                         "options": {"fail": True}}})
    path = write_config(tmp_path / "spoolgate.toml", cfg)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "daemon", "--config", str(path), *args], cwd=REPO,
                              capture_output=True, text=True, timeout=60)

    ok = cli("jobs", "run", "nightly")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout.strip().splitlines()[-1])["outcome"] == "noop"
    bad = cli("jobs", "run", "bad")
    assert bad.returncode == 1 and json.loads(bad.stdout.strip().splitlines()[-1])["outcome"] == "failure"
    assert cli("jobs", "run", "nope").returncode == 2
    listing = cli("jobs", "list")
    assert listing.returncode == 0 and "nightly" in listing.stdout and "noop" in listing.stdout
