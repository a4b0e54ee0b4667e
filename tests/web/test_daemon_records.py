"""What the running daemon writes for the console: its heartbeat row, and a reload (SIGHUP) as an
operator action, refused when the new configuration is invalid."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

from sqlalchemy import select

from store.models.console import DaemonHeartbeat, OperatorAction
from tests.support import DaemonProcess, archive_config, wait_for, write_config
from tests.web.conftest import db_rows


def test_heartbeat_and_reload_are_recorded(db_url: str, tmp_path: Path) -> None:
    root = tmp_path / "site"
    config = write_config(tmp_path / "spoolgate.toml", archive_config(root, db_url))
    daemon = DaemonProcess(config)
    try:
        daemon.wait_ready()
        beat = wait_for(lambda: db_rows(db_url, select(DaemonHeartbeat.host, DaemonHeartbeat.pid,
                                                       DaemonHeartbeat.status)), 30, what="heartbeat row")
        assert beat[0][0] == socket.gethostname() and beat[0][1] == daemon.proc.pid and "done=" in beat[0][2]
        daemon.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: db_rows(db_url, select(OperatorAction.id)), 30, what="reload recorded")
        config.write_text(config.read_text() + '\nworkers = "many"\n')
        daemon.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: len(db_rows(db_url, select(OperatorAction.id))) == 2, 30, what="refused reload recorded")
    finally:
        assert daemon.terminate() == 0, daemon.log()
    got = [(a.action, a.via, a.target, a.outcome) for (a,) in
           db_rows(db_url, select(OperatorAction).order_by(OperatorAction.id))]
    assert got == [("reload", "signal", "config", "ok"), ("reload", "signal", "config", "refused")]
