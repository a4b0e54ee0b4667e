"""What a settings file says that would stop the daemon, one line each.

The settings model (``store/config.py``) imports nothing above the store; these checks need the
handler registry and the filesystem, so they live with the process that uses them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from handlers.registry import job_kinds, known_handlers, validate_sections
from spool import fsops
from store.config import Channel, Settings


def _existing_parent(p: Path) -> Path:
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def validate(settings: Settings, *, check_filesystem: bool = True, channel_folders: bool = True) -> list[str]:
    """Every problem that would stop the daemon, one line each (empty: fine).

    ``channel_folders=False`` (the running daemon) leaves out a channel's unusable folders:
    they degrade that channel only, with a report, instead of stopping every channel."""
    problems: list[str] = []
    handlers = known_handlers()
    seen: dict[Path, str] = {}
    for cname, ch in settings.channels.items():
        for role in ("inbox", "work", "processed", "error"):
            folder: Path = getattr(ch, role).resolve()
            where = f"channels.{cname}.{role}"
            if folder in seen:
                problems.append(f"{where}: folder {folder} is also {seen[folder]}")
            seen[folder] = where
        for role in ("processed", "error", "work"):
            if fsops.is_inside(ch.inbox, getattr(ch, role)):
                problems.append(f"channels.{cname}.inbox: {ch.inbox} is inside its {role} folder")
        for i, r in enumerate(ch.routes):
            where = f"channels.{cname}.routes[{i}]"
            if r.handler not in handlers:
                problems.append(f"{where}: unknown handler {r.handler!r} (known: {', '.join(sorted(handlers))})")
            probe = r.pattern[3:] if r.pattern.startswith("re:") else r.pattern
            if ch.is_denied(probe) or ch.is_signal_name(probe):
                problems.append(f"{where}: pattern {r.pattern!r} matches only temporary, hidden or signal names")
        if not ch.routes:
            problems.append(f"channels.{cname}: no routes")
        problems.extend(_expectation_problems(settings, cname, ch))
    for oname, o in settings.outbound.items():
        folder = o.folder.resolve()
        if folder in seen:
            problems.append(f"outbound.{oname}.folder: {folder} is also {seen[folder]}")
        seen[folder] = f"outbound.{oname}.folder"
    kinds = job_kinds()
    for jname, job in settings.jobs.items():
        if job.kind not in kinds:
            problems.append(f"jobs.{jname}.kind: unknown job kind {job.kind!r} (known: {', '.join(sorted(kinds))})")
        if job.calendar not in ("us-fed", "dk-bank", "none"):
            problems.append(f"jobs.{jname}.calendar: unknown calendar {job.calendar!r}")
    problems.extend(validate_sections(settings))
    problems.extend(_database_url_problems(settings.database_url))
    if check_filesystem:
        problems.extend(_filesystem_problems(settings, channel_folders=channel_folders))
    return problems


def _expectation_problems(settings: Settings, cname: str, ch: Channel) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for i, e in enumerate(ch.expectations):
        where = f"channels.{cname}.expectations[{i}]"
        if e.name in seen:
            problems.append(f"{where}: name {e.name!r} is used twice in this channel")
        seen.add(e.name)
        if e.pattern.startswith("re:"):
            try:
                re.compile(e.pattern[3:])
            except re.error as exc:
                problems.append(f"{where}: bad regular expression {e.pattern!r}: {exc}")
                continue
        elif not e.pattern or "/" in e.pattern:
            problems.append(f"{where}: pattern {e.pattern!r} must be a non-empty file name pattern")
        probe = e.pattern[3:] if e.pattern.startswith("re:") else e.pattern
        if ch.is_denied(probe) or ch.is_signal_name(probe):
            problems.append(f"{where}: pattern {e.pattern!r} matches only temporary, hidden or signal names")
        if not e.weekdays and e.calendar not in ("us-fed", "dk-bank", "none"):
            problems.append(f"{where}.calendar: unknown calendar {e.calendar!r}")
        if not (e.recipients or ch.alert_recipients or settings.smtp.alert_recipients):
            problems.append(f"{where}: no recipients (set recipients, the channel's alert_recipients or "
                            "smtp.alert_recipients)")
    return problems


def _database_url_problems(url: str) -> list[str]:
    """The URL parses and its driver is installed (the daemon would fail at its first statement)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    try:
        make_url(url).get_dialect().import_dbapi()
    except NoSuchModuleError as exc:
        return [f"database_url: no database dialect for this URL ({exc})"]
    except (ArgumentError, ValueError):
        return ["database_url: not a valid database URL"]
    except ImportError as exc:
        return [f"database_url: the database driver is not installed ({exc.name or exc})"]
    return []


def _writable(folder: Path) -> bool:
    """A real write probe: ``os.access`` says yes to root even where writes fail (read-only mounts)."""
    import tempfile

    probe = _existing_parent(folder)
    try:
        fd, name = tempfile.mkstemp(prefix=".spoolgate-probe-", dir=probe)
    except OSError:
        return False
    os.close(fd)
    os.unlink(name)
    return True


def _filesystem_problems(settings: Settings, *, channel_folders: bool = True) -> list[str]:
    problems: list[str] = []
    for cname, ch in settings.channels.items() if channel_folders else ():
        devs: dict[str, int] = {}
        for role in ("inbox", "work", "processed", "error"):
            folder: Path = getattr(ch, role)
            probe = _existing_parent(folder)
            if not _writable(folder):
                problems.append(f"channels.{cname}.{role}: {folder} is not writable")
            devs[role] = probe.stat().st_dev
        if len(set(devs.values())) > 1:
            problems.append(f"channels.{cname}: inbox, work, processed and error must be on one filesystem "
                            f"(files are moved by rename): {devs}")
    for oname, o in settings.outbound.items():
        if not _writable(o.folder):
            problems.append(f"outbound.{oname}.folder: {o.folder} is not writable")
    for p, what in ((settings.state_dir, "state_dir"), (settings.spool_root, "spool_root")):
        if not _writable(p):
            problems.append(f"{what}: {p} is not writable")
    return problems
