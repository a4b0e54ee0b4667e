"""The database plumbing: metadata, the declarative base, column types, engines.

Models live in ``store.models``; the schema is built by alembic migrations
(``migrations/``), never by ``create_all``. The unit of work belongs to the
caller (one transaction per file or job run); services never commit.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from sqlalchemy import JSON, BigInteger, Connection, DateTime, Engine, Integer, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Stored as naive UTC (SQLite has no time zones), returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


#: money is integer cents (or øre), never float
Cents = Annotated[int, mapped_column(BigInteger)]
#: SQLite only auto-increments an ``INTEGER PRIMARY KEY``
BigId = Annotated[int, mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                                     autoincrement=True)]


class Base(DeclarativeBase):
    metadata = metadata
    type_annotation_map = {
        dt.datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class DatabaseUnavailable(Exception):
    """The database could not be reached; transient, the caller retries."""


def is_transient(exc: BaseException) -> bool:
    """Connection loss, lock timeouts, serialization failures: worth retrying."""
    if isinstance(exc, DatabaseUnavailable):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        if isinstance(exc, OperationalError):
            return True
        code = getattr(getattr(exc, "orig", None), "sqlstate", None)
        if code and (code.startswith("08") or code in ("40001", "40P01", "55P03", "57P01", "57P03")):
            return True
    return False


def sqlite_file(url: str) -> Path | None:
    if not url.startswith("sqlite:///"):
        return None
    rest = url[len("sqlite:///"):].split("?", 1)[0]
    return None if rest in ("", ":memory:") else Path(rest)


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def describe(exc: BaseException) -> str:
    """A database error in one line without its data: no statement parameters (``hide_parameters``)
    and no server DETAIL (PostgreSQL quotes the failing row there, account numbers included)."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        first = (str(exc.orig).strip().splitlines() or [""])[0]
        return f"{type(exc.orig).__name__}: {first}"
    return f"{type(exc).__name__}: {exc}"


def make_engine(url: str, *, pool: bool = True, echo: bool = False, durable: bool = True,
                group_commit: bool = False, connections: int = 8) -> Engine:
    """One engine per process. SQLite: WAL, a busy timeout, and BEGIN IMMEDIATE so
    concurrent writers wait for the lock instead of failing on upgrade.

    ``group_commit`` (SQLite, WAL): commits do not fsync themselves; the caller makes them
    durable with one fsync of the WAL for several commits (``GroupSync``, used by ``Database``).
    ``connections`` (PostgreSQL): the pool's steady size, at least 8, so that every worker thread
    and the scheduler's jobs hold one at once without waiting for each other."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, hide_parameters=True,
                               connect_args={"timeout": 30, "check_same_thread": False},
                               **({} if pool else {"poolclass": NullPool}))

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            wal = cur.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
            # FULL: a commit is on disk before it returns, so the ledger never trails the folders
            # after a power cut. NORMAL (durable = false) is still safe against a killed process;
            # with WAL, NORMAL plus an fsync of the WAL before the commit returns is FULL, grouped.
            full = durable and not (group_commit and wal)
            cur.execute(f"PRAGMA synchronous={'FULL' if full else 'NORMAL'}")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    # hide_parameters: a logged database error never quotes account numbers or names from the statement.
    # No pre-ping (a round trip per checkout): a connection found dead raises a disconnect error, which
    # invalidates the pool's older connections and is transient, so the caller's retry gets a fresh one.
    kwargs: dict[str, Any] = {"isolation_level": "READ COMMITTED", "pool_pre_ping": False, "hide_parameters": True}
    if pool:
        kwargs.update(pool_size=max(8, connections), max_overflow=8, pool_timeout=30)
    else:
        kwargs["poolclass"] = NullPool
    engine = create_engine(url, echo=echo, connect_args={"connect_timeout": 5}, **kwargs)

    @event.listens_for(engine, "do_execute")
    def _pg_custom_plan(cursor: Any, statement: str, parameters: Any, context: Any) -> bool | None:
        """``execution_options(custom_plan=True)``: never a server-side prepared statement, so the
        server plans it for the table as it is now, not as it was when psycopg prepared it (its 6th use)."""
        if context.execution_options.get("custom_plan"):
            cursor.execute(statement, parameters, prepare=False)
            return True
        return None

    return engine


def driver_execute(conn: Connection, statement: str, params: Mapping[str, Any] | Sequence[Any], *,
                   fetch: bool = False, prepare: bool | None = None, many: bool = False) -> tuple[Any, ...] | None:
    """Run ``statement`` (in the driver's paramstyle, parameters bound as the driver takes them) on
    the DBAPI connection under ``conn``, in its transaction; with ``fetch``, its first row (a tuple).

    For the few statements a worker runs once per file: SQLAlchemy's execution
    context, its result set-up (psycopg builds a column description per execution) and its bind
    processing cost the daemon more CPU per file than the statements' own round trips. Errors are
    what ``conn.execute`` raises (``DBAPIError`` subclasses, parameters hidden); a lost connection
    is invalidated, so the pool never lends it again. ``prepare=False``: never server-side prepared
    (see ``custom_plan``; PostgreSQL only). ``many``: ``params`` is a sequence of parameter sets, run
    with the driver's ``executemany`` (psycopg sends them in one pipeline)."""
    dbapi_conn = conn.connection.driver_connection
    assert dbapi_conn is not None
    dialect = conn.dialect
    dbapi = dialect.loaded_dbapi
    cur = dbapi_conn.cursor()
    try:
        if many:
            cur.executemany(statement, params)
        elif dialect.name == "postgresql":
            cur.execute(statement, params, prepare=prepare)
        else:
            cur.execute(statement, params)
        row = cur.fetchone() if fetch else None
        return None if row is None else tuple(row)
    except dbapi.Error as exc:
        lost = dialect.is_disconnect(exc, dbapi_conn, cur)
        wrapped = DBAPIError.instance(statement, params, exc, dbapi.Error, hide_parameters=True,
                                      connection_invalidated=lost, dialect=dialect)
        if lost:
            conn.invalidate(wrapped)
        raise wrapped from exc
    finally:
        cur.close()


class GroupSync:
    """Group commit for SQLite in WAL mode: a commit returns once one fsync of the WAL covers it.

    Commits run with synchronous=NORMAL (written to the WAL, not synced) under the write lock;
    each committer then calls ``wait`` outside the lock. One caller at a time fsyncs the WAL,
    covering every commit written before it started; the others wait for that fsync or the
    next. A commit therefore returns only when it is on disk, as with synchronous=FULL, but the
    next writer need not wait for the fsync, and commits that meet share it. A failed fsync
    may have dropped the WAL's pages from the cache: like a crash, the process stops
    (``on_failure``) and recovery decides from what is on disk.
    """

    def __init__(self, wal: Path, on_failure: Callable[[OSError], None] | None = None) -> None:
        self.wal = wal
        self._cv = threading.Condition()
        self._written = 0
        self._synced = 0
        self._syncing = False
        self._on_failure = on_failure or _stop_process
        #: fsyncs done and commits they covered (for tests and benchmarks)
        self.fsyncs = 0

    def pending(self) -> int:
        """Commits written but not yet known to be on disk."""
        with self._cv:
            return self._written - self._synced

    def committed(self) -> None:
        """A commit (or anything else written to the WAL) just returned."""
        with self._cv:
            self._written += 1

    def wait(self) -> None:
        """Return once everything committed before this call is on disk."""
        with self._cv:
            target = self._written
            while self._synced < target:
                if self._syncing:
                    self._cv.wait()
                    continue
                self._syncing = True
                upto = self._written
                self._cv.release()
                try:
                    self._fsync()
                finally:
                    self._cv.acquire()
                    self._syncing = False
                self._synced = max(self._synced, upto)
                self.fsyncs += 1
                self._cv.notify_all()

    def _fsync(self) -> None:
        try:
            fd = os.open(self.wal, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:  # checkpointed and removed: the database file was synced then
            return
        try:
            os.fsync(fd)
        except OSError as exc:
            self._on_failure(exc)
            raise
        finally:
            os.close(fd)


def _stop_process(exc: OSError) -> None:
    import logging

    logging.getLogger("spoolgate.db").critical(
        "fsync of the database journal failed (%s): stopping as after a crash; recovery decides "
        "from what is on disk", exc.strerror or exc)
    logging.shutdown()
    os._exit(75)


class Database:
    """The engine and a session factory; ``transaction()`` is the unit of work."""

    def __init__(self, url: str, *, pool: bool = True, durable: bool = True, connections: int = 8) -> None:
        self.url = url
        self._file = sqlite_file(url)
        #: durable SQLite commits share their fsync (``GroupSync``); ``transaction`` and the unit of
        #: work return only once theirs is on disk
        self.group_sync = GroupSync(Path(f"{self._file}-wal")) if durable and self._file is not None else None
        self.engine = make_engine(url, pool=pool, durable=durable, group_commit=self.group_sync is not None,
                                  connections=connections)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time; queueing our own threads here is cheaper than
        # SQLite's busy handler, which polls with sleeps of up to 100 ms.
        self.write_lock: threading.RLock | None = threading.RLock() if self.is_sqlite else None
        self._file_id = _file_id(self._file) if self._file is not None else None
        if self._file is not None:
            event.listen(self.engine, "commit", self._refuse_commit_into_lost_file)

    def _refuse_commit_into_lost_file(self, _conn: Any) -> None:
        """A commit into a deleted or replaced SQLite file is lost with its inode: refuse it, so the
        transaction rolls back and the file it belongs to is taken again once the database is back
        (the health check stops intake meanwhile). One stat per commit."""
        assert self._file is not None
        now = _file_id(self._file)
        if self._file_id is None:
            self._file_id = now
        elif now != self._file_id:
            raise DatabaseUnavailable(f"database file {self._file} was deleted or replaced under the running daemon")

    def problems(self) -> list[str]:
        """A SQLite file deleted, replaced or unreadable under the running daemon (empty: fine).

        Every later commit would go into an unlinked inode, or fail: the daemon must stop
        taking files and let systemd see it. PostgreSQL outages are transient, never a problem here."""
        if self._file is None:
            return []
        now = _file_id(self._file)
        if now is None:
            return [f"database file {self._file} was deleted under the running daemon"]
        if self._file_id is None:
            self._file_id = now
        elif now != self._file_id:
            return [f"database file {self._file} was replaced under the running daemon"]
        # Never open() the file directly: closing any descriptor of it drops SQLite's POSIX locks for
        # the whole process. A separate SQLite connection shares the process's lock state safely.
        import sqlite3

        try:
            conn = sqlite3.connect(f"file:{self._file}?mode=ro", uri=True, timeout=1.0)
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            finally:
                conn.close()
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return []
            return [f"database file {self._file} is unreadable: {exc}"]
        except sqlite3.DatabaseError as exc:
            return [f"database file {self._file} is no longer a SQLite database: {exc}"]
        return []

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def acquire(self) -> None:
        if self.write_lock is not None:
            self.write_lock.acquire()

    def release(self) -> None:
        if self.write_lock is not None:
            self.write_lock.release()

    def committed(self) -> None:
        """Called right after a commit returned: counts it for the next group fsync."""
        if self.group_sync is not None:
            self.group_sync.committed()

    def wait_durable(self) -> None:
        """Return once every commit made so far is on disk (at once without group commit).

        Called outside the write lock, so the next writer commits while this one's fsync runs."""
        if self.group_sync is not None:
            self.group_sync.wait()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Commit on success, roll back on any exception; returns once the commit is durable."""
        self.acquire()
        try:
            with self.sessions() as session, session.begin():
                yield session
            self.committed()
        finally:
            self.release()
        self.wait_durable()

    def dispose(self) -> None:
        self.engine.dispose()
