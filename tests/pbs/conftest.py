"""Fixtures for the PBS channel tests: a PBS spool (in-process pipeline) and the real servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.smtp import _smtp_sink, smtp_server
from tests.fixtures.sshd import sshd_server
from tests.pbs.helpers import PbsEnv, pbs_config

__all__ = ["_smtp_sink", "pbs_env", "smtp_server", "sshd_server"]


@pytest.fixture
def pbs_env(tmp_path: Path, db_url: str) -> Iterator[Any]:
    made: list[PbsEnv] = []

    def make(**over: Any) -> PbsEnv:
        env = PbsEnv(tmp_path, pbs_config(tmp_path, db_url, **over))
        made.append(env)
        return env

    yield make
    for env in made:
        env.close()
