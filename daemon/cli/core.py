"""Core commands: init, run, status, errors, retry, process, db, ledger, jobs."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import re
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daemon.cli import (
    EXIT_CONFIG,
    EXIT_DB_UNAVAILABLE,
    EXIT_FAILURE,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_SOFTWARE,
    EXIT_USAGE,
)
from formats.errors import mask_digit_runs

if TYPE_CHECKING:
    from daemon.config import Settings
    from daemon.db import Database


#: digit runs this long may be account numbers; masked in every log line and traceback
LOG_MASK_DIGITS = 8


class MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_digit_runs(super().format(record), LOG_MASK_DIGITS)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(), "level": record.levelname,
               "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return mask_digit_runs(json.dumps(out), LOG_MASK_DIGITS)


def setup_logging(level: str, as_json: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else
                         MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("watchdog").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _settings(args: argparse.Namespace) -> Settings:
    from daemon.config import load

    return load(args.config)


def _fail_config(msg: str) -> int:
    print(f"spoolgate: config error: {msg}", file=sys.stderr)
    return EXIT_CONFIG


def _db(settings: Settings) -> Database:
    from daemon.db import Database
    from spool import fsops

    fsops.configure(durable=settings.durable)
    return Database(settings.database_url, durable=settings.durable)


def _load_or_exit(args: argparse.Namespace) -> tuple[Settings | None, int]:
    from daemon.config import ConfigError

    try:
        return _settings(args), EXIT_OK
    except ConfigError as exc:
        return None, _fail_config(str(exc))


# -- init / db -------------------------------------------------------------------------------------
def cmd_init(args: argparse.Namespace) -> int:
    from daemon import migrate
    from daemon.config import validate
    from spool.fsops import ensure_dir

    settings, code = _load_or_exit(args)
    if settings is None:
        return code
    for ch in settings.channels.values():
        for folder in (ch.inbox, ch.work, ch.processed, ch.error):
            ensure_dir(folder)
    for o in settings.outbound.values():
        ensure_dir(o.folder)
    ensure_dir(settings.state_dir, 0o700)
    if settings.is_sqlite:
        Path(settings.database_url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    problems = validate(settings)
    for p in problems:
        print(f"spoolgate: config error: {p}", file=sys.stderr)
    if problems:
        return EXIT_CONFIG
    db = _db(settings)
    migrate.upgrade(db.engine)
    db.dispose()
    print(f"initialised spool tree under {settings.spool_root} and database {_safe_url(settings.database_url)}")
    return EXIT_OK


def _safe_url(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def cmd_db(args: argparse.Namespace) -> int:
    from daemon import migrate

    settings, code = _load_or_exit(args)
    if settings is None:
        return code
    db = _db(settings)
    try:
        if args.db_command == "upgrade":
            migrate.upgrade(db.engine)
            print("database schema is up to date")
        else:
            migrate.check(db.engine)
            print("models and migrations agree")
    finally:
        db.dispose()
    return EXIT_OK


# -- run ---------------------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    from sqlalchemy import text

    from daemon.config import ConfigError, load, validate
    from daemon.lock import LockHeld, SpoolLock
    from daemon.sdnotify import Notifier, watchdog_interval_s
    from daemon.service import Daemon

    settings, code = _load_or_exit(args)
    if settings is None:
        return code
    setup_logging(args.log_level or settings.log_level, settings.log_json)
    log = logging.getLogger("spoolgate")
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
    db = _db(settings)
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        from daemon import migrate

        if not _schema_current(db):
            if args.upgrade:
                migrate.upgrade(db.engine)
            else:
                print("spoolgate: database schema is not current; run `spoolgate db upgrade` (or run --upgrade)",
                      file=sys.stderr)
                return EXIT_CONFIG
    except Exception as exc:
        print(f"spoolgate: database unavailable: {exc}", file=sys.stderr)
        return EXIT_DB_UNAVAILABLE

    notify = Notifier()
    stop = threading.Event()
    reload_ = threading.Event()
    signals = {"term": 0}

    def on_term(signum: int, frame: Any) -> None:
        signals["term"] += 1
        if signals["term"] > 1:
            log.warning("second stop signal: exiting now; files in hand roll back and are recovered at start")
            import os

            os._exit(1)
        stop.set()

    def on_hup(signum: int, frame: Any) -> None:
        reload_.set()
        stop.set()  # wake the loop

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGHUP, on_hup)

    daemon = Daemon(settings, db, run_jobs=not args.no_jobs)
    daemon.start()
    notify.ready(f"ready; {daemon.status_text()}")
    log.info("spoolgate ready: %d channel(s), %d worker(s), %d job(s), database %s", len(settings.channels),
             settings.workers, len(settings.jobs), _safe_url(settings.database_url))
    interval = min(watchdog_interval_s() or settings.watchdog_interval_s, settings.watchdog_interval_s)
    unhealthy_since: float | None = None
    exit_code = EXIT_OK
    while True:
        stop.wait(timeout=interval)
        if reload_.is_set() and signals["term"] == 0:
            reload_.clear()
            stop.clear()
            notify.reloading()
            try:
                new = load(args.config)
                problems = validate(new, channel_folders=False)
                if problems:
                    raise ConfigError("; ".join(problems))
                daemon.reload(new)
                log.info("configuration reloaded")
            except Exception as exc:  # whatever the new file holds, the running daemon keeps going
                log.error("reload refused, keeping the running configuration: %s", exc)
            notify.ready(daemon.status_text())
            continue
        if stop.is_set():
            break
        problems = daemon.health()
        if problems:
            unhealthy_since = unhealthy_since or time.monotonic()
            log.critical("unhealthy, watchdog pings stopped: %s", "; ".join(problems))
            notify.status(f"UNHEALTHY: {'; '.join(problems)}")
            if time.monotonic() - unhealthy_since > 3 * interval:
                exit_code = EXIT_SOFTWARE
                break
            continue
        unhealthy_since = None
        notify.watchdog()
        notify.status(daemon.status_text())
    notify.stopping()
    log.info("stopping: intake closed, finishing files in hand")
    clean = daemon.stop()
    db.dispose()
    if lock is not None:
        lock.release()
    log.info("stopped%s", "" if clean else " (some threads did not finish in time)")
    return exit_code


def _schema_current(db: Database) -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from daemon.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config(db.engine))
    with db.engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current == set(script.get_heads())


# -- status / errors / ledger -------------------------------------------------------------------------
def cmd_status(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from daemon.models.core import FileState, SpoolFile
    from spool.fsops import scan

    settings, code = _load_or_exit(args)
    if settings is None:
        return code
    now = time.time()
    out: dict[str, Any] = {"channels": {}, "last_errors": []}
    for name, ch in settings.channels.items():
        folders = {}
        for role in ("inbox", "work", "error"):
            files = [e for e in scan(getattr(ch, role)) if e.kind != "dir" and not e.name.startswith(".")
                     and not e.name.endswith(".error.json")]
            folders[role] = {"path": str(getattr(ch, role)), "files": len(files),
                             "oldest_age_s": round(max((now - e.mtime_ns / 1e9 for e in files), default=0.0), 1)}
        out["channels"][name] = folders
    db = _db(settings)
    try:
        with db.transaction() as s:
            rows = s.execute(select(SpoolFile.channel, SpoolFile.state, func.count()).group_by(
                SpoolFile.channel, SpoolFile.state)).all()
            for channel, state, n in rows:
                out["channels"].setdefault(channel, {}).setdefault("ledger", {})[state] = n
            for r in s.scalars(select(SpoolFile).where(SpoolFile.state.in_([FileState.ERROR, FileState.DUPLICATE]))
                               .order_by(SpoolFile.id.desc()).limit(10)):
                out["last_errors"].append({"id": r.id, "channel": r.channel, "file": r.original_name,
                                           "reason": (r.error or {}).get("reason"), "path": r.final_path,
                                           "time": r.finished_at.isoformat() if r.finished_at else None})
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(out, indent=2))
        return EXIT_OK
    for name, folders in out["channels"].items():
        print(f"{name}:")
        for role in ("inbox", "work", "error"):
            f = folders.get(role)
            if f:
                print(f"  {role:<6} {f['files']:>7} file(s)  oldest {f['oldest_age_s']:>8.1f}s  {f['path']}")
        if "ledger" in folders:
            print("  ledger " + " ".join(f"{k}={v}" for k, v in sorted(folders["ledger"].items())))
    if out["last_errors"]:
        print("last errors:")
        for e in out["last_errors"]:
            print(f"  #{e['id']} {e['channel']}/{e['file']}: {e['reason']}")
    return EXIT_OK


def cmd_errors(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from daemon.models.core import FileState, SpoolFile

    settings, code = _load_or_exit(args)
    if settings is None:
        return code
    db = _db(settings)
    items = []
    try:
        with db.transaction() as s:
            q = select(SpoolFile).where(SpoolFile.state.in_([FileState.ERROR, FileState.DUPLICATE]))
            if args.channel:
                q = q.where(SpoolFile.channel == args.channel)
            for r in s.scalars(q.order_by(SpoolFile.id)):
                if r.final_path and Path(r.final_path).exists():
                    e = r.error or {}
                    items.append({"id": r.id, "channel": r.channel, "file": r.original_name, "path": r.final_path,
                                  "reason": e.get("reason"), "code": e.get("code"), "line": e.get("line"),
                                  "field": e.get("field"), "columns": e.get("columns")})
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(items, indent=2))
    else:
        for i in items:
            where = f" line {i['line']}" if i["line"] else ""
            where += f" {i['field']}" if i["field"] else ""
            print(f"#{i['id']} {i['channel']}/{i['file']}:{where} {i['reason']}  ({i['path']})")
        if not items:
            print("no files in error")
    return EXIT_OK


def cmd_retry(args: argparse.Namespace) -> int:
    from daemon.pipeline import Pipeline

    settings, code = _load_or_exit(args)
    if settings is None:
        return code
    if not args.all and not args.file:
        print("spoolgate retry: name a FILE or ledger id, or --all", file=sys.stderr)
        return EXIT_USAGE
    db = _db(settings)
    try:
        moved = Pipeline(settings, db).retry("*" if args.all else args.file)
    except FileExistsError as exc:
        print(f"spoolgate retry: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        db.dispose()
    for m in moved:
        print(f"retrying {m}")
    if not moved:
        print("nothing to retry", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def cmd_process(args: argparse.Namespace) -> int:
    from daemon.pipeline import Pipeline

    settings, code = _load_or_exit(args)
    if settings is None:
        return code
    if not args.dry_run:
        print("spoolgate process: only --dry-run is supported; drop the file into its inbox to process it",
              file=sys.stderr)
        return EXIT_USAGE
    path = Path(args.file)
    channel = args.channel
    if channel is None:
        for name, ch in settings.channels.items():
            if path.resolve().parent == ch.inbox.resolve():
                channel = name
        if channel is None:
            print("spoolgate process: the file is not in a channel inbox; name one with --channel", file=sys.stderr)
            return EXIT_USAGE
    if channel not in settings.channels:
        print(f"spoolgate process: unknown channel {channel!r}", file=sys.stderr)
        return EXIT_USAGE
    setup_logging("WARNING")
    db = _db(settings)
    try:
        report = Pipeline(settings, db).dry_run(path, channel)
    finally:
        db.dispose()
    print(json.dumps(report, indent=2, default=str))
    return EXIT_OK if report.get("outcome") == "would process" else EXIT_FAILURE


def cmd_ledger(args: argparse.Namespace) -> int:
    from sqlalchemy import or_, select

    from daemon.models.core import SpoolFile

    settings, code = _load_or_exit(args)
    if settings is None:
        return code
    db = _db(settings)
    ref = args.ref
    try:
        with db.transaction() as s:
            q = select(SpoolFile)
            if ref.isdigit():
                q = q.where(SpoolFile.id == int(ref))
            else:
                base = Path(ref).name
                q = q.where(or_(SpoolFile.original_name == base, SpoolFile.final_path.like(f"%/{base}"),
                                SpoolFile.sha256 == ref))
            rows = [{c.name: getattr(r, c.name) for c in SpoolFile.__table__.columns}
                    for r in s.scalars(q.order_by(SpoolFile.id))]
    finally:
        db.dispose()
    if not rows:
        print(f"no ledger entry for {ref}", file=sys.stderr)
        return EXIT_FAILURE
    print(json.dumps(rows, indent=2, default=str))
    return EXIT_OK


# -- jobs -------------------------------------------------------------------------------------------
def cmd_jobs(args: argparse.Namespace) -> int:
    from daemon.pipeline import default_identity
    from daemon.scheduler import JobBusy, Scheduler

    settings, code = _load_or_exit(args)
    if settings is None:
        return code
    setup_logging(args.log_level or "INFO", settings.log_json)
    db = _db(settings)
    sched = Scheduler(settings, db, identity=default_identity())
    try:
        if args.jobs_command == "list":
            for j in sched.list():
                print(f"{j['job']:<24} {j['kind']:<28} every {j['every']:<18} next {j['next_run_at']}  "
                      f"last {j['last_outcome']}{'  RUNNING' if j['running'] else ''}")
            return EXIT_OK
        try:
            r = sched.run(args.name, trigger="manual", dry_run=args.dry_run)
        except KeyError as exc:
            print(f"spoolgate jobs run: {exc.args[0]}", file=sys.stderr)
            return EXIT_USAGE
        except JobBusy as exc:
            print(f"spoolgate jobs run: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        print(json.dumps({"job": r.job, "run_id": r.run_id, "outcome": r.outcome, "counts": r.counts,
                          "message": r.message}))
        return EXIT_OK if r.outcome != "failure" else EXIT_FAILURE
    finally:
        db.dispose()


def cmd_check_config(args: argparse.Namespace) -> int:
    from daemon.config import validate

    settings, code = _load_or_exit(args)
    if settings is None:
        return code
    problems = validate(settings)
    for p in problems:
        print(f"spoolgate: config error: {p}", file=sys.stderr)
    if problems:
        return EXIT_CONFIG
    print("configuration is valid")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("init", help="create the spool tree and the database schema")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("run", help="run the daemon in the foreground (systemd Type=notify)")
    p.add_argument("--no-jobs", action="store_true", help="do not run scheduled jobs in this daemon")
    p.add_argument("--upgrade", action="store_true", help="upgrade the database schema first if needed")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("check-config", help="validate the configuration and exit")
    p.set_defaults(func=cmd_check_config)

    p = sub.add_parser("status", help="files waiting per channel and folder, oldest age, last errors")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("errors", help="list files in error/ with their reasons")
    p.add_argument("--channel")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_errors)

    p = sub.add_parser("retry", help="send a file (name or ledger id) from error/ back to its inbox")
    p.add_argument("file", nargs="?")
    p.add_argument("--all", action="store_true")
    p.set_defaults(func=cmd_retry)

    p = sub.add_parser("process", help="show which route and handler would take FILE and what it would change")
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", required=False)
    p.add_argument("--channel")
    p.set_defaults(func=cmd_process)

    p = sub.add_parser("db", help="database schema")
    dsub = p.add_subparsers(dest="db_command", required=True)
    dsub.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db)
    dsub.add_parser("check", help="fail if models and migrations disagree").set_defaults(func=cmd_db)

    p = sub.add_parser("ledger", help="ledger entries")
    lsub = p.add_subparsers(dest="ledger_command", required=True)
    ls = lsub.add_parser("show", help="show the ledger rows of a file (name, path, sha256 or id)")
    ls.add_argument("ref")
    ls.set_defaults(func=cmd_ledger)

    p = sub.add_parser("jobs", help="scheduled jobs")
    jsub = p.add_subparsers(dest="jobs_command", required=True)
    jsub.add_parser("list", help="jobs, next run and last outcome").set_defaults(func=cmd_jobs)
    jr = jsub.add_parser("run", help="run a job now")
    jr.add_argument("name")
    jr.add_argument("--dry-run", action="store_true")
    jr.set_defaults(func=cmd_jobs)
