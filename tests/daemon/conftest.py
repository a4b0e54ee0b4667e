"""An in-process pipeline on a fresh ``drop`` spool (``tests.support.archive_config``), on each database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daemon.pipeline import Pipeline
from store.config import Settings
from store.db import Database
from tests.support import archive_config

Env = tuple[Settings, Database, Pipeline]


@pytest.fixture
def env(tmp_path: Path, db_url: str) -> Iterator[Any]:
    """``env(identity=None, **settings)`` -> (settings, db, pipeline); folders exist, databases disposed."""
    made: list[Database] = []

    def factory(identity: str | None = None, **over: Any) -> Env:
        settings = Settings(**archive_config(tmp_path, db_url, **over))
        for ch in settings.channels.values():
            for f in (ch.inbox, ch.work, ch.processed, ch.error):
                f.mkdir(parents=True, exist_ok=True)
        for o in settings.outbound.values():
            o.folder.mkdir(parents=True, exist_ok=True)
        db = Database(settings.database_url)
        made.append(db)
        return settings, db, Pipeline(settings, db, identity=identity)

    yield factory
    for d in made:
        d.dispose()
