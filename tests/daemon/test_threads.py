"""Service threads: a death is recorded for the supervisor, a teardown while stopping is not one,
and a periodic pass that fails is logged and runs again."""

from __future__ import annotations

import logging

import pytest

from daemon.threads import Crew, Periodic, ServiceThread
from tests.support import wait_for


class Dies(ServiceThread):
    def loop(self) -> None:
        self.beat()
        raise RuntimeError("boom")


def test_a_thread_that_dies_records_how(caplog: pytest.LogCaptureFixture) -> None:
    crew = Crew()
    t = Dies("dies", crew)
    t.start()
    t.join(10)
    assert isinstance(t.crashed, RuntimeError)
    assert any(r.levelno == logging.CRITICAL and "thread dies died" in r.getMessage() for r in caplog.records)
    assert crew.heartbeat.stale(3600) == []


def test_a_thread_torn_down_while_stopping_is_no_death() -> None:
    crew = Crew()
    crew.stopping.set()
    t = Dies("dies", crew)
    t.start()
    t.join(10)
    assert t.crashed is None


def test_a_failing_periodic_pass_is_logged_and_runs_again(caplog: pytest.LogCaptureFixture) -> None:
    crew = Crew()
    calls: list[int] = []

    def fn() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        if len(calls) == 2:
            raise ValueError("a bug")

    p = Periodic("pass", crew, fn, 0.01)
    p.start()
    try:
        wait_for(lambda: len(calls) >= 3, 10, what="a third pass")
    finally:
        p.stopped.set()
        p.join(10)
    assert not p.is_alive() and p.crashed is None
    env, bug = [r for r in caplog.records if r.levelno == logging.ERROR][:2]
    assert env.getMessage() == "pass: pass failed: OSError: [Errno 28] No space left on device"
    assert env.exc_info is None  # the environment, not a bug: one line, no traceback
    assert bug.getMessage() == "pass: pass failed" and bug.exc_info is not None
