"""housekeeping.spool-purge: remove processed/ history older than N days; error/ is never touched.

A file's age is the day of its dated folder (processed/YYYY/MM/DD, the day it
was filed) or, in undated channels, its inode change time (set when it was
linked into processed/). Emptied dated folders are removed too. The ledger
rows stay: they are the history of what was processed.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from handlers.housekeeping.options import PurgeOptions
from handlers.jobs import Job, JobContext, JobResult
from spool import fsops


class SpoolPurgeJob(PurgeOptions, Job):
    kind = "housekeeping.spool-purge"
    dry_run_safe = False  # moves files or talks to a remote system outside a unit of work
    short_task = "SpoolPrg"
    description = "delete processed/ files older than N days (never error/)"
    chunk_names = ()
    known = frozenset({"channels"})

    def check_options(self) -> list[str]:
        problems = self.purge_problems()
        problems.extend(f"unknown channel {c!r}" for c in self.options.get("channels", ())
                        if c not in self.settings.channels)
        return problems

    def run(self, ctx: JobContext) -> JobResult:
        days = self.days
        cutoff = ctx.now - dt.timedelta(days=days)
        names = list(self.options.get("channels", self.settings.channels))
        files = size = 0
        for name in names:
            ch = self.settings.channels[name]
            f, b = _purge(ch.processed, ch.error, cutoff, dated=ch.dated)
            if f:
                ctx.log.info("spool purge: %s: %d files, %d bytes older than %s", name, f, b, cutoff)
            files += f
            size += b
        return JobResult(outcome="success" if files else "noop", counts={"files": files, "bytes": size})


def _dated(rel: tuple[str, ...]) -> dt.date | None:
    """The date of a processed/[duplicates/]YYYY/MM/DD/NAME path, if it is one."""
    parts = rel[1:-1] if rel and rel[0] == "duplicates" else rel[:-1]
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None


def _purge(processed: Path, error: Path, cutoff: dt.datetime, *, dated: bool) -> tuple[int, int]:
    if not processed.is_dir():
        return 0, 0
    error = error.resolve()
    files = size = 0
    for folder, _dirs, names in os.walk(processed, topdown=False):
        here = Path(folder)
        if here.resolve().is_relative_to(error):
            continue
        for name in names:
            p = here / name
            st = os.lstat(p)
            rel = p.relative_to(processed).parts
            day = _dated(rel) if dated else None
            if day is not None:
                old = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC) <= cutoff
            else:
                old = st.st_ctime < cutoff.timestamp()
            if old:
                os.unlink(p)
                files += 1
                size += st.st_size
        if dated and here != processed and here.name.isdigit():
            try:
                os.rmdir(here)  # an emptied YYYY, MM or DD folder; fails (and stays) when not empty
            except OSError:
                pass
    if files:
        fsops.fsync_dir(processed)
    return files, size
