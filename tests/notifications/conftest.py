"""Notification fixtures: the real SMTP sink, a scripted-failure SMTP server, a settable clock, a queue helper."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from store.config import Settings, Smtp
from store.db import Database, utcnow
from store.models.core import Notification
from tests.fixtures.smtp import ReceivedMail, SmtpSink, _smtp_sink, smtp_server  # noqa: F401


class _Scripted:
    """Answers DATA attempt N (1-based) with ``plan[N]`` instead of accepting; refuses RCPT to ``bad``."""

    def __init__(self, sink: ScriptedSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.sink.bad:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.sink.attempts += 1
        answer = self.sink.plan.get(self.sink.attempts)
        if answer is not None:
            return answer
        self.sink._received(ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"


class ScriptedSink(SmtpSink):
    def __init__(self) -> None:
        super().__init__()
        self.plan: dict[int, str] = {}
        self.bad: set[str] = set()
        self.attempts = 0

    def start(self) -> None:
        if self._controller is None:
            controller = Controller(_Scripted(self), hostname=self.host, port=self.port, ready_timeout=10)
            controller.start()
            self._controller = controller


@pytest.fixture
def scripted_smtp() -> Iterator[ScriptedSink]:
    sink = ScriptedSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    d = Database(db_url)
    yield d
    d.dispose()


def smtp_for(sink: SmtpSink) -> Smtp:
    return Smtp(host=sink.host, port=sink.port, sender="spoolgate@example.com", timeout_s=5.0)


def queue(db: Database, lane: str, n: int, *, prefix: str = "", to: str = "user@example.com") -> list[int]:
    with db.transaction() as s:
        rows = [Notification(lane=lane, kind="test", recipients=[to], subject=f"{prefix or lane} {i}",
                             body=f"body {i}") for i in range(n)]
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]


def settings_for(tmp_path: Path, db_url: str, **over: Any) -> Settings:
    from tests.bills.conftest import bills_config

    return Settings(**bills_config(tmp_path, db_url, **over))
