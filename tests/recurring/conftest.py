from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.recurring.support import Env, make_env


@pytest.fixture
def env(tmp_path: Path, db_url: str) -> Iterator[Env]:
    e = make_env(tmp_path, db_url)
    e.import_base()
    yield e
    e.db.dispose()


from tests.fixtures.smtp import _smtp_sink, smtp_server  # noqa: E402,F401
