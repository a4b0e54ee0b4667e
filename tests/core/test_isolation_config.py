"""Settings that crashed instead of exit 78 or "reload refused" (issue 11, reproduction 5)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from store.config import ConfigError, load
from tests.support import REPO, DaemonProcess, NotifySocket, archive_config, files_in, wait_for, write_config


def _cli(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    e = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "daemon", "--config", str(config), *args], cwd=REPO, env=e,
                          capture_output=True, text=True, timeout=60)


def test_config_that_is_not_utf8_is_a_config_error(tmp_path):
    path = tmp_path / "c.toml"
    path.write_bytes(b'workers = 2\n# caf\xe9\n')
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        load(path)


@pytest.mark.parametrize("case", ["env-json", "inf", "nan", "driver"])
def test_bad_settings_exit_78_with_one_line(tmp_path, case):
    cfg = archive_config(tmp_path, f"sqlite:///{tmp_path}/x.db")
    env: dict[str, str] = {}
    if case == "env-json":
        env["SPOOLGATE_METRICS"] = "{not json"
    elif case == "inf":
        cfg["scan_interval_s"] = float("inf")
    elif case == "nan":
        cfg["channels"]["drop"]["poll_interval_s"] = float("nan")
    else:
        cfg["database_url"] = "mysql://u@127.0.0.1/db"  # no MySQL driver is installed
    path = write_config(tmp_path / "c.toml", cfg)
    for command in ("check-config", "run"):
        r = _cli(path, command, env=env)
        assert r.returncode == 78, (command, r.returncode, r.stderr)
        assert "Traceback" not in r.stderr and r.stderr.count("\n") <= 2, r.stderr


def test_sighup_with_a_config_that_is_not_utf8_is_refused_and_the_daemon_goes_on(tmp_path, sqlite_url):
    path = write_config(tmp_path / "spoolgate.toml", archive_config(tmp_path, sqlite_url))
    good = path.read_bytes()
    sock = NotifySocket(tmp_path / "n.sock")
    d = DaemonProcess(path, notify=sock)
    try:
        d.wait_ready()
        path.write_bytes(good + b"\n# caf\xe9\n")
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload refused" in d.log(), 15, what="reload refused")
        (tmp_path / "spool/drop/in/after.txt").write_bytes(b"still running\n")
        wait_for(lambda: [p.name for p in files_in(tmp_path / "spool/drop/processed")] == ["after.txt"], 20)
        assert d.proc.poll() is None
    finally:
        assert d.terminate() == 0
        sock.close()
    assert "Traceback" not in d.log()
