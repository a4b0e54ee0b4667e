"""Configuration: loading, environment overrides, and every start-up check with a one-line error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from daemon.cli import EXIT_CONFIG, main
from daemon.validate import validate
from store.config import ConfigError, Settings, load
from tests.support import archive_config, write_config


def _settings(tmp_path: Path, **over) -> Settings:
    return Settings(**archive_config(tmp_path, f"sqlite:///{tmp_path}/x.db", **over))


def test_valid_config_has_no_problems(tmp_path):
    assert validate(_settings(tmp_path)) == []


def test_env_overrides_toml(tmp_path, monkeypatch):
    cfg = write_config(tmp_path / "c.toml", archive_config(tmp_path, "sqlite:///x.db"))
    monkeypatch.setenv("SPOOLGATE_WORKERS", "5")
    monkeypatch.setenv("SPOOLGATE_DATABASE_URL", "postgresql://u@h/db")
    s = load(cfg)
    assert s.workers == 5 and s.database_url == "postgresql://u@h/db"


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


@pytest.mark.parametrize("bad, expected", [
    ({"workers": 0}, "workers"),
    ({"jobs": {"j": {"kind": "core.noop", "every": "soon"}}}, "interval"),
    ({"jobs": {"j": {"kind": "core.noop", "every": "1 h", "at": "25:00"}}}, "HH:MM"),
    ({"channel": {"routes": [{"pattern": "a/b", "handler": "archive"}]}}, "without '/'"),
    ({"channel": {"routes": [{"pattern": "re:(", "handler": "archive"}]}}, "bad regular expression"),
    ({"channel": {"completeness": "maybe"}}, "completeness"),
])
def test_invalid_values_fail_loading_with_one_line(tmp_path, bad, expected):
    cfg = write_config(tmp_path / "c.toml", archive_config(tmp_path, "sqlite:///x.db", **bad))
    with pytest.raises(ConfigError) as ei:
        load(cfg)
    assert expected in str(ei.value) and "\n" not in str(ei.value)


def test_check_config_command_exit_code(tmp_path, capsys):
    cfg = archive_config(tmp_path, f"sqlite:///{tmp_path}/x.db")
    cfg["channels"]["drop"]["routes"] = [{"pattern": "*", "handler": "nope"}]
    path = write_config(tmp_path / "c.toml", cfg)
    assert main(["--config", str(path), "check-config"]) == EXIT_CONFIG
    assert "unknown handler 'nope'" in capsys.readouterr().err
    assert main(["--config", str(tmp_path / "missing.toml"), "check-config"]) == EXIT_CONFIG


def test_route_patterns_first_match_wins(tmp_path):
    s = _settings(tmp_path, channel={"routes": [{"pattern": "re:ppd_\\d+\\.ach", "handler": "archive"},
                                                {"pattern": "*.ach", "handler": "archive", "allow_empty": True}]})
    ch = s.channels["drop"]
    first, second = ch.route_for("ppd_123.ach"), ch.route_for("other.ach")
    assert first is not None and first.pattern.startswith("re:")
    assert second is not None and second.allow_empty
    assert ch.route_for("x.txt") is None
