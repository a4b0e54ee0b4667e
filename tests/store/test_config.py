"""The settings model: loading a TOML file, environment overrides, one-line errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.config import ConfigError, Settings, load
from tests.support import archive_config, write_config


def _settings(tmp_path: Path, **over) -> Settings:
    return Settings(**archive_config(tmp_path, f"sqlite:///{tmp_path}/x.db", **over))


def test_env_overrides_toml(tmp_path, monkeypatch):
    cfg = write_config(tmp_path / "c.toml", archive_config(tmp_path, "sqlite:///x.db"))
    monkeypatch.setenv("SPOOLGATE_WORKERS", "5")
    monkeypatch.setenv("SPOOLGATE_DATABASE_URL", "postgresql://u@h/db")
    s = load(cfg)
    assert s.workers == 5 and s.database_url == "postgresql://u@h/db"


@pytest.mark.parametrize("url, given, expected", [
    ("sqlite:///x.db", None, 2), ("postgresql://u@h/db", None, 3), ("sqlite:///x.db", 0, 2),
    ("postgresql://u@h/db", 0, 3), ("postgresql://u@h/db", 5, 5)])
def test_workers_default_per_database(tmp_path, url, given, expected):
    """SQLite takes one writer at a time; PostgreSQL commits of several connections share a WAL flush."""
    cfg = archive_config(tmp_path, url)
    del cfg["workers"]
    if given is not None:
        cfg["workers"] = given
    assert Settings(**cfg).workers == expected


@pytest.mark.parametrize("bad, expected", [
    ({"workers": -1}, "workers"),
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


def test_route_patterns_first_match_wins(tmp_path):
    s = _settings(tmp_path, channel={"routes": [{"pattern": "re:ppd_\\d+\\.ach", "handler": "archive"},
                                                {"pattern": "*.ach", "handler": "archive", "allow_empty": True}]})
    ch = s.channels["drop"]
    first, second = ch.route_for("ppd_123.ach"), ch.route_for("other.ach")
    assert first is not None and first.pattern.startswith("re:")
    assert second is not None and second.allow_empty
    assert ch.route_for("x.txt") is None
