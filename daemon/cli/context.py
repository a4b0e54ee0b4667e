"""One way for a command to get its configuration and its database: loaded, checked, disposed.

``with command_context(args) as ctx:`` loads the settings or fails with 78 and one line per
problem. ``ctx.db`` opens the database on first use, so a command refuses bad arguments before it
touches it, and refuses a database that is not the daemon's: 69 when it cannot be reached or does
not exist, 78 when it holds no current spoolgate schema. The end of the block disposes it.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from daemon.cli import EXIT_CONFIG, EXIT_DB_UNAVAILABLE, Fail

if TYPE_CHECKING:
    from store.config import Settings
    from store.db import Database


def load_settings(args: argparse.Namespace) -> Settings:
    """The configuration ``main`` found, or ``Fail`` with every problem on its own line (78)."""
    from store.config import ConfigError, load

    try:
        return load(args.config)
    except ConfigError as exc:
        problems = getattr(exc, "problems", None) or [str(exc)]
        raise Fail(EXIT_CONFIG, "\nspoolgate: ".join(f"config error: {p}" for p in problems)) from None


def safe_url(url: str) -> str:
    """A database URL fit to print: the password is starred."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def connect(settings: Settings) -> Database:
    """The configured database as it is (``init`` and ``db upgrade`` make it the daemon's)."""
    from spool import fsops
    from store.db import Database

    fsops.configure(durable=settings.durable)
    return Database(settings.database_url, durable=settings.durable, connections=settings.workers + 4)


def open_db(settings: Settings) -> Database:
    """The daemon's database, or ``Fail``: a SQLite file that does not exist is never created
    here, and a database without the current spoolgate schema is refused (it is not the daemon's)."""
    from daemon.migrate import schema_state

    if settings.is_sqlite:
        path = settings.database_url.split(":///", 1)[-1]
        if path and path != ":memory:" and not Path(path).exists():
            raise Fail(EXIT_DB_UNAVAILABLE, f"database unavailable: {path} does not exist "
                                            "(run `spoolgate init` with this configuration)")
    db = connect(settings)
    try:
        state = schema_state(db.engine)
    except BaseException:
        db.dispose()
        raise
    if state != "current":
        db.dispose()
        hint = ("holds no spoolgate schema; run `spoolgate init`" if state == "empty"
                else "schema is not current; run `spoolgate db upgrade`")
        raise Fail(EXIT_CONFIG, f"database {safe_url(settings.database_url)} {hint}")
    return db


class CommandContext:
    """A command's settings and (opened on first use) database, disposed when the block ends.

    ``check_schema=False`` opens the database as it is, for the commands that build the schema
    (``init``, ``db``) or check it their own way (``run``, ``web``, ``users``).
    """

    def __init__(self, args: argparse.Namespace, settings: Settings, *, needs_db: bool = True,
                 check_schema: bool = True) -> None:
        self.args = args
        self.settings = settings
        self.needs_db = needs_db
        self.check_schema = check_schema
        self._db: Database | None = None

    @property
    def db(self) -> Database:
        if not self.needs_db:
            raise RuntimeError("this command was given no database (needs_db=False)")
        if self._db is None:
            self._db = open_db(self.settings) if self.check_schema else connect(self.settings)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            db.dispose()

    def __enter__(self) -> CommandContext:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def command_context(args: argparse.Namespace, *, needs_db: bool = True, check_schema: bool = True) -> CommandContext:
    """``with command_context(args) as ctx:`` the settings loaded (or ``Fail`` 78), ``ctx.db`` on first use."""
    return CommandContext(args, load_settings(args), needs_db=needs_db, check_schema=check_schema)
