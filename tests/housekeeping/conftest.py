"""Housekeeping fixtures: settings with the purge jobs, a database, audit events of chosen ages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from daemon.scheduler import Scheduler
from store.config import Settings
from store.db import Database, utcnow
from store.models.bills import AuditEvent
from tests.bills.conftest import bills_config


def hk_config(root: Path, db_url: str, jobs: dict[str, Any], **over: Any) -> dict[str, Any]:
    cfg = bills_config(root, db_url, **over)
    cfg["jobs"] = {name: {"every": "1 day", **job} for name, job in jobs.items()}
    return cfg


class Env:
    def __init__(self, root: Path, settings: Settings, db: Database) -> None:
        self.root, self.settings, self.db = root, settings, db

    def job(self, name: str) -> Any:
        return Scheduler(self.settings, self.db, identity="t").run(name)


@pytest.fixture
def hk_env(tmp_path: Path, db_url: str) -> Iterator[Any]:
    made: list[Database] = []

    def make(jobs: dict[str, Any], **over: Any) -> Env:
        settings = Settings(**hk_config(tmp_path, db_url, jobs, **over))
        db = Database(settings.database_url)
        made.append(db)
        return Env(tmp_path, settings, db)

    yield make
    for d in made:
        d.dispose()


def add_events(db: Database, old: int, young: int, *, days_old: int = 100) -> None:
    now = utcnow()
    rows = [{"created_at": now - dt.timedelta(days=days_old, seconds=i), "job_name": "test-Job",
             "event_type": "payment_changed", "actor": f"user{i % 7}", "object_type": "payment",
             "object_id": str(i), "detail": {"n": i, "note": "é ✓"}} for i in range(old)]
    rows += [{"created_at": now - dt.timedelta(days=1), "job_name": "test-Job", "event_type": "login",
              "actor": "young", "object_type": None, "object_id": None, "detail": None} for _ in range(young)]
    with db.transaction() as s:
        for i in range(0, len(rows), 1000):
            s.execute(insert(AuditEvent), rows[i:i + 1000])
