"""A row per running daemon (host + pid) refreshed periodically, so the console can show which
daemons are alive on which host and when each last beat, without reaching into their processes."""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable

from sqlalchemy import delete, update

from store.db import Database, utcnow
from store.models.console import DaemonHeartbeat

#: seconds between beats; the console calls a daemon stale after STALE_AFTER_S
INTERVAL_S = 10.0
STALE_AFTER_S = 3 * INTERVAL_S
#: rows of daemons gone this long are removed by the next daemon that starts
FORGET_AFTER = dt.timedelta(days=7)


class HeartbeatWriter:
    """Called every ``INTERVAL_S`` by the daemon's periodic thread; the first call inserts the row."""

    def __init__(self, db: Database, identity: str, status: Callable[[], str]) -> None:
        self.db = db
        self.identity = identity
        self.status = status
        self.host = socket.gethostname()[:255]
        self.pid = os.getpid()
        self.started = utcnow()
        self._inserted = False

    def __call__(self) -> None:
        now = utcnow()
        status = self.status()[:255]
        with self.db.transaction() as s:
            if self._inserted:
                s.execute(update(DaemonHeartbeat).where(DaemonHeartbeat.host == self.host,
                                                        DaemonHeartbeat.pid == self.pid)
                          .values(beat_at=now, status=status))
                return
            s.execute(delete(DaemonHeartbeat).where(
                (DaemonHeartbeat.beat_at < now - FORGET_AFTER)
                | ((DaemonHeartbeat.host == self.host) & (DaemonHeartbeat.pid == self.pid))))
            s.add(DaemonHeartbeat(host=self.host, pid=self.pid, identity=self.identity[:128],
                                  started_at=self.started, beat_at=now, status=status))
        self._inserted = True
