"""Bills channel fixtures: a spool with the bills channel, settings, database, pipeline and scheduler."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from daemon.pipeline import Pipeline
from daemon.scheduler import Scheduler
from store.config import Channel, Settings
from store.db import Database
from tests.fixtures.smtp import _smtp_sink, smtp_server  # noqa: F401


def bills_config(root: Path, db_url: str, **over: Any) -> dict[str, Any]:
    route_options = over.pop("route_options", {})
    cfg: dict[str, Any] = {
        "base_dir": str(root), "spool_root": str(root / "spool"), "state_dir": str(root / "state"),
        "database_url": db_url, "workers": 1, "scan_interval_s": 1.0, "tick_ms": 20, "lease_s": 30,
        "transient_retry_s": 10.0, "watchdog_interval_s": 0.5, "shutdown_timeout_s": 20.0,
        "channels": {"bills": {
            "inbox": "bills/processing", "work": "bills/work", "processed": "bills/processed",
            "error": "bills/error", "completeness": "quiet", "quiet_ms": 200,
            "routes": [{"pattern": "*.xml", "handler": "bills.load", "options": route_options}]}},
        "bills": {"loaded_status": "PUBLISHED", "data_compress": False, "noop_recipients": ["ops@example.com"]},
    }
    cfg.update(over)
    return cfg


@dataclass
class Env:
    root: Path
    settings: Settings
    db: Database

    @property
    def channel(self) -> Channel:
        return self.settings.channels["bills"]

    def pipeline(self) -> Pipeline:
        return Pipeline(self.settings, self.db, identity="test")

    def load(self, name: str, data: bytes) -> str:
        inbox = self.channel.inbox
        inbox.mkdir(parents=True, exist_ok=True)
        (inbox / name).write_bytes(data)
        pipe = self.pipeline()
        fid = pipe.claim("bills", inbox / name)
        assert fid is not None
        return pipe.process(fid).state

    def job(self, name: str) -> Any:
        return Scheduler(self.settings, self.db, identity="t").run(name)


@pytest.fixture
def bills_env(tmp_path: Path, db_url: str) -> Iterator[Any]:
    made: list[Database] = []

    def make(**over: Any) -> Env:
        settings = Settings(**bills_config(tmp_path, db_url, **over))
        db = Database(settings.database_url)
        made.append(db)
        return Env(tmp_path, settings, db)

    yield make
    for d in made:
        d.dispose()
