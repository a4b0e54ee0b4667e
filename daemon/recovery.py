"""Finish what an interruption left: rows in flight, work files without a row, temp files.

Run at start-up and periodically. From the ledger and work/ alone it tells which step a file
last completed (``daemon/pipeline.py`` lists them) and goes on from there: a decided file is
filed, an expired or dead holder's row is taken over and processed again, a work file whose
claim died before its insert gets its row, an interrupted refusal is refused again. Each
channel, file and folder is isolated: one that fails is logged and counted, and the pass goes on.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from daemon.reports import report, unreadable, unreadable_code
from formats.errors import IssueCode
from spool import filing, fsops, owner
from store.config import Channel
from store.models.core import OutboundFile

if TYPE_CHECKING:
    import datetime as dt

    from daemon.ledger import Ledger, Snap
    from daemon.outcome import Outcome
    from store.config import Settings
    from store.db import Database

log = logging.getLogger("spoolgate.pipeline")


class Pipeline(Protocol):
    """What recovery needs of the pipeline (``daemon.pipeline.Pipeline`` is one): it finishes files
    with the same steps a worker takes, without this module importing the pipeline."""

    settings: Settings
    db: Database
    ledger: Ledger
    clock: Callable[[], dt.datetime]

    def problem(self, where: str, name: str, exc: BaseException) -> None: ...
    def isolated(self, where: str, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...
    def fail(self, file_id: int, ch: Channel, partial: dict[str, Any]) -> Outcome: ...
    def finish_filing(self, file_id: int) -> None: ...
    def emit(self, outcome: Outcome) -> None: ...
    def refuse_in_work(self, channel: str, work_name: str, name: str, reason: str,
                       shown: str | None = None, code: IssueCode = ...) -> Outcome: ...


def recover(pipe: Pipeline, *, startup: bool = False, grace_s: float = 30.0) -> list[int]:
    """Reconcile work/ folders with the ledger. Returns files to process now."""
    from store.unit import deliver_pending

    todo: list[int] = []
    for cname, ch in pipe.settings.channels.items():
        try:
            _recover_channel(pipe, cname, ch, todo, startup=startup, grace_s=grace_s)
        except Exception as exc:
            pipe.problem(f"recovery {cname}", str(ch.work), exc)
    # Files handed back for processing count as in flight from now on, so the next
    # pass does not queue them again while they wait for a worker.
    pipe.ledger.inflight.update(todo)
    try:
        deliver_pending(pipe.db, min_age_s=0.0 if startup else 60.0)
    except Exception as exc:
        pipe.problem("recovery outbound", "pending deliveries", exc)
    sweep_temps(pipe, startup=startup)
    return todo


def sweep_temps(pipe: Pipeline, *, startup: bool = False) -> int:
    """Remove temporary files whose writer died (or this process's own, no longer written)."""
    from spool.outbound import orphan_temps

    settings = pipe.settings
    folders = {o.folder for o in settings.outbound.values()}
    folders |= {f for ch in settings.channels.values() for f in (ch.inbox, ch.error, ch.work)}
    folders |= fsops.temp_folders()
    if startup:
        folders |= _spool_folders(pipe)
    removed = 0
    for folder in sorted(folders):
        try:
            temps = orphan_temps(folder)
        except OSError as exc:
            pipe.problem("sweep", str(folder), exc)
            continue
        for tmp in temps:
            try:
                if (not startup and _is_staged(pipe, tmp)) or _is_held(pipe, tmp):
                    continue
                log.info("removing orphaned temporary file %s", fsops.escape_name(str(tmp)))
                tmp.unlink()
                removed += 1
            except FileNotFoundError:
                pass
            except Exception as exc:
                pipe.problem("sweep", tmp.name, exc)
    return removed


def _spool_folders(pipe: Pipeline) -> set[Path]:
    """Every folder under the spool root but the processed/ trees: where a writer that died
    (PGP output, an SFTP download, a package, a copy) may have left a temp file."""
    skip = {ch.processed for ch in pipe.settings.channels.values()}
    found: set[Path] = set()
    for top, dirs, _files in os.walk(pipe.settings.spool_root, onerror=lambda e: None):
        here = Path(top)
        dirs[:] = [d for d in dirs if here / d not in skip]
        found.add(here)
    return found


def _is_staged(pipe: Pipeline, tmp: Path) -> bool:
    with pipe.db.transaction() as s:
        return s.scalar(select(OutboundFile.id).where(OutboundFile.temp_name == tmp.name)) is not None


def _is_held(pipe: Pipeline, tmp: Path) -> bool:
    """A copy a recorded bill transfer still has to place (``handlers/bills/xfer``): removing it
    would make the transfer look placed and consumed, and its source would be deleted."""
    from store.models.bills import BillTransfer, TransferState

    with pipe.db.transaction() as s:
        held = s.scalars(select(BillTransfer.temp).where(BillTransfer.state == TransferState.PLACING))
        return any(Path(t).name == tmp.name for t in held)


def _recover_channel(pipe: Pipeline, cname: str, ch: Channel, todo: list[int], *, startup: bool,
                     grace_s: float) -> None:
    ledger = pipe.ledger
    now = pipe.clock()
    sole_owner = startup and pipe.db.is_sqlite
    # Held by a worker of ours before the read: a row read as in flight may have been decided and
    # filed since, and is no orphan; one a worker gave back is taken by the next pass.
    held = set(ledger.inflight)
    rows = ledger.in_flight(cname)
    on_disk = {e.name: e for e in fsops.scan(ch.work)}
    for snap in rows.values():
        if snap.id in held or snap.id in ledger.inflight:
            continue
        mine = snap.owner == ledger.identity
        expired = snap.lease_until is None or snap.lease_until < now
        if not (sole_owner or expired or mine or owner.is_dead(snap.owner)):
            continue
        got = pipe.isolated(f"recovery {cname}", snap.name, _recover_row, pipe, ch, snap, on_disk)
        if got is not None:
            todo.append(got)
    # Work files with a terminal row (filing interrupted) or no row (claim interrupted).
    for wname, entry in on_disk.items():
        if wname in rows or wname.startswith("."):
            continue
        got = pipe.isolated(f"recovery {cname}", wname, _recover_orphan, pipe, cname, ch, wname, entry,
                            sole_owner=sole_owner, grace_s=grace_s)
        if got is not None:
            todo.append(got)


def _recover_row(pipe: Pipeline, ch: Channel, snap: Snap, on_disk: dict[str, fsops.Entry]) -> int | None:
    if snap.work_name not in on_disk:
        if not (ch.work / snap.work_name).exists():
            pipe.fail(snap.id, ch, report("file missing from work folder after a crash", IssueCode.MISSING))
        return None
    if pipe.ledger.take_over(snap.id, snap.owner) is None:
        return None
    pipe.ledger.recovered.add(snap.id)
    return snap.id


def _recover_orphan(pipe: Pipeline, cname: str, ch: Channel, wname: str, entry: fsops.Entry, *,
                    sole_owner: bool, grace_s: float) -> int | None:
    original = filing.original_name(wname)
    try:
        wname.encode("utf-8")
    except UnicodeEncodeError:  # no row can hold this name
        _refuse_renamed(pipe, cname, ch, wname, "file name is not valid UTF-8")
        return None
    terminal_id = pipe.ledger.id_of_work_name(cname, wname)
    if terminal_id is not None:
        if terminal_id not in pipe.ledger.inflight:
            pipe.finish_filing(terminal_id)
        return None
    age = time.time() - entry.ctime_ns / 1e9
    if not sole_owner and age < grace_s and not filing.claimer_dead(wname):
        return None  # another daemon may be between its rename and its insert
    if entry.kind == "dir":
        return None
    if filing.is_refusal(wname):  # a refusal the crash interrupted
        pipe.emit(pipe.refuse_in_work(cname, wname, original, "refused before an interruption (a symlink, "
                                      "device or unsafe name; its original name is in the log)",
                                      code=IssueCode.REFUSED if entry.kind != "file"
                                      else IssueCode.UNSAFE_NAME))
        return None
    try:
        fsops.check_name(original)
    except fsops.UnsafeName as exc:
        _refuse_renamed(pipe, cname, ch, wname, str(exc))
        return None
    if entry.kind != "file":
        try:
            pipe.emit(pipe.refuse_in_work(cname, wname, original, "not a regular file (symlink, FIFO or "
                                          "device) left in the work folder: refused without following it"))
        except IntegrityError:
            pass
        return None
    try:
        sha, size = fsops.sha256_file(entry.path)
    except OSError as exc:
        if fsops.is_transient_os(exc):
            raise
        pipe.emit(pipe.refuse_in_work(cname, wname, original, unreadable(exc), code=unreadable_code(exc)))
        return None
    try:
        return pipe.ledger.insert_claims(cname, [(original, wname, sha, size)])[0]
    except IntegrityError:
        return None


def _refuse_renamed(pipe: Pipeline, cname: str, ch: Channel, wname: str, reason: str) -> None:
    """Refuse a work entry under a safe name (its own cannot be stored or filed)."""
    new_wname, safe = filing.refuse_in_place(ch.work, wname)
    pipe.emit(pipe.refuse_in_work(cname, new_wname, safe, reason,
                                  shown=fsops.escape_name(filing.original_name(wname)), code=IssueCode.UNSAFE_NAME))
