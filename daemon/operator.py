"""What an operator does to inbound files by hand: send them back from error/, try one dry.

``retry`` moves filed files back to their inbox (the ledger row becomes ``retried``; the file is
claimed afresh like any new arrival). ``dry_run`` answers "what would the daemon do with this
file" with the daemon's own checks and handler, inside one transaction that is rolled back.
Who asked and why is recorded by ``daemon/operator_actions.py``, which calls these.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, select, update

from daemon.reports import report_from
from formats.errors import FormatError, IssueCode
from handlers.base import FileContext, FileInfo, Rejected, RetryLater
from handlers.registry import handler_class
from spool import filing, fsops, owner
from store.config import DedupPolicy, Settings
from store.db import Database, is_transient, utcnow
from store.models.core import FileState, SpoolFile
from store.unit import UnitOfWork


def retry(settings: Settings, db: Database, ref: str) -> list[str]:
    """Send files from error/ (or filed duplicates) back to their inbox: by ledger id, name, or ``*``.
    Returns ``channel/name`` of each file moved; FileExistsError when the inbox already holds one."""
    with db.transaction() as s:
        q = select(SpoolFile).where(SpoolFile.state.in_([FileState.ERROR, FileState.DUPLICATE]))
        if ref != "*":
            if ref.isdigit():
                q = q.where(SpoolFile.id == int(ref))
            else:
                base = Path(ref).name
                q = q.where((SpoolFile.original_name == base) | (SpoolFile.final_path.like(f"%/{base}")))
        rows = [(r.id, r.channel, r.original_name, r.state, r.final_path) for r in s.scalars(q.order_by(SpoolFile.id))]
    moved = []
    for file_id, channel, name, state, final_path in rows:
        ch = settings.channels.get(channel)
        if ch is None or final_path is None:
            continue
        src = Path(final_path)
        if not src.exists():
            continue
        if not fsops.is_inside(src, ch.error) and state != FileState.DUPLICATE:
            continue
        dst = filing.inbox_target(ch.inbox, name)
        with db.transaction() as s:
            s.execute(update(SpoolFile).where(SpoolFile.id == file_id).values(state=FileState.RETRIED))
        filing.send_back(src, dst)
        moved.append(f"{channel}/{name}")
    return moved


def dry_run(settings: Settings, db: Database, path: Path, channel: str, *,
            clock: Callable[[], Any] = utcnow) -> dict[str, Any]:
    """What the daemon would do with ``path``: the same checks, then the handler inside one
    transaction that is rolled back. Nothing is committed, no file is moved, and an outbound
    file staged by the handler is removed again (PostgreSQL sequences do not roll back)."""
    ch = settings.channels[channel]
    route = ch.route_for(path.name)
    report: dict[str, Any] = {"file": str(path), "channel": channel,
                              "route": route.pattern if route else None,
                              "handler": route.handler if route else None}
    if ch.is_denied(path.name) or ch.is_signal_name(path.name):
        return {**report, "outcome": "never picked",
                "reason": "a temporary, hidden or signal-file name; the daemon leaves it in the inbox"}
    if not ch.enabled:
        return {**report, "outcome": "never picked", "reason": f"channel {channel} is disabled"}
    entry = fsops.lstat_entry(path)
    if entry is None:
        return {**report, "outcome": "missing", "reason": "no such file"}
    if entry.kind != "file":
        return {**report, "outcome": "would be refused",
                "reason": f"not a regular file ({entry.kind}); filed to error/ without being opened"}
    if route is None:
        return {**report, "outcome": "would be rejected", "reason": "no route", "code": IssueCode.NO_ROUTE}
    if entry.size == 0 and not route.allow_empty:
        return {**report, "outcome": "would be rejected", "reason": "empty file",
                "code": IssueCode.EMPTY_FILE}
    sha, size = fsops.sha256_file(path)
    changes: Counter[str] = Counter()
    unit = UnitOfWork(db, settings, source="dry-run", dry_run=True)
    try:
        with _track_changes(db.engine, changes):
            s = unit.session
            earlier = None if ch.dedup is DedupPolicy.REPROCESS else s.scalar(
                select(SpoolFile.id).where(SpoolFile.channel == channel, SpoolFile.dedup_key == sha))
            report["duplicate_of"] = earlier
            if earlier is not None:
                where = "processed/duplicates" if ch.dedup is DedupPolicy.IGNORE else "error/"
                return {**report, "outcome": "would be filed as duplicate",
                        "reason": f"same content as file {earlier}; filed to {where}, database untouched"}
            row = SpoolFile(channel=channel, original_name=path.name, work_name=f"dry-run.{path.name}",
                            sha256=sha, size=size, state=FileState.PROCESSING,
                            owner=settings.identity or owner.token(), claimed_at=clock())
            s.add(row)
            s.flush()
            info = FileInfo(row.id, channel, path.name, sha, size, row.claimed_at, route.pattern, route.handler)
            ctx = FileContext(unit=unit.work, settings=settings, channel=channel, file=info, path=path,
                              options=route.options, now=clock(), dry_run=True,
                              log=logging.getLogger(f"spoolgate.handler.{route.handler}"))
            handler = handler_class(route.handler)(settings, route.options)
            with os.fdopen(fsops.open_regular(path), "rb") as stream:
                result = handler.handle(ctx, stream)
            s.flush()
            report.update(outcome="would process", counts=result.counts)
    except (Rejected, FormatError, fsops.UnsafeName) as exc:
        report.update(outcome="would be rejected", **report_from(exc))
    except RetryLater as exc:
        report.update(outcome="would be retried later", reason=str(exc) or "the handler asked to wait")
    except Exception as exc:
        if is_transient(exc):
            raise
        bad = report_from(exc)
        bad.pop("traceback", None)
        report.update(outcome="would be rejected", **bad)
    finally:
        unit.rollback()
    changes.pop("insert spool_files", None)
    report["changes"] = dict(changes)
    return report


_VERB_TABLE = re.compile(r"^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+\"?(\w+)", re.IGNORECASE)


@contextmanager
def _track_changes(engine: Any, counter: Counter[str]) -> Iterator[None]:
    """Count rows each INSERT/UPDATE/DELETE touches, ORM flushes and bulk statements alike."""

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        m = _VERB_TABLE.match(statement)
        if not m:
            return
        verb = m.group(1).split()[0].lower()
        rows = len(parameters) if executemany and verb == "insert" else max(cursor.rowcount, 1)
        counter[f"{verb} {m.group(2)}"] += rows

    event.listen(engine, "after_cursor_execute", after)
    try:
        yield
    finally:
        event.remove(engine, "after_cursor_execute", after)
