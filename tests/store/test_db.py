"""The database plumbing: errors that never quote the data they were writing; group commit on
SQLite, no pre-ping on PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from store.db import Database, GroupSync, describe, is_transient


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    d = Database(db_url)
    yield d
    d.dispose()


def test_database_errors_never_quote_statement_parameters(db):
    """Reproduction 8 of issue 11: a logged database error must not carry the account number it was writing."""
    with pytest.raises(IntegrityError) as info, db.transaction() as s:
        s.execute(text("INSERT INTO spool_files (id, channel, original_name, work_name, state, attempts) "
                       "VALUES (:i, :c, :n, :w, 'done', 1)"),
                  [{"i": 1, "c": "drop", "n": "DE44-5001-0517-33998", "w": "w1"},
                   {"i": 1, "c": "drop", "n": "DE44-5001-0517-33998", "w": "w2"}])
    assert "parameters hidden" in str(info.value)
    shown = describe(info.value)
    assert "33998" not in shown and "constraint" in shown.lower(), shown


def _rows(db: Database) -> int:
    with db.transaction() as s:
        return int(s.execute(text("SELECT count(*) FROM t")).scalar_one())


def _table(db: Database) -> None:
    with db.transaction() as s:
        s.execute(text("CREATE TABLE t (x INTEGER)"))


def test_durable_sqlite_commits_share_fsyncs_and_return_on_disk(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/g.db")
    sync = db.group_sync
    assert sync is not None
    _table(db)
    with db.engine.connect() as c:  # the commit itself does not fsync; GroupSync does
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 1
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    before = sync.fsyncs
    with db.transaction() as s:
        s.execute(text("INSERT INTO t VALUES (1)"))
    assert sync.fsyncs == before + 1 and sync.pending() == 0

    def writer() -> None:
        for i in range(40):
            with db.transaction() as s:
                s.execute(text("INSERT INTO t VALUES (:i)"), {"i": i})

    threads = [threading.Thread(target=writer) for _ in range(4)]
    start = sync.fsyncs
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _rows(db) == 1 + 160
    assert sync.fsyncs - start <= 160 + 1  # never more fsyncs than commits (fewer when they meet)
    db.dispose()


def test_a_wait_returns_only_after_an_fsync_that_started_after_its_commit(tmp_path: Path) -> None:
    wal = tmp_path / "x-wal"
    wal.write_bytes(b"")
    starts: list[int] = []

    class Recording(GroupSync):
        def _fsync(self) -> None:
            with self._cv:
                starts.append(self._written)
            time.sleep(0.005)
            super()._fsync()

    sync = Recording(wal)
    covered: list[tuple[int, int]] = []
    lock = threading.Lock()

    def committer() -> None:
        for _ in range(30):
            with lock:
                sync.committed()
                ticket = sync._written
            sync.wait()
            covered.append((ticket, len(starts)))

    threads = [threading.Thread(target=committer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for ticket, n_started in covered:  # some fsync begun before the wait returned covered the commit
        assert any(s >= ticket for s in starts[:n_started])
    assert len(starts) < 120  # 4 committers meeting share fsyncs


def test_a_failed_fsync_is_reported_and_raised_and_the_next_wait_tries_again(tmp_path: Path) -> None:
    failures: list[OSError] = []
    wal = tmp_path / "x-wal"
    wal.write_bytes(b"")

    class FailingOnce(GroupSync):
        def _fsync(self) -> None:
            if not failures:
                exc = OSError(5, "Input/output error")
                self._on_failure(exc)
                raise exc
            super()._fsync()

    sync = FailingOnce(wal, on_failure=failures.append)
    sync.committed()
    with pytest.raises(OSError):
        sync.wait()
    assert len(failures) == 1 and sync.pending() == 1
    sync.wait()  # not stuck behind the failed one
    assert sync.pending() == 0


def test_not_durable_or_in_memory_has_no_group_sync(tmp_path: Path) -> None:
    assert Database(f"sqlite:///{tmp_path}/n.db", durable=False).group_sync is None
    assert Database("sqlite://").group_sync is None


def test_postgresql_without_pre_ping_recovers_on_the_next_use(pg_url: str) -> None:
    db = Database(pg_url)
    with db.transaction() as s:
        pid = s.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with Database(pg_url, pool=False).transaction() as s:
        s.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    with pytest.raises(Exception) as got, db.transaction() as s:
        s.execute(text("SELECT 1"))
    assert is_transient(got.value)  # what every caller retries
    with db.transaction() as s:
        assert s.execute(text("SELECT 1")).scalar_one() == 1
    db.dispose()


def test_postgresql_pool_holds_a_connection_per_worker_at_once(pg_url: str) -> None:
    """Six workers plus the scheduler's jobs (``workers + 4``) each hold a connection without waiting."""
    db = Database(pg_url, connections=20)
    try:
        conns = [db.engine.connect() for _ in range(20)]
        assert db.engine.pool.size() == 20  # type: ignore[attr-defined]
        assert db.engine.pool.overflow() <= 0  # type: ignore[attr-defined]
        for c in conns:
            c.close()
    finally:
        db.engine.dispose()
    default = Database(pg_url)
    assert default.engine.pool.size() == 8  # type: ignore[attr-defined]
    default.engine.dispose()


def test_driver_statements_on_sqlite_take_positional_values_and_raise_what_sqlalchemy_raises(tmp_path: Path) -> None:
    """``driver_execute`` on SQLite (the per-file statements, ``?`` placeholders): rows as tuples, in
    the unit's transaction (rolled back with it), a refused statement as SQLAlchemy's class with its
    parameters hidden, not transient."""
    from store.db import driver_execute

    db = Database(f"sqlite:///{tmp_path}/d.db")
    with db.transaction() as s:
        s.execute(text("CREATE TABLE drv (k INTEGER PRIMARY KEY, v TEXT)"))
    with db.transaction() as s:
        conn = s.connection()
        assert driver_execute(conn, "SELECT ? + 1, 'x'", (41,), fetch=True) == (42, "x")
        assert driver_execute(conn, "SELECT k FROM drv", (), fetch=True) is None
        driver_execute(conn, "INSERT INTO drv VALUES (?, ?)", (1, "secret"))
        with pytest.raises(IntegrityError) as refused:
            driver_execute(conn, "INSERT INTO drv VALUES (?, ?)", (1, "secret"))
        assert "SQL parameters hidden" in str(refused.value) and "secret" not in str(refused.value)
        assert not is_transient(refused.value)
        s.rollback()
    with db.transaction() as s:
        assert s.execute(text("SELECT count(*) FROM drv")).scalar_one() == 0
    db.dispose()


def test_driver_statements_raise_what_sqlalchemy_raises_and_drop_a_lost_connection(pg_url: str) -> None:
    """``driver_execute`` (PostgreSQL's per-file statements): rows as tuples, a refused statement
    as SQLAlchemy's exception class with its parameters hidden, a lost connection invalidated and
    transient, and the pool's next connection usable."""
    from store.db import driver_execute

    db = Database(pg_url)
    with db.transaction() as s:
        conn = s.connection()
        assert driver_execute(conn, "SELECT %(a)s::int + 1, 'x'", {"a": 41}, fetch=True) == (42, "x")
        driver_execute(conn, "CREATE TEMPORARY TABLE drv (k int PRIMARY KEY)", {})
        driver_execute(conn, "INSERT INTO drv VALUES (%(k)s)", {"k": 1})
        with pytest.raises(IntegrityError) as refused:
            driver_execute(conn, "INSERT INTO drv VALUES (%(k)s)", {"k": 1})
        assert "SQL parameters hidden" in str(refused.value)
        assert not is_transient(refused.value)
        s.rollback()
    with db.transaction() as s:
        pid = s.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with Database(pg_url, pool=False).transaction() as s:
        s.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    with pytest.raises(Exception) as got, db.transaction() as s:
        driver_execute(s.connection(), "SELECT 1", {}, fetch=True)
    assert is_transient(got.value)
    assert isinstance(got.value, DBAPIError) and got.value.connection_invalidated
    with db.transaction() as s:
        assert driver_execute(s.connection(), "SELECT 1", {}, fetch=True) == (1,)
    db.dispose()
