"""Start-up checks of a settings file against the handler registry and the filesystem, one line each."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from daemon.validate import validate
from store.config import Settings
from tests.support import archive_config


def _settings(tmp_path: Path, **over) -> Settings:
    return Settings(**archive_config(tmp_path, f"sqlite:///{tmp_path}/x.db", **over))


def test_valid_config_has_no_problems(tmp_path):
    assert validate(_settings(tmp_path)) == []


@pytest.mark.parametrize("change, expected", [
    ({"channel": {"routes": [{"pattern": "*", "handler": "nope"}]}}, "unknown handler 'nope'"),
    ({"channel": {"routes": [{"pattern": "*.tmp", "handler": "archive"}]}}, "matches only temporary"),
    ({"channel": {"routes": [{"pattern": "*.done", "handler": "archive"}]}}, "matches only temporary"),
    ({"channel": {"inbox": "drop/processed/in"}}, "inside its processed folder"),
    ({"channel": {"error": "drop/in"}}, "is also"),
    ({"channel": {"routes": []}}, "no routes"),
    ({"channel": {"routes": [{"pattern": "*", "handler": "archive", "options": {"bogus": 1}}]}},
     "unknown option 'bogus'"),
    ({"jobs": {"j": {"kind": "no.such", "every": "1 h"}}}, "unknown job kind 'no.such'"),
])
def test_each_problem_is_reported(tmp_path, change, expected):
    problems = validate(_settings(tmp_path, **change))
    assert any(expected in p for p in problems), problems


def test_unwritable_folder(tmp_path):
    if os.geteuid() == 0:
        ro = Path("/sys/spoolgate-test")  # root writes anywhere but where the filesystem refuses
    else:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
    problems = validate(_settings(tmp_path, channel={"inbox": str(ro / "in")}))
    assert any("not writable" in p for p in problems), problems


def test_folders_on_different_filesystems(tmp_path):
    shm = Path("/dev/shm")
    if not shm.exists() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.fail("/dev/shm must be a separate tmpfs for this test")
    other = shm / f"sg-{os.getpid()}"
    other.mkdir(exist_ok=True)
    try:
        problems = validate(_settings(tmp_path, channel={"processed": str(other / "processed")}))
        assert any("one filesystem" in p for p in problems), problems
    finally:
        other.rmdir()
