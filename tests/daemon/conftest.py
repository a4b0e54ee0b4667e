"""An in-process pipeline on a fresh ``drop`` spool (``tests.support.archive_config``), on each database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import pipeline_env


@pytest.fixture
def env(tmp_path: Path, db_url: str) -> Iterator[Any]:
    """``env(identity=None, **settings)`` -> (settings, db, pipeline); folders exist, databases disposed."""
    with pipeline_env(tmp_path, db_url) as factory:
        yield factory
