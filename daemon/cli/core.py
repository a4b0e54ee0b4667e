"""Core commands: init, run, status, errors, retry, process, db, ledger, jobs."""

from __future__ import annotations

import argparse
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
from daemon.logfmt import JsonFormatter, MaskingFormatter, escape_unsafe, journald_stderr
from formats.errors import IssueCode

if TYPE_CHECKING:
    from store.config import Settings
    from store.db import Database


def setup_logging(level: str, as_json: bool = False, *, prefix: bool | None = None) -> None:
    """Masked one-line records on stderr; journald priority prefixes when stderr is the journal."""
    prefix = journald_stderr() if prefix is None else prefix
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(prefix=prefix) if as_json else
                         MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", prefix=prefix))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("watchdog").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _settings(args: argparse.Namespace) -> Settings:
    from store.config import load

    return load(args.config)


def _fail_config(msg: str) -> int:
    print(f"spoolgate: config error: {msg}", file=sys.stderr)
    return EXIT_CONFIG


def _db(settings: Settings) -> Database:
    from spool import fsops
    from store.db import Database

    fsops.configure(durable=settings.durable)
    return Database(settings.database_url, durable=settings.durable)


def _load_or_exit(args: argparse.Namespace) -> tuple[Settings | None, int]:
    from store.config import ConfigError

    try:
        return _settings(args), EXIT_OK
    except ConfigError as exc:
        return None, _fail_config(str(exc))


def open_db(settings: Settings) -> Database:
    """The daemon's database, or ``Fail``: a SQLite file that does not exist is never created
    here, and a database without the current spoolgate schema is refused (it is not the daemon's)."""
    from daemon.cli import Fail

    if settings.is_sqlite:
        path = settings.database_url.split(":///", 1)[-1]
        if path and path != ":memory:" and not Path(path).exists():
            raise Fail(EXIT_DB_UNAVAILABLE, f"database unavailable: {path} does not exist "
                                            "(run `spoolgate init` with this configuration)")
    db = _db(settings)
    try:
        state = _schema_state(db)
    except BaseException:
        db.dispose()
        raise
    if state != "current":
        db.dispose()
        hint = ("holds no spoolgate schema; run `spoolgate init`" if state == "empty"
                else "schema is not current; run `spoolgate db upgrade`")
        raise Fail(EXIT_CONFIG, f"database {_safe_url(settings.database_url)} {hint}")
    return db


def load_settings(args: argparse.Namespace) -> Settings:
    """The configuration ``main`` found, or ``Fail`` with every problem on its own line (78)."""
    from daemon.cli import Fail
    from store.config import ConfigError

    try:
        return _settings(args)
    except ConfigError as exc:
        problems = getattr(exc, "problems", None) or [str(exc)]
        raise Fail(EXIT_CONFIG, "\nspoolgate: ".join(f"config error: {p}" for p in problems)) from None


# -- init / db -------------------------------------------------------------------------------------
def cmd_init(args: argparse.Namespace) -> int:
    from daemon import migrate
    from daemon.validate import validate
    from spool.fsops import ensure_dir

    settings = load_settings(args)
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
    for name, ch in settings.channels.items():
        print(f"drop {name} files into {ch.inbox}")
    return EXIT_OK


def _safe_url(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def cmd_db(args: argparse.Namespace) -> int:
    from daemon import migrate

    settings = load_settings(args)
    db = _db(settings)
    try:
        if args.db_command == "upgrade":
            migrate.upgrade(db.engine)
            print("database schema is up to date")
        else:
            from alembic.util.exc import AutogenerateDiffsDetected, CommandError

            try:
                migrate.check(db.engine)
            except AutogenerateDiffsDetected as exc:
                print(f"spoolgate: models and migrations disagree: {str(exc).splitlines()[0]}", file=sys.stderr)
                return EXIT_FAILURE
            except CommandError as exc:  # e.g. the database is not at the newest revision
                print(f"spoolgate: db check: {exc}", file=sys.stderr)
                return EXIT_FAILURE
            print("models and migrations agree")
    finally:
        db.dispose()
    return EXIT_OK


# -- run ---------------------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    from sqlalchemy import text

    from daemon.checks import runtime_problems
    from daemon.lock import LockHeld, SpoolLock
    from daemon.sdnotify import Notifier, watchdog_interval_s
    from daemon.service import Daemon
    from daemon.validate import validate
    from store.config import ConfigError, load

    settings = load_settings(args)
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
    problems = runtime_problems(settings)  # after the lock: a second daemon on this spool is told so (75)
    if problems:
        if lock is not None:
            lock.release()
        for p in problems:
            print(f"spoolgate: config error: {p}", file=sys.stderr)
        return EXIT_CONFIG
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
        from daemon.cli import one_line

        db.dispose()
        print(f"spoolgate: database unavailable: {one_line(exc)}", file=sys.stderr)
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
                _record_reload(db, "ok", None)
            except Exception as exc:  # whatever the new file holds, the running daemon keeps going
                log.error("reload refused, keeping the running configuration: %s", exc)
                _record_reload(db, "refused", str(exc))
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


def _record_reload(db: Database, outcome: str, detail: str | None) -> None:
    """SIGHUP does not say who sent it: the action is recorded as the daemon's own."""
    from daemon import operator_actions as ops

    try:
        ops.record_alone(db, ops.Actor(f"daemon:{ops.unix_user()}", "signal"), "reload", "config",
                         "SIGHUP received", outcome=outcome, detail=detail)
    except Exception as exc:
        logging.getLogger("spoolgate").warning("could not record the reload: %s", exc)


def cli_actor(args: argparse.Namespace) -> Any:
    from daemon.operator_actions import Actor, unix_user

    return Actor(args.by or unix_user(), "cli")


def reason_text(value: str) -> str:
    """An operator's reason: refused as a usage error before anything is done when blank."""
    from daemon.operator_actions import ReasonRequired, clean_reason

    try:
        return clean_reason(value)
    except ReasonRequired as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_actor_args(p: argparse.ArgumentParser) -> None:
    """``--by`` / ``--reason`` of every operator action (recorded in operator_actions)."""
    p.add_argument("--by", default=None, metavar="NAME", help="who acts (default: the Unix user)")
    p.add_argument("--reason", default="no reason given (cli)", type=reason_text, metavar="TEXT",
                   help="why; recorded with the action")


def _schema_current(db: Database) -> bool:
    return _schema_state(db) == "current"


def _schema_state(db: Database) -> str:
    """``current``, ``old`` (migrations to apply) or ``empty`` (no spoolgate schema at all)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from daemon.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config(db.engine))
    with db.engine.connect() as conn:
        current = tuple(MigrationContext.configure(conn).get_current_heads())
    if not current:
        return "empty"
    # Not a comparison of head sets: a revision another one depends on (0002_ach under 0003_console)
    # leaves the version table once the dependent is applied. Current means `upgrade heads` has nothing to do.
    return "old" if current_upgrades(script, current) else "current"


def current_upgrades(script: Any, current: tuple[str, ...]) -> list[Any]:
    """The steps ``alembic upgrade heads`` would run from ``current`` (alembic's own computation)."""
    return list(script._upgrade_revs("heads", current))


# -- status / errors / ledger -------------------------------------------------------------------------
def _text(value: Any) -> str:
    """A value for an operator's eyes: no ``None``, no repr quotes."""
    return "-" if value is None or value == "" else str(value)


def _waiting(ch: Any, role: str, entries: list[Any]) -> list[Any]:
    """The entries of a folder that are files the daemon deals with (never its temporaries or reports)."""
    out = []
    for e in entries:
        if e.kind == "dir" or e.name.startswith("."):
            continue
        if role == "inbox" and (ch.is_denied(e.name) or ch.is_signal_name(e.name)):
            continue
        if role == "error" and e.name.endswith(".error.json"):
            continue
        out.append(e)
    return out


def cmd_status(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from spool.fsops import scan
    from store.models.core import FileState, SpoolFile

    settings = load_settings(args)
    now = time.time()
    out: dict[str, Any] = {"channels": {}, "last_errors": []}
    for name, ch in settings.channels.items():
        folders = {}
        for role in ("inbox", "work", "error"):
            files = _waiting(ch, role, list(scan(getattr(ch, role))))
            folders[role] = {"path": str(getattr(ch, role)), "files": len(files),
                             "oldest_age_s": round(max((now - e.mtime_ns / 1e9 for e in files), default=0.0), 1)}
        out["channels"][name] = folders
    db = open_db(settings)
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
            from daemon import expectations
            from store.db import utcnow

            out["expectations"] = [
                {"channel": e.channel, "name": e.name, "pattern": e.pattern, "day": e.day.isoformat(),
                 "due_at": e.due_at.isoformat(), "state": e.state, "file": e.file_name,
                 "arrived_at": e.arrived_at.isoformat() if e.arrived_at else None}
                for e in expectations.status(s, settings, utcnow())]
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
    if out.get("expectations"):
        print("expected files:")
        for x in out["expectations"]:
            mark = "LATE" if x["state"] == "late" else x["state"]
            got = f"  {x['file']} at {x['arrived_at']}" if x["file"] else ""
            print(escape_unsafe(f"  {mark:<12} {x['channel']}/{x['name']} ({x['pattern']}) for {x['day']}, "
                                f"due {x['due_at']}{got}"))
    if out["last_errors"]:
        print("last errors:")
        for e in out["last_errors"]:
            reason = e["reason"] or ("duplicate" if e["path"] and "/duplicates/" in e["path"] else None)
            print(escape_unsafe(f"  #{e['id']} {e['channel']}/{e['file']}: {_text(reason)}"))
    return EXIT_OK


def _in_error(settings: Settings, db: Database, channel: str | None = None) -> list[dict[str, Any]]:
    """The files ``errors`` lists and ``retry`` takes: ledger rows in error (or duplicate) whose file
    is still where the ledger says, in a configured channel."""
    from sqlalchemy import select

    from spool.fsops import is_inside
    from store.models.core import FileState, SpoolFile

    items = []
    with db.transaction() as s:
        q = select(SpoolFile).where(SpoolFile.state.in_([FileState.ERROR, FileState.DUPLICATE]))
        if channel:
            q = q.where(SpoolFile.channel == channel)
        for r in s.scalars(q.order_by(SpoolFile.id)):
            ch = settings.channels.get(r.channel)
            if ch is None or not r.final_path or not Path(r.final_path).exists():
                continue
            if r.state != FileState.DUPLICATE and not is_inside(Path(r.final_path), ch.error):
                continue
            e = r.error or {}
            items.append({"id": r.id, "channel": r.channel, "file": r.original_name, "path": r.final_path,
                          "state": r.state, "reason": e.get("reason") or (
                              f"duplicate of file {r.duplicate_of}" if r.duplicate_of else None),
                          "code": e.get("code") or (IssueCode.DUPLICATE if r.state == FileState.DUPLICATE else None),
                          "line": e.get("line"), "field": e.get("field"), "columns": e.get("columns")})
    return items


def _check_channel(settings: Settings, channel: str | None) -> None:
    from daemon.cli import Fail

    if channel is not None and channel not in settings.channels:
        known = ", ".join(sorted(settings.channels)) or "none"
        raise Fail(EXIT_USAGE, f"unknown channel {channel} (configured: {known})")


def cmd_errors(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    _check_channel(settings, args.channel)
    db = open_db(settings)
    try:
        items = _in_error(settings, db, args.channel)
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(items, indent=2))
        return EXIT_OK
    for i in items:
        where = f" line {i['line']}" if i["line"] else ""
        where += f" field {i['field']}" if i["field"] else ""
        print(escape_unsafe(f"#{i['id']} {i['channel']}/{i['file']}:{where} {_text(i['reason'])}  ({i['path']})"))
    if not items:
        scope = f" on channel {args.channel}" if args.channel else ""
        print(f"no files in error{scope} (database {_safe_url(settings.database_url)})")
    return EXIT_OK


def _matches(item: dict[str, Any], ref: str) -> bool:
    """A reference as ``errors`` shows it: ``#ID``, ``ID``, the name, ``CHANNEL/NAME``, the path or its name."""
    ref = ref.strip()
    if ref.lstrip("#").isdigit():
        return item["id"] == int(ref.lstrip("#"))
    return ref in (item["file"], f"{item['channel']}/{item['file']}", item["path"], Path(item["path"]).name)


def cmd_retry(args: argparse.Namespace) -> int:
    from daemon import operator
    from daemon import operator_actions as ops
    from daemon.cli import Fail

    settings = load_settings(args)
    if args.all == bool(args.files):
        raise Fail(EXIT_USAGE, "retry: name the files (as `spoolgate errors` lists them) or give --all")
    if args.channel and not args.all:
        raise Fail(EXIT_USAGE, "retry: --channel goes with --all")
    _check_channel(settings, args.channel)
    db = open_db(settings)
    try:
        items = _in_error(settings, db, args.channel)
        chosen: list[dict[str, Any]] = []
        for ref in args.files or ["*"]:
            hits = items if ref == "*" else [i for i in items if _matches(i, ref)]
            if not hits:
                ops.record_alone(db, cli_actor(args), "retry", f"file:{ref}", ops.clean_reason(args.reason),
                                 outcome="refused", detail="no file in error matches")
                raise Fail(EXIT_FAILURE, f"retry: no file in error matches {ref} (see `spoolgate errors`)")
            chosen.extend(h for h in hits if h not in chosen)
        moved: list[str] = []
        for item in chosen:
            try:
                moved.extend(operator.retry(settings, db, str(item["id"])))
            except FileExistsError as exc:
                print(f"spoolgate: retry: #{item['id']} {item['channel']}/{item['file']}: {exc}", file=sys.stderr)
        target = (f"channel:{args.channel}" if args.channel else "file:all") if args.all else \
            ",".join(f"file:{i['id']}" for i in chosen)
        ops.record_alone(db, cli_actor(args), "retry", target, ops.clean_reason(args.reason),
                         outcome="ok" if moved and len(moved) == len(chosen) else "failed",
                         detail="; ".join(moved)[:4000] or "nothing retried")
    finally:
        db.dispose()
    for m in moved:
        print(f"retrying {m}")
    if not moved:
        if args.all:
            print("nothing to retry", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK if len(moved) == len(chosen) else EXIT_FAILURE


def _print_dry_run(report: dict[str, Any]) -> None:
    print(f"{report['file']}: {report['outcome']}")
    print(f"  channel {report['channel']}, route {_text(report.get('route'))}, "
          f"handler {_text(report.get('handler'))}")
    if report.get("reason"):
        where = "".join(f" {k} {report[k]}" for k in ("line", "field") if report.get(k))
        print(f"  reason:{where} {report['reason']}")
    if report.get("counts"):
        print("  counts: " + ", ".join(f"{k} {v}" for k, v in sorted(report["counts"].items())))
    if report.get("waits_for"):
        print(f"  waits for a signal file first: {' or '.join(report['waits_for'])}")
    changes = report.get("changes")
    if changes:
        print("  would change: " + ", ".join(f"{k} {v}" for k, v in sorted(changes.items())))
    elif report["outcome"] == "would process":
        print("  would change: nothing in the database")


def cmd_process(args: argparse.Namespace) -> int:
    from daemon import operator
    from daemon.cli import Fail

    settings = load_settings(args)
    if not args.dry_run:
        raise Fail(EXIT_USAGE, "process: only --dry-run is supported; drop the file into its inbox to process it")
    path = Path(args.file)
    if not path.exists() and not path.is_symlink():
        raise Fail(EXIT_USAGE, f"process: {path}: no such file")
    channel = args.channel
    if channel is None:
        channel = next((n for n, ch in settings.channels.items() if path.absolute().parent == ch.inbox.absolute()
                        or path.resolve().parent == ch.inbox.resolve()), None)
        if channel is None:
            raise Fail(EXIT_USAGE, "process: the file is not in a channel inbox; name one with --channel")
    _check_channel(settings, channel)
    setup_logging("ERROR")
    db = open_db(settings)
    try:
        report = operator.dry_run(settings, db, path, channel)
    finally:
        db.dispose()
    ch = settings.channels[channel]
    if (report["outcome"] == "would process" and ch.completeness == "signal"
            and not any((path.parent / n).exists() for n in ch.signal_names(path.name))):
        report["waits_for"] = ch.signal_names(path.name)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        _print_dry_run(report)
    return EXIT_OK if report.get("outcome") == "would process" else EXIT_FAILURE


def cmd_ledger(args: argparse.Namespace) -> int:
    from sqlalchemy import or_, select

    from store.models.core import SpoolFile

    settings = load_settings(args)
    db = open_db(settings)
    ref = args.ref.strip()
    try:
        with db.transaction() as s:
            q = select(SpoolFile)
            if ref.lstrip("#").isdigit():
                q = q.where(SpoolFile.id == int(ref.lstrip("#")))
            else:
                base = Path(ref).name
                q = q.where(or_(SpoolFile.original_name == base, SpoolFile.final_path == ref,
                                SpoolFile.final_path.endswith(f"/{base}", autoescape=True),
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
    from daemon.cli import Fail
    from daemon.scheduler import JobBusy, JobCannotDryRun, Scheduler
    from spool import owner

    settings = load_settings(args)
    setup_logging(args.log_level or "INFO", settings.log_json)
    db = open_db(settings)
    sched = Scheduler(settings, db, identity=owner.token())
    try:
        if args.jobs_command == "list":
            for j in sched.list():
                print(f"{j['job']:<24} {j['kind']:<28} every {j['every']:<18} "
                      f"next {(j['next_run_at'] or 'when the daemon runs') if j['enabled'] else 'disabled'}  "
                      f"last {j['last_outcome'] or 'never run'}{'  RUNNING' if j['running'] else ''}")
            if not settings.jobs:
                print("no jobs configured")
            return EXIT_OK
        from daemon import operator_actions as ops

        def note(outcome: str, detail: str) -> None:
            if not args.dry_run:  # a dry run records nothing, not even who asked for it
                ops.record_alone(db, cli_actor(args), "job-run", f"job:{args.name}", ops.clean_reason(args.reason),
                                 outcome=outcome, detail=detail)

        try:
            r = sched.run(args.name, trigger="manual", dry_run=args.dry_run)
        except KeyError as exc:
            known = ", ".join(sorted(settings.jobs)) or "none"
            note("refused", "unknown job")
            raise Fail(EXIT_USAGE, f"jobs run: {exc.args[0]} (configured: {known})") from None
        except JobBusy as exc:
            note("refused", str(exc))
            raise Fail(EXIT_FAILURE, f"jobs run: {exc}") from None
        except JobCannotDryRun as exc:
            raise Fail(EXIT_USAGE, f"jobs run: {exc}") from None
        note("ok" if r.outcome != "failure" else "failed", f"run {r.run_id}: {r.outcome}")
        print(json.dumps({"job": r.job, "run_id": r.run_id, "outcome": r.outcome, "counts": r.counts,
                          "message": r.message, "dry_run": args.dry_run}))
        return EXIT_OK if r.outcome != "failure" else EXIT_FAILURE
    finally:
        db.dispose()


def cmd_check_config(args: argparse.Namespace) -> int:
    from daemon.checks import config_problems, runtime_problems
    from daemon.cli import Fail
    from daemon.validate import validate

    try:
        settings = load_settings(args)
    except Fail:
        for p in config_problems(args.config) or ["the configuration does not load"]:
            print(f"spoolgate: config error: {p}", file=sys.stderr)
        return EXIT_CONFIG
    problems = validate(settings)
    problems.extend(runtime_problems(settings, running_ok=True))
    for p in problems:
        print(f"spoolgate: config error: {p}", file=sys.stderr)
    if problems:
        return EXIT_CONFIG
    db = open_db(settings)
    try:
        from daemon.checks import database_problems

        problems = database_problems(settings, db)
    finally:
        db.dispose()
    for p in problems:
        print(f"spoolgate: config error: {p}", file=sys.stderr)
    if problems:
        return EXIT_CONFIG
    print(f"configuration {args.config} is valid")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("init", help="create the spool folders and the database schema (safe to run again)",
                       description="Create every configured spool folder and bring the database schema "
                                   "up to date. Existing files and rows are kept.")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("run", help="run the daemon in the foreground (as the systemd unit does)",
                       description="Watch every inbox, process files and run scheduled jobs until stopped "
                                   "(SIGTERM/SIGINT stop, SIGHUP reloads the configuration).")
    p.add_argument("--no-jobs", action="store_true",
                   help="process files only; leave scheduled jobs to another daemon")
    p.add_argument("--upgrade", action="store_true",
                   help="apply pending database migrations before starting, instead of refusing to start")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("check-config", help="check the configuration and what the database must agree with",
                       description="Report every configuration problem at once, one line each (exit 78), "
                                   "including folders, handlers, jobs, the metrics port, and settings that "
                                   "name database rows (e.g. [ach.payees.NAME]).")
    p.set_defaults(func=cmd_check_config)

    p = sub.add_parser("status", help="files waiting per channel and folder, the oldest wait, the last errors",
                       description="Count the files the daemon will pick up in each inbox, the files in hand "
                                   "(work) and in error/, with the oldest age; temporary, hidden and signal "
                                   "files are not counted.")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("errors", help="list the files in error/ with their reasons",
                       description="List the files in error/ (and duplicates) that `retry` can send back, "
                                   "with the reason, line and field from their error report.")
    p.add_argument("--channel", metavar="CHANNEL", help="only this channel's files")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of text")
    p.set_defaults(func=cmd_errors)

    p = sub.add_parser("retry", help="send files from error/ back to their inbox once the cause is fixed",
                       description="Move files that `spoolgate errors` lists back into their inbox; the "
                                   "daemon then processes them again.")
    p.add_argument("files", nargs="*", metavar="FILE",
                   help="a file as `errors` lists it: #ID, ID, NAME, CHANNEL/NAME or its path in error/")
    p.add_argument("--all", action="store_true", help="every file that `errors` lists")
    p.add_argument("--channel", metavar="CHANNEL", help="with --all: only this channel's files")
    add_actor_args(p)
    p.set_defaults(func=cmd_retry)

    p = sub.add_parser("process", help="show what the daemon would do with FILE, without changing anything",
                       description="Route FILE as the daemon would, run its handler in a transaction that is "
                                   "rolled back, and report the outcome and the rows it would change. Nothing "
                                   "is written or moved. Exit 0 if it would be processed, 1 if not.")
    p.add_argument("file", metavar="FILE", help="the file to try (it stays where it is)")
    p.add_argument("--dry-run", action="store_true", required=False,
                   help="required: only dry runs are supported; drop the file into its inbox to process it")
    p.add_argument("--channel", metavar="CHANNEL", help="the channel to try it on (default: the inbox it is in)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_process)

    p = sub.add_parser("db", help="database schema: upgrade or check",
                       description="The database schema is built by the shipped migrations.")
    dsub = p.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    dsub.add_parser("upgrade", help="apply pending migrations",
                    description="Apply every pending migration.").set_defaults(func=cmd_db)
    dsub.add_parser("check", help="fail if the code's tables and the migrations disagree",
                    description="Exit 1 if the models and the migrations disagree.").set_defaults(func=cmd_db)

    p = sub.add_parser("ledger", help="the ledger: what happened to each file",
                       description="The ledger records every file the daemon took, its state and where it went.")
    lsub = p.add_subparsers(dest="ledger_command", required=True, metavar="LEDGER_COMMAND")
    ls = lsub.add_parser("show", help="show the ledger rows of a file",
                         description="Show the ledger rows of a file as JSON.")
    ls.add_argument("ref", metavar="FILE", help="the file's name, path, sha256 or ledger id")
    ls.set_defaults(func=cmd_ledger)

    p = sub.add_parser("jobs", help="scheduled jobs: list them or run one now",
                       description="Scheduled jobs configured under [jobs.NAME].")
    jsub = p.add_subparsers(dest="jobs_command", required=True, metavar="JOBS_COMMAND")
    jsub.add_parser("list", help="each job with its next run and last outcome",
                    description="Each job with its interval, next run and last outcome.").set_defaults(func=cmd_jobs)
    jr = jsub.add_parser("run", help="run a job now, outside its schedule",
                         description="Run a job now. Its schedule is not changed.")
    jr.add_argument("name", metavar="NAME", help="the job's name, as in [jobs.NAME]")
    jr.add_argument("--dry-run", action="store_true",
                    help="do the work in transactions that are rolled back and record no run")
    add_actor_args(jr)
    jr.set_defaults(func=cmd_jobs)
