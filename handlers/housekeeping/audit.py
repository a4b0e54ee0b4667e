"""housekeeping.audit-purge: export audit events older than N days, then delete them (seed 000 "Audit Purge").

Per chunk of ``purge.chunk.size`` events: append them as JSON lines to
``logs/auditEvents_yyyyMMddhhmmss.log`` and fsync; then, in one transaction,
delete exactly those events and record the chunk's byte range in
``audit_exports``. The file is therefore valid up to the last recorded
``end_offset``. A crash after the fsync and before the commit leaves a tail
whose events are still in the table: the next run cuts every export file back
to its recorded end (or removes it when nothing was recorded) before exporting
again, so no event is lost and none appears twice. Each chunk is therefore two
units of work on purpose (read, then delete and record), with the export file
written and fsynced between them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from handlers.housekeeping.options import PurgeOptions
from handlers.jobs import Job, JobContext, JobResult
from spool import fsops
from spool.crashpoints import crashpoint
from store.models.bills import AuditEvent, AuditExport

FILE_RE = re.compile(r"auditEvents_\d{14}(?:_\d+)?\.log")


class AuditPurgeJob(PurgeOptions, Job):
    kind = "housekeeping.audit-purge"
    dry_run_safe = False  # moves files or talks to a remote system outside a unit of work
    short_task = "AudPurge"
    description = "export audit events older than N days to logs/auditEvents_*.log, then delete them"
    days_names = ("older_than_days", "Keep.audit.for.x.days")
    known = frozenset({"logs_dir", "dir.logs"})

    def check_options(self) -> list[str]:
        return self.purge_problems()

    def logs_dir(self) -> Path:
        p = Path(str(self.options.get("logs_dir", self.options.get("dir.logs", "logs"))))
        return p if p.is_absolute() else self.settings.base_dir / p

    def run(self, ctx: JobContext) -> JobResult:
        days, chunk = self.days, self.chunk
        logs = self.logs_dir()
        fsops.ensure_dir(logs)
        cut = reconcile(ctx, logs)
        cutoff = ctx.now - dt.timedelta(days=days)
        path: Path | None = None
        exported = 0
        while True:
            with ctx.unit() as uow:
                events = list(uow.session.scalars(select(AuditEvent).where(AuditEvent.created_at < cutoff)
                                                  .order_by(AuditEvent.id).limit(chunk)))
                lines = b"".join(_line(e) for e in events)
                ids = [e.id for e in events]
            if not ids:
                break
            if path is None:
                path = _new_file(logs, ctx.now)
            start, end = _append(path, lines)
            crashpoint("audit_purge_after_export")
            with ctx.unit() as uow:
                s = uow.session
                gone = s.execute(delete(AuditEvent).where(AuditEvent.id.in_(ids)))
                if gone.rowcount != len(ids):  # type: ignore[attr-defined]
                    raise RuntimeError(f"audit events {ids[0]}..{ids[-1]} changed while exporting; "
                                       f"the export tail is cut back on the next run")
                s.add(AuditExport(file=path.name, run_id=ctx.run_id, first_event=ids[0], last_event=ids[-1],
                                  events=len(ids), start_offset=start, end_offset=end, created_at=ctx.now))
            exported += len(ids)
            crashpoint("audit_purge_after_chunk")
        counts = {"exported": exported, "deleted": exported, "tail_bytes_cut": cut}
        return JobResult(outcome="success" if exported else "noop", counts=counts,
                         message=f"export file {path}" if path else "")


def reconcile(ctx: JobContext, logs: Path) -> int:
    """Cut each export file back to its last committed byte; drop files with nothing committed."""
    with ctx.unit() as uow:
        ends: dict[str, int] = {name: end for name, end in uow.session.execute(
            select(AuditExport.file, func.max(AuditExport.end_offset)).group_by(AuditExport.file))}
    cut = 0
    for entry in fsops.scan(logs):
        if entry.kind != "file" or not FILE_RE.fullmatch(entry.name):
            continue
        end = ends.get(entry.name)
        if end is None:
            ctx.log.warning("audit purge: removing %s, whose events were never deleted", entry.path)
            cut += entry.size
            os.unlink(entry.path)
            fsops.fsync_dir(logs)
        elif entry.size > end:
            ctx.log.warning("audit purge: cutting %s back from %d to %d bytes (uncommitted tail)",
                            entry.path, entry.size, end)
            cut += entry.size - end
            fd = os.open(entry.path, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            try:
                os.ftruncate(fd, end)
                os.fsync(fd)
            finally:
                os.close(fd)
        elif entry.size < end:
            raise RuntimeError(f"{entry.path} is shorter ({entry.size}) than its recorded export ({end} bytes)")
    return cut


def _new_file(logs: Path, now: dt.datetime) -> Path:
    stamp = f"auditEvents_{now.astimezone():%Y%m%d%H%M%S}"
    path, n = logs / f"{stamp}.log", 0
    while path.exists():
        n += 1
        path = logs / f"{stamp}_{n}.log"
    return path


def _append(path: Path, data: bytes) -> tuple[int, int]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC, 0o640)
    try:
        start = os.fstat(fd).st_size
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    if start == 0:
        fsops.fsync_dir(path.parent)
    return start, start + len(data)


def _line(e: AuditEvent) -> bytes:
    rec: dict[str, Any] = {"id": e.id, "created_at": e.created_at.isoformat(), "job_name": e.job_name,
                           "event_type": e.event_type, "actor": e.actor, "object_type": e.object_type,
                           "object_id": e.object_id, "detail": e.detail}
    return json.dumps(rec, sort_keys=True, default=str).encode() + b"\n"
