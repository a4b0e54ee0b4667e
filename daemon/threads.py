"""The supervised thread base: each service thread has a stop event, a heartbeat and a recorded death.

The supervisor (``spoolgate run``) pings systemd's watchdog only while every thread is alive and
intake is beating, so a thread never dies silently: it records how, and the process is restarted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import DBAPIError

from store.db import DatabaseUnavailable, describe

log = logging.getLogger("spoolgate.daemon")


class Heartbeat:
    """Each thread beats; the supervisor pings systemd only while all are alive and beating."""

    def __init__(self) -> None:
        self._beats: dict[str, float] = {}
        self._lock = threading.Lock()

    def beat(self, name: str) -> None:
        with self._lock:
            self._beats[name] = time.monotonic()

    def stale(self, max_age_s: float) -> list[str]:
        now = time.monotonic()
        with self._lock:
            return [n for n, t in self._beats.items() if now - t > max_age_s]


class Crew:
    """What the threads of one daemon share: the heartbeat, and the flag that says the daemon is
    stopping (so a thread torn down under it is not reported as a death)."""

    def __init__(self) -> None:
        self.heartbeat = Heartbeat()
        self.stopping = threading.Event()


class ServiceThread(threading.Thread):
    """A thread with a stop event, a heartbeat, and a record of how it died."""

    def __init__(self, name: str, crew: Crew) -> None:
        super().__init__(name=name, daemon=True)
        self.crew = crew
        self.stopped = threading.Event()
        self.crashed: BaseException | None = None

    def run(self) -> None:
        try:
            self.loop()
        except BaseException as exc:  # recorded for the supervisor; the watchdog pings stop
            if self.crew.stopping.is_set() or self.stopped.is_set():
                # torn down under it while stopping (watches removed, database closed): not a death
                log.info("thread %s ended while stopping: %s", self.name, exc)
                return
            self.crashed = exc
            log.critical("thread %s died", self.name, exc_info=True)

    def loop(self) -> None:
        raise NotImplementedError

    def beat(self) -> None:
        self.crew.heartbeat.beat(self.name)


class Periodic(ServiceThread):
    """Runs ``fn`` every ``interval_s``; an exception is logged, never fatal."""

    def __init__(self, name: str, crew: Crew, fn: Callable[[], Any], interval_s: float) -> None:
        super().__init__(name, crew)
        self.fn = fn
        self.interval_s = interval_s

    def loop(self) -> None:
        while not self.stopped.is_set():
            self.beat()
            try:
                self.fn()
            except (OSError, DBAPIError, DatabaseUnavailable) as exc:  # the environment, not a bug: one line
                log.error("%s: pass failed: %s", self.name, describe(exc))
            except Exception:
                log.exception("%s: pass failed", self.name)
            self.beat()
            self.stopped.wait(self.interval_s)
