"""bills.xfer: move bill files from the input folder into the bills channel's inbox (seed 000 "Bill Xfer").

``RENAME`` (one filesystem) links the file under its new name and then unlinks
the old one, so a crash leaves at most both names of one inode, which the next
run resolves. ``COPY_AND_DELETE`` (another filesystem) copies to a hidden temp
name in the target (``spool.atomic``), fsyncs it, records the transfer in
``bill_transfers``, links the copy into place (never over a file) and only then
removes the source; the next run finishes a recorded transfer and discards an
unrecorded (partial) copy. Recovery's sweep leaves a recorded copy alone. The
inbox never sees a partial file and a file is never delivered twice.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import os
import time
from pathlib import Path

from sqlalchemy import select

from handlers.jobs import Job, JobContext, JobResult
from spool import atomic, fsops
from spool.crashpoints import crashpoint
from store.config import DEFAULT_DENY
from store.db import utcnow
from store.models.bills import BillTransfer, TransferState

METHODS = ("RENAME", "COPY_AND_DELETE")
OPTIONS = {"source", "target", "channel", "method", "move.method", "min_age_s"}
#: the temp names copies had before ``spool.atomic``: a leftover is still finished or removed
LEGACY_PREFIX = ".xfer."
LEGACY_SUFFIX = ".tmp"
CHUNK = 1 << 20


class XferError(Exception):
    """A transfer that cannot proceed (wrong method for the filesystems, a name clash)."""


class BillXferJob(Job):
    kind = "bills.xfer"
    dry_run_safe = False  # moves files or talks to a remote system outside a unit of work
    short_task = "BillXfer"
    description = "move bill files from the input folder to the bill processing folder"

    @property
    def method(self) -> str:
        return str(self.options.get("move.method", self.options.get("method", "RENAME"))).upper()

    known_options = OPTIONS

    def check_options(self) -> list[str]:
        problems = super().check_options()
        if self.method not in METHODS:
            problems.append(f"move.method must be RENAME or COPY_AND_DELETE, not {self.method!r}")
        if "target" not in self.options and str(self.options.get("channel", "bills")) not in self.settings.channels:
            problems.append("no target folder and no such channel: set target or channel")
        return problems

    def folders(self) -> tuple[Path, Path]:
        source = self.settings.path(str(self.options.get("source", "bills/in")))
        if "target" in self.options:
            return source, self.settings.path(str(self.options["target"]))
        channel = str(self.options.get("channel", "bills"))
        try:
            return source, self.settings.channels[channel].inbox
        except KeyError:
            raise XferError(f"no target folder and no channel {channel!r}") from None

    def run(self, ctx: JobContext) -> JobResult:
        source, target = self.folders()
        fsops.ensure_dir(source)
        fsops.ensure_dir(target)
        method = self.method
        if method not in METHODS:
            raise XferError(f"move.method must be RENAME or COPY_AND_DELETE, not {method!r}")
        recovered = self._recover(ctx, target)
        min_age = float(self.options.get("min_age_s", 2.0))
        channel = None if "target" in self.options else self.settings.channels.get(
            str(self.options.get("channel", "bills")))
        moved = 0
        # Signal files go after the data files they vouch for, so the inbox never sees a signal first.
        for entry in sorted(fsops.scan(source),
                            key=lambda e: (channel is not None and channel.is_signal_name(e.name), e.name)):
            if entry.kind != "file" or any(fnmatch.fnmatchcase(entry.name, p) for p in DEFAULT_DENY):
                continue
            if time.time() - entry.mtime_ns / 1e9 < min_age:
                continue  # possibly still being written
            if method == "RENAME":
                self._rename(entry.path, target)
            else:
                self._copy_and_delete(ctx, entry.path, target)
            moved += 1
        counts = {"moved": moved, "recovered": recovered}
        ctx.log.info("bill xfer %s -> %s (%s): %s", source, target, method, counts)
        return JobResult(outcome="success" if moved or recovered else "noop", counts=counts)

    # -- RENAME ------------------------------------------------------------------------------------
    def _rename(self, src: Path, target: Path) -> None:
        name = src.name
        if (target / name).exists() and not _same_inode(src, target / name):
            raise XferError(f"{target / name} already exists; not overwriting it")
        try:
            os.link(src, target / name, follow_symlinks=False)
        except FileExistsError:
            pass  # linked by a run that died before unlinking the source
        except OSError as exc:
            if exc.errno == errno.EXDEV:
                raise XferError(f"move.method RENAME cannot move {src} to {target}: different filesystems; "
                                f"use COPY_AND_DELETE") from exc
            raise
        fsops.fsync_dir(target)
        crashpoint("bills_xfer_after_place")
        os.unlink(src)
        fsops.fsync_dir(src.parent)

    # -- COPY_AND_DELETE ---------------------------------------------------------------------------
    def _copy_and_delete(self, ctx: JobContext, src: Path, target: Path) -> None:
        final = target / src.name
        if final.exists():
            raise XferError(f"{final} already exists; not overwriting it")
        temp, digest, size = _copy_synced(src, final)
        with ctx.unit() as uow:
            row = BillTransfer(source=str(src), target=str(final), temp=str(temp), sha256=digest, size=size,
                               state=TransferState.PLACING)
            uow.session.add(row)
            uow.session.flush()
            row_id = row.id
        self._place(ctx, row_id, src, temp, final, digest, size)

    def _place(self, ctx: JobContext, row_id: int, src: Path, temp: Path, final: Path, digest: str,
               size: int) -> None:
        """Rename the recorded copy into place, drop the source, mark the transfer done: the second of
        a copy's two units of work on purpose (the first recorded it), so ``_recover`` finishes a crash
        between them."""
        if temp.exists():
            try:
                atomic.link_no_clobber(temp, final)
            except FileExistsError:
                raise XferError(f"{final} appeared while transferring {src}; left {temp} for an operator") from None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            atomic.release(temp)
            fsops.fsync_dir(final.parent)
        crashpoint("bills_xfer_after_place")
        if src.exists() and _matches(src, digest, size):
            os.unlink(src)
            fsops.fsync_dir(src.parent)
        with ctx.unit() as uow:
            row = uow.session.get(BillTransfer, row_id)
            assert row is not None
            row.state = TransferState.DONE
            row.finished_at = utcnow()

    def _recover(self, ctx: JobContext, target: Path) -> int:
        """Finish recorded transfers; drop copies that never got recorded (a crash mid-copy)."""
        with ctx.unit() as uow:
            pending = [(r.id, Path(r.source), Path(r.temp), Path(r.target), r.sha256, r.size)
                       for r in uow.session.scalars(select(BillTransfer)
                                                    .where(BillTransfer.state == TransferState.PLACING))]
        for row_id, src, temp, final, digest, size in pending:
            ctx.log.warning("bill xfer: finishing the interrupted transfer of %s", src)
            self._place(ctx, row_id, src, temp, final, digest, size)
        known = {p[2] for p in pending}
        legacy = [e.path for e in fsops.scan(target) if e.kind == "file" and e.name.startswith(LEGACY_PREFIX)
                  and e.name.endswith(LEGACY_SUFFIX)]
        for path in [*legacy, *atomic.orphans(target)]:
            if path not in known:
                ctx.log.warning("bill xfer: removing the partial copy %s", path)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
        return len(pending)


def _copy_synced(src: Path, final: Path) -> tuple[Path, str, int]:
    """Copy ``src`` to a durable hidden temp file beside ``final``; its path, sha256 and size."""
    fd_in = fsops.open_regular(src)
    with os.fdopen(fd_in, "rb", buffering=0) as fin, atomic.AtomicFile(final, mode=0o640) as out:
        while chunk := fin.read(CHUNK):
            out.write(chunk)
            crashpoint("bills_xfer_mid_copy")
        return out.stage(), out.sha256, out.size


def _matches(path: Path, digest: str, size: int) -> bool:
    """The source is still the file we copied (not a new file dropped under the same name)."""
    got, n = fsops.sha256_file(path)
    return n == size and got == digest


def _same_inode(a: Path, b: Path) -> bool:
    sa, sb = os.lstat(a), os.lstat(b)
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)
