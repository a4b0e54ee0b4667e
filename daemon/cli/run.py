"""``spoolgate run``: the daemon in the foreground, as the systemd unit runs it.

The only place with signal handlers: SIGHUP asks the ``Supervisor`` to reload, SIGTERM and SIGINT
to stop (a second one exits at once; files in hand roll back and are recovered at start).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import TYPE_CHECKING, Any

from daemon.cli import EXIT_CONFIG, EXIT_DB_UNAVAILABLE, EXIT_LOCKED
from daemon.cli.context import CommandContext, command_context
from daemon.cli.logsetup import setup_logging

if TYPE_CHECKING:
    from store.config import Settings
    from store.db import Database


def cmd_run(args: argparse.Namespace) -> int:
    from daemon.checks import runtime_problems
    from daemon.lock import LockHeld, SpoolLock
    from daemon.validate import validate

    with command_context(args, check_schema=False) as ctx:
        settings = ctx.settings
        setup_logging(args.log_level or settings.log_level, settings.log_json)
        problems = validate(settings, channel_folders=False)
        if problems:
            for p in problems:
                print(f"spoolgate: config error: {p}", file=sys.stderr)
            return EXIT_CONFIG
        lock = None
        if settings.is_sqlite:
            lock = SpoolLock(settings.state_dir / "spoolgate.lock")
            try:
                lock.acquire()
            except LockHeld as exc:
                print(f"spoolgate: {exc}", file=sys.stderr)
                return EXIT_LOCKED
        try:
            problems = runtime_problems(settings)  # after the lock: a second daemon on this spool is told so (75)
            if problems:
                for p in problems:
                    print(f"spoolgate: config error: {p}", file=sys.stderr)
                return EXIT_CONFIG
            refused = _ready_database(ctx, upgrade=args.upgrade)
            if refused is not None:
                return refused
            return _supervise(ctx)
        finally:
            if lock is not None:
                lock.release()


def _ready_database(ctx: CommandContext, *, upgrade: bool) -> int | None:
    """The exit code that refuses to run on this database, or None: reachable, schema current."""
    from sqlalchemy import text

    from daemon import migrate
    from daemon.cli import one_line

    engine = ctx.db.engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        if not migrate.schema_current(engine):
            if not upgrade:
                print("spoolgate: database schema is not current; run `spoolgate db upgrade` (or run --upgrade)",
                      file=sys.stderr)
                return EXIT_CONFIG
            migrate.upgrade(engine)
    except Exception as exc:
        print(f"spoolgate: database unavailable: {one_line(exc)}", file=sys.stderr)
        return EXIT_DB_UNAVAILABLE
    return None


def _supervise(ctx: CommandContext) -> int:
    """The daemon under the supervisor; signals only ask it to reload or stop."""
    import os

    from daemon.cli.supervisor import Supervisor
    from daemon.sdnotify import Notifier, watchdog_interval_s
    from daemon.service import Daemon
    from daemon.validate import validate
    from store.config import ConfigError, load

    log = logging.getLogger("spoolgate")
    settings, db = ctx.settings, ctx.db

    def reload_settings() -> Settings:
        new = load(ctx.args.config)
        problems = validate(new, channel_folders=False)
        if problems:
            raise ConfigError("; ".join(problems))
        return new

    interval = min(watchdog_interval_s() or settings.watchdog_interval_s, settings.watchdog_interval_s)
    supervisor = Supervisor(Notifier(), interval_s=interval, load=reload_settings,
                            record=lambda outcome, detail: _record_reload(db, outcome, detail))

    def on_term(signum: int, frame: Any) -> None:
        if supervisor.request_stop() > 1:
            log.warning("second stop signal: exiting now; files in hand roll back and are recovered at start")
            os._exit(1)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGHUP, lambda signum, frame: supervisor.request_reload())
    signal.set_wakeup_fd(supervisor.wakeup_fd, warn_on_full_buffer=False)
    try:
        return supervisor.run(Daemon(settings, db, run_jobs=not ctx.args.no_jobs))
    finally:
        signal.set_wakeup_fd(-1)
        supervisor.close()


def _record_reload(db: Database, outcome: str, detail: str | None) -> None:
    """SIGHUP does not say who sent it: the action is recorded as the daemon's own."""
    from daemon import operator_actions as ops

    try:
        ops.record_alone(db, ops.Actor(f"daemon:{ops.unix_user()}", "signal"), "reload", "config",
                         "SIGHUP received", outcome=outcome, detail=detail)
    except Exception as exc:
        logging.getLogger("spoolgate").warning("could not record the reload: %s", exc)
