"""Shared fixtures: real databases built by the migrations, spool configs, the real daemon.

``db_url`` runs a test on SQLite and, when ``SPOOLGATE_TEST_DATABASE_URL`` points at
a PostgreSQL server, on PostgreSQL too. In CI (``CI`` or ``SPOOLGATE_REQUIRE_POSTGRES``
set) a missing PostgreSQL URL fails the run instead of quietly testing less.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import pg_admin_url

PG_URL = os.environ.get("SPOOLGATE_TEST_DATABASE_URL")
REQUIRE_PG = bool(os.environ.get("CI") or os.environ.get("SPOOLGATE_REQUIRE_POSTGRES"))
BACKENDS = ["sqlite", "postgresql"] if PG_URL or REQUIRE_PG else ["sqlite"]


@pytest.fixture(autouse=True)
def _root_logging() -> Iterator[None]:
    """A CLI command run in-process points the root logger at this test's captured stderr, which
    pytest closes afterwards; the root's handlers and level go back so later threads log safely."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from daemon import migrate
    from store.db import make_engine

    path = tmp_path_factory.mktemp("dbtemplate") / "template.db"
    engine = make_engine(f"sqlite:///{path}", pool=False)
    migrate.upgrade(engine)
    engine.dispose()
    import sqlite3

    with sqlite3.connect(path) as conn:  # fold the WAL in so a plain file copy is the whole database
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture(scope="session")
def _pg_template() -> Iterator[str]:
    if not PG_URL:
        pytest.fail("SPOOLGATE_TEST_DATABASE_URL is not set but PostgreSQL tests are required here (CI)")
    import psycopg

    from daemon import migrate
    from store.db import make_engine

    name = f"sg_tpl_{uuid.uuid4().hex[:10]}"
    admin = pg_admin_url(PG_URL)
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(_with_db(PG_URL, name), pool=False)
    migrate.upgrade(engine)
    engine.dispose()
    yield name
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _with_db(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def fresh_pg(template: str) -> tuple[str, str]:
    import psycopg

    assert PG_URL
    name = f"sg_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url(PG_URL), autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return _with_db(PG_URL, name), name


def drop_pg(name: str) -> None:
    import psycopg

    assert PG_URL
    with psycopg.connect(pg_admin_url(PG_URL), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database at the newest schema, SQLite file or PostgreSQL database."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "spoolgate.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    tpl = request.getfixturevalue("_pg_template")
    url, name = fresh_pg(tpl)
    yield url
    drop_pg(name)


@pytest.fixture
def sqlite_url(_sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "spoolgate.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def pg_url(_pg_template: str) -> Iterator[str]:
    url, name = fresh_pg(_pg_template)
    yield url
    drop_pg(name)


_ran = {"passed": 0, "pg_passed": 0}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        _ran["passed"] += 1
        if "[postgresql" in report.nodeid:
            _ran["pg_passed"] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI the PostgreSQL half of the suite must have run, not been skipped or deselected.

    Counted from the reports, not ``session.testscollected``: under pytest-xdist the controller
    collects nothing but receives every worker's reports; each worker sees only its share."""
    if hasattr(session.config, "workerinput"):
        return
    if REQUIRE_PG and _ran["passed"] > 50 and _ran["pg_passed"] == 0 and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print("\nERROR: no PostgreSQL test passed although PostgreSQL is required (SPOOLGATE_REQUIRE_POSTGRES)")
