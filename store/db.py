"""The database plumbing: metadata, the declarative base, column types, engines.

Models live in ``store.models``; the schema is built by alembic migrations
(``migrations/``), never by ``create_all``. The unit of work belongs to the
caller (one transaction per file or job run); services never commit.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from sqlalchemy import JSON, BigInteger, DateTime, Engine, Integer, MetaData, create_engine, event
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


def make_engine(url: str, *, pool: bool = True, echo: bool = False, durable: bool = True) -> Engine:
    """One engine per process. SQLite: WAL, a busy timeout, and BEGIN IMMEDIATE so
    concurrent writers wait for the lock instead of failing on upgrade."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, hide_parameters=True,
                               connect_args={"timeout": 30, "check_same_thread": False},
                               **({} if pool else {"poolclass": NullPool}))

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before it returns, so the ledger never trails the folders
            # after a power cut. NORMAL (durable = false) is still safe against a killed process.
            cur.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    # hide_parameters: a logged database error never quotes account numbers or names from the statement
    kwargs: dict[str, Any] = {"isolation_level": "READ COMMITTED", "pool_pre_ping": True, "hide_parameters": True}
    if pool:
        kwargs.update(pool_size=8, max_overflow=8, pool_timeout=30)
    else:
        kwargs["poolclass"] = NullPool
    return create_engine(url, echo=echo, connect_args={"connect_timeout": 5}, **kwargs)


class Database:
    """The engine and a session factory; ``transaction()`` is the unit of work."""

    def __init__(self, url: str, *, pool: bool = True, durable: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url, pool=pool, durable=durable)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time; queueing our own threads here is cheaper than
        # SQLite's busy handler, which polls with sleeps of up to 100 ms.
        self.write_lock: threading.RLock | None = threading.RLock() if self.is_sqlite else None
        self._file = sqlite_file(url)
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

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Commit on success, roll back on any exception."""
        self.acquire()
        try:
            with self.sessions() as session, session.begin():
                yield session
        finally:
            self.release()

    def dispose(self) -> None:
        self.engine.dispose()
