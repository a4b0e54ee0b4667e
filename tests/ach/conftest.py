"""An ACH spool on a fresh database: settings, import, jobs at a chosen date, the in-process pipeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from daemon.pipeline import Outcome, Pipeline
from daemon.scheduler import RunSummary, Scheduler
from handlers.ach.audit import Actor
from handlers.ach.importer import ImportResult, import_data
from store.config import Settings
from store.db import Database
from store.models.ach import CheckPayment, PaymentAccount
from tests.ach.support import ach_config


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12)).astimezone().astimezone(dt.UTC)


@dataclass
class Env:
    root: Path
    url: str
    settings: Settings
    db: Database

    @property
    def spool(self) -> Path:
        return self.root / "spool"

    def import_(self, doc: dict[str, Any]) -> ImportResult:
        with self.db.transaction() as s:
            return import_data(s, self.settings, doc, Actor.operator("test-import"))

    def run(self, job: str, day: dt.date) -> RunSummary:
        return Scheduler(self.settings, self.db, identity="test", clock=lambda: noon(day)).run(job)

    def drop(self, name: str, data: bytes) -> Outcome:
        inbox = self.settings.channels["ach"].inbox
        inbox.mkdir(parents=True, exist_ok=True)
        (inbox / name).write_bytes(data)
        pipe = Pipeline(self.settings, self.db)
        fid = pipe.claim("ach", inbox / name)
        assert fid is not None
        return pipe.process(fid)

    def out_files(self, target: str = "ach/out", pattern: str = "*.ach") -> list[Path]:
        return sorted((self.spool / target).glob(pattern))

    def payments(self) -> dict[int, CheckPayment]:
        with self.db.transaction() as s:
            return {p.payment_id: p for p in s.scalars(select(CheckPayment))}

    def accounts(self) -> dict[str, PaymentAccount]:
        with self.db.transaction() as s:
            return {a.pid: a for a in s.scalars(select(PaymentAccount))}

    def scalar(self, stmt: Any) -> Any:
        with self.db.transaction() as s:
            return s.scalar(stmt)

    def all(self, stmt: Any) -> list[Any]:
        with self.db.transaction() as s:
            return list(s.execute(stmt).all())


def make_env(tmp_path: Path, db_url: str, **over: Any) -> Env:
    settings = Settings(**ach_config(tmp_path, db_url, **over))
    return Env(tmp_path, db_url, settings, Database(db_url))


@pytest.fixture
def env(tmp_path: Path, db_url: str) -> Iterator[Env]:
    e = make_env(tmp_path, db_url)
    yield e
    e.db.dispose()
