"""The run loop of ``spoolgate run`` without signals: a real daemon, a real notify socket, and the
requests a signal handler would make, called directly."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from daemon.cli import EXIT_OK, EXIT_SOFTWARE
from daemon.cli.supervisor import Supervisor
from daemon.sdnotify import Notifier
from daemon.service import Daemon
from store.config import ConfigError, Settings
from store.db import Database
from tests.support import NotifySocket, archive_config, wait_for

#: a reload as the supervisor records it: ``(outcome, detail)``
Recorded = tuple[str, str | None]


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[NotifySocket]:
    sock = NotifySocket(tmp_path / "n.sock")
    yield sock
    sock.close()


@pytest.fixture
def daemon_for(tmp_path: Path) -> Iterator[Callable[[str], Daemon]]:
    made: list[Database] = []

    def make(db_url: str) -> Daemon:
        db = Database(db_url)
        made.append(db)
        return Daemon(Settings(**archive_config(tmp_path, db_url)), db)

    yield make
    for db in made:
        db.dispose()


class Running:
    """``Supervisor.run`` in a thread, as ``spoolgate run`` runs it on the main thread."""

    def __init__(self, sup: Supervisor, d: Daemon) -> None:
        self.code: int | None = None
        self.thread = threading.Thread(target=lambda: setattr(self, "code", sup.run(d)), daemon=True)
        self.thread.start()

    def join(self) -> int | None:
        self.thread.join(60)
        assert not self.thread.is_alive(), "the supervisor did not return"
        return self.code


@pytest.fixture
def supervisor(notify: NotifySocket) -> Iterator[Callable[..., tuple[Supervisor, list[Recorded]]]]:
    """``supervisor(load)``: a supervisor notifying ``notify``, and the reloads it recorded."""
    notifiers: list[Notifier] = []
    made: list[Supervisor] = []

    def make(load: Callable[[], Settings] | None = None) -> tuple[Supervisor, list[Recorded]]:
        records: list[Recorded] = []

        def refuse() -> Settings:
            raise ConfigError("no reload planned")

        notifiers.append(Notifier(str(notify.path)))
        sup = Supervisor(notifiers[-1], interval_s=0.1, load=load or refuse,
                         record=lambda outcome, detail: records.append((outcome, detail)))
        made.append(sup)
        return sup, records

    yield make
    for n in notifiers:
        n.close()
    for sup in made:
        sup.close()


def test_reload_keeps_running_on_a_bad_file_and_stop_ends_cleanly(tmp_path, db_url, notify, daemon_for, supervisor):
    d = daemon_for(db_url)
    new = Settings(**archive_config(tmp_path, db_url, workers=3))
    plans: list[Settings | Exception] = [new, ConfigError("config workers: not a number")]

    def load() -> Settings:
        plan = plans.pop(0)
        if isinstance(plan, Exception):
            raise plan
        return plan

    sup, records = supervisor(load)
    run = Running(sup, d)
    wait_for(lambda: notify.seen("READY=1") and notify.seen("WATCHDOG=1"), 30, what="ready and a watchdog ping")
    assert notify.seen("STATUS=ready; done=0")

    sup.request_reload()
    wait_for(lambda: len(notify.seen("READY=1")) >= 2, 30, what="READY after the reload")
    assert len(notify.seen("RELOADING=1")) == 1 and records == [("ok", None)] and d.settings is new

    sup.request_reload()
    wait_for(lambda: len(records) == 2, 30, what="the refused reload recorded")
    assert records[1] == ("refused", "config workers: not a number") and d.settings is new
    wait_for(lambda: len(notify.seen("READY=1")) >= 3, 30, what="READY after the refused reload")

    assert sup.request_stop() == 1
    assert run.join() == EXIT_OK
    assert notify.seen("STOPPING=1")
    assert d.stopping.is_set() and not any(t.is_alive() for t in d.threads())
    assert sup.request_stop() == 2  # what makes the signal handler exit at once on a second signal


def test_a_stop_requested_while_starting_wins_over_a_reload(db_url, notify, daemon_for, supervisor):
    d = daemon_for(db_url)
    sup, records = supervisor()
    sup.request_stop()
    sup.request_reload()
    assert sup.run(d) == EXIT_OK
    assert notify.seen("READY=1") and notify.seen("STOPPING=1")
    assert records == [] and not notify.seen("RELOADING=1") and not notify.seen("WATCHDOG=1")


def test_lasting_ill_health_stops_the_pings_and_ends_with_70(sqlite_url, notify, daemon_for, supervisor):
    d = daemon_for(sqlite_url)
    sup, _records = supervisor()
    run = Running(sup, d)
    wait_for(lambda: notify.seen("WATCHDOG=1"), 30, what="a watchdog ping")
    Path(sqlite_url.removeprefix("sqlite:///")).unlink()  # the database file deleted under the daemon
    wait_for(lambda: notify.seen("STATUS=UNHEALTHY"), 30, what="UNHEALTHY status")
    pings = len(notify.seen("WATCHDOG=1"))
    assert run.join() == EXIT_SOFTWARE
    assert len(notify.seen("WATCHDOG=1")) == pings, "pinged the watchdog while unhealthy"
    assert "was deleted under the running daemon" in notify.seen("STATUS=UNHEALTHY")[-1]
    assert notify.seen("STOPPING=1")


def test_a_signal_taken_by_another_thread_wakes_the_loop_at_once(tmp_path, db_url, notify, daemon_for, supervisor):
    """The kernel may hand SIGTERM to any thread; Python runs the handler on the main thread only when
    that thread wakes. With the loop asleep for a long interval, the stop must still come at once, so
    workers start no more claimed files (the CLI's wiring: a handler and the wakeup fd)."""
    d = daemon_for(db_url)
    sup, _ = supervisor()
    sup.interval_s = 600.0
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: sup.request_stop())
    old_fd = signal.set_wakeup_fd(sup.wakeup_fd, warn_on_full_buffer=False)
    try:
        def kill_from_a_thread() -> None:
            wait_for(lambda: notify.seen("READY=1"), 60, what="ready")
            signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)

        sender = threading.Thread(target=kill_from_a_thread, daemon=True)
        sender.start()
        t0 = time.monotonic()
        code = sup.run(d)  # on the main thread, as in ``spoolgate run``
        took = time.monotonic() - t0
        sender.join(10)
    finally:
        signal.set_wakeup_fd(old_fd)
        signal.signal(signal.SIGUSR1, previous)
    assert code == EXIT_OK
    assert took < 300, f"the stop waited {took:.0f} s for the loop's interval"
