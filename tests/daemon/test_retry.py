"""RetryPolicy: the backoff, the deadline, a handler's RetryLater delay, the stop at shutdown."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import OperationalError

from daemon.retry import RetryPolicy, retrying
from handlers.base import RetryLater
from store.config import Settings
from tests.support import archive_config, claim_and_process, drop


def _locked() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("database is locked"))


def test_backoff_doubles_from_the_first_delay_up_to_the_maximum():
    policy = RetryPolicy(first_delay_s=0.5, max_delay_s=3.0, deadline_s=60.0, jitter_s=1.0)
    no_jitter = [policy.delay(n, _locked(), 0.0, rand=lambda a, b: a) for n in range(1, 6)]
    assert no_jitter == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.delay(1, _locked(), 0.0, rand=lambda a, b: b) == 1.5  # jitter at most jitter_s
    assert policy.delay(2000, _locked(), 0.0) == 3.0  # no overflow on a very long outage


def test_a_handlers_retry_later_delay_is_honoured_within_the_deadline():
    policy = RetryPolicy(first_delay_s=0.2, max_delay_s=10.0, deadline_s=120.0)
    assert policy.delay(1, RetryLater("rates not loaded", delay_s=45.0), 0.0) == 45.0  # above max_delay_s
    assert policy.delay(3, RetryLater("rates not loaded", delay_s=45.0), 100.0) == 20.0  # what the deadline leaves
    assert policy.delay(1, RetryLater("concurrent duplicate", delay_s=0), 0.0) == 0.0


def test_the_deadline_comes_from_settings(tmp_path):
    settings = Settings(**archive_config(tmp_path, "sqlite://", transient_retry_s=42.0))
    assert RetryPolicy.from_settings(settings) == RetryPolicy(deadline_s=42.0)


def test_retrying_sleeps_what_the_policy_says():
    slept: list[float] = []
    calls = []
    for attempt in retrying(RetryPolicy(deadline_s=60.0), "test", lambda: False, sleep=slept.append):
        with attempt:
            calls.append(1)
            if len(calls) < 3:
                raise RetryLater("not yet", delay_s=2.5)
    assert len(calls) == 3 and slept == [2.5, 2.5]


def test_retries_end_at_shutdown():
    """A database outage is retried, but a stopping daemon gives up at once; the file stays claimed."""
    stopping = {"now": False}
    calls = []
    with pytest.raises(OperationalError):
        for attempt in retrying(RetryPolicy(deadline_s=60.0), "test", lambda: stopping["now"]):
            with attempt:
                calls.append(1)
                if len(calls) == 2:
                    stopping["now"] = True
                raise _locked()
    assert len(calls) == 2  # retried once, then stopped by the shutdown, not by the 60 s budget


def test_a_long_wait_ends_when_the_daemon_stops():
    """The default sleep wakes at shutdown: an hour's RetryLater never holds a stopping daemon."""
    asked = []

    def stopping() -> bool:  # no after the first attempt; yes once the wait has begun
        asked.append(1)
        return len(asked) > 1

    calls = []
    raised: list[BaseException] = []

    def run() -> None:
        try:
            for attempt in retrying(RetryPolicy(deadline_s=7200.0), "test", stopping):
                with attempt:
                    calls.append(1)
                    raise RetryLater("not yet", delay_s=3600)
        except RetryLater as exc:
            raised.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(60)
    assert not t.is_alive(), "the wait did not end at shutdown"
    assert len(calls) == 2 and len(raised) == 1


def test_the_pipeline_retries_a_file_whose_handler_asks_to_wait(env, monkeypatch):
    from tests.handlers_for_tests import FaultyArchiveHandler

    settings, _db, pipe = env()
    real = FaultyArchiveHandler.handle
    asked: list[int] = []

    def not_yet_once(self, ctx, stream):
        if not asked:
            asked.append(ctx.file.id)
            raise RetryLater("the rates file has not arrived", delay_s=0.01)
        return real(self, ctx, stream)

    monkeypatch.setattr(FaultyArchiveHandler, "handle", not_yet_once)
    drop(settings, "w.txt", b"x\n")
    assert claim_and_process(pipe, settings, "w.txt") == "done"
    assert len(asked) == 1
