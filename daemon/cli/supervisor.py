"""The run loop of ``spoolgate run``, apart from the signals that drive it.

Signal handlers only call ``request_reload`` and ``request_stop``; a test calls them directly.
The loop sleeps on a pipe, not an event: the CLI makes it Python's signal wakeup fd, because a signal
the kernel hands to a worker thread interrupts no wait of the main thread, and a stop would otherwise
wait for the next health check while workers go on starting claimed files.
Between requests the loop checks the daemon's health every interval: healthy, it pings systemd's
watchdog; unhealthy, it stops pinging and, after three intervals, ends with ``EXIT_SOFTWARE`` so
systemd restarts the process. A reload that fails keeps the running configuration.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from daemon.cli import EXIT_OK, EXIT_SOFTWARE
from daemon.cli.context import safe_url

if TYPE_CHECKING:
    from daemon.sdnotify import Notifier
    from daemon.service import Daemon
    from store.config import Settings

log = logging.getLogger("spoolgate")


class Supervisor:
    """Starts a daemon, supervises it until a stop request, then stops it.

    ``load`` returns the new, validated settings for a reload (or raises: the reload is refused);
    ``record(outcome, detail)`` records each reload (``ok`` or ``refused``).
    """

    def __init__(self, notify: Notifier, *, interval_s: float, load: Callable[[], Settings],
                 record: Callable[[str, str | None], None]) -> None:
        self.notify = notify
        self.interval_s = interval_s
        self.load = load
        self.record = record
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._reload = threading.Event()
        self._stop = threading.Event()
        self._stops = 0
        self._lock = threading.Lock()

    @property
    def wakeup_fd(self) -> int:
        """The pipe's write end, for ``signal.set_wakeup_fd``: any signal wakes the loop at once."""
        return self._wake_w

    def _poke(self) -> None:
        with contextlib.suppress(BlockingIOError):  # full: the loop is woken already
            os.write(self._wake_w, b"\0")

    def _sleep(self, timeout: float) -> None:
        select.select([self._wake_r], [], [], timeout)
        with contextlib.suppress(BlockingIOError):
            while os.read(self._wake_r, 512):
                pass

    def close(self) -> None:
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def request_reload(self) -> None:
        """Reload the configuration at the loop's next turn (SIGHUP); ignored once a stop is requested."""
        self._reload.set()
        self._poke()

    def request_stop(self) -> int:
        """Stop at the loop's next turn (SIGTERM, SIGINT). Returns how many stops were requested so far."""
        with self._lock:
            self._stops += 1
            stops = self._stops
        self._stop.set()
        self._poke()
        return stops

    def run(self, d: Daemon) -> int:
        """Start the daemon, supervise it, stop it; the exit code of ``spoolgate run``.

        Requests made before (a signal while the daemon is built) are honoured at the first turn."""
        d.start()
        self.notify.ready(f"ready; {d.status_text()}")
        s = d.settings
        log.info("spoolgate ready: %d channel(s), %d worker(s), %d job(s), database %s", len(s.channels),
                 s.workers, len(s.jobs), safe_url(s.database_url))
        code = self._supervise(d)
        self.notify.stopping()
        log.info("stopping: intake closed, finishing files in hand")
        clean = d.stop()
        log.info("stopped%s", "" if clean else " (some threads did not finish in time)")
        return code

    def _supervise(self, d: Daemon) -> int:
        """The loop itself, until a stop request (``EXIT_OK``) or lasting ill health (``EXIT_SOFTWARE``)."""
        unhealthy_since: float | None = None
        while True:
            self._sleep(self.interval_s)
            if self._stop.is_set():
                return EXIT_OK
            if self._reload.is_set():
                self._reload.clear()
                self._reload_into(d)
                continue
            problems = d.health()
            if problems:
                unhealthy_since = unhealthy_since or time.monotonic()
                log.critical("unhealthy, watchdog pings stopped: %s", "; ".join(problems))
                self.notify.status(f"UNHEALTHY: {'; '.join(problems)}")
                if time.monotonic() - unhealthy_since > 3 * self.interval_s:
                    return EXIT_SOFTWARE
                continue
            unhealthy_since = None
            self.notify.watchdog()
            self.notify.status(d.status_text())

    def _reload_into(self, d: Daemon) -> None:
        """Whatever the new file holds, the running daemon keeps going."""
        self.notify.reloading()
        try:
            d.reload(self.load())
            log.info("configuration reloaded")
            self.record("ok", None)
        except Exception as exc:
            log.error("reload refused, keeping the running configuration: %s", exc)
            self.record("refused", str(exc))
        self.notify.ready(d.status_text())
