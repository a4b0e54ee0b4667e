"""The command context: settings or 78 with a line per problem; the database opened on first use,
refused when it is not the daemon's (69 missing, 78 without the schema), never created by a read."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from daemon.cli import EXIT_CONFIG, EXIT_DB_UNAVAILABLE, Fail
from daemon.cli.context import command_context, safe_url
from tests.support import archive_config, write_config


def _args(tmp_path: Path, db_url: str, **over: object) -> argparse.Namespace:
    cfg = write_config(tmp_path / "spoolgate.toml", archive_config(tmp_path, db_url, **over))
    return argparse.Namespace(config=str(cfg))


def test_every_config_problem_is_its_own_line(tmp_path):
    args = _args(tmp_path, "sqlite:///x.db", workers="many", tick_ms="soon")
    with pytest.raises(Fail) as failed:
        command_context(args)
    assert failed.value.code == EXIT_CONFIG
    lines = str(failed.value).split("\n")
    assert len(lines) == 2 and lines[0].startswith("config error: ")
    assert all(line.startswith("spoolgate: config error: ") for line in lines[1:])


def test_the_database_is_opened_on_first_use_only(tmp_path, sqlite_url):
    with command_context(_args(tmp_path, sqlite_url)) as ctx:
        assert ctx.settings.channels["drop"].inbox == tmp_path / "spool/drop/in"
        with ctx.db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM spool_files")).scalar() == 0
        assert ctx.db is ctx.db
    with command_context(_args(tmp_path, sqlite_url), needs_db=False) as ctx, pytest.raises(RuntimeError):
        ctx.db  # noqa: B018 -- the access is the test


def test_a_missing_sqlite_file_is_69_and_never_created(tmp_path):
    missing = tmp_path / "nope.db"
    with command_context(_args(tmp_path, f"sqlite:///{missing}")) as ctx:
        assert ctx.settings  # the settings load; only the database is refused
        with pytest.raises(Fail) as failed:
            ctx.db  # noqa: B018
    assert failed.value.code == EXIT_DB_UNAVAILABLE and "does not exist" in str(failed.value)
    assert not missing.exists()


def test_a_database_without_the_schema_is_78_unless_the_command_builds_it(tmp_path):
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    args = _args(tmp_path, f"sqlite:///{empty}")
    with command_context(args) as ctx, pytest.raises(Fail) as failed:
        ctx.db  # noqa: B018
    assert failed.value.code == EXIT_CONFIG and "holds no spoolgate schema" in str(failed.value)
    with command_context(args, check_schema=False) as ctx, ctx.db.engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1  # init and db upgrade work on it as it is


def test_a_printed_url_hides_its_password():
    assert safe_url("postgresql://app:s3cret@db:5432/sg") == "postgresql://app:***@db:5432/sg"
    assert safe_url("sqlite:////var/lib/sg.db") == "sqlite:////var/lib/sg.db"
