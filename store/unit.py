"""The unit of work: one transaction plus the outbound files and messages it decides.

Outbound files are staged (written and fsynced under a hidden name) inside the
transaction and recorded in ``outbound_files``; they become visible only after
the commit (``deliver``). A rollback removes the staged copies. A crash after
the commit is finished by recovery from the recorded rows.

Two sides: ``UnitOfWork`` is the owner's (the pipeline for a file,
``JobContext.unit`` for a job): it commits, rolls back and delivers. ``Work`` is
what the owner lends to a handler or a job's body: the session as a
``UnitSession`` and the outbound files and messages, with no way to end the
transaction, so a handler's changes land with the ledger's "done" or not at all.
Both the type checker (no such attribute) and the runtime (``AttributeError``)
refuse a ``commit`` through them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy import update

from spool import events
from spool.outbound import Staged, StagingWriter, finalize
from store.db import Database, describe, utcnow
from store.models.core import Notification, OutboundFile, OutboundItem, OutboundState
from store.session import lend

if TYPE_CHECKING:
    from store.config import Settings

log = logging.getLogger("spoolgate.outbound")

class OutboundHandle:
    """One outbound file being written inside a unit of work."""

    def __init__(self, unit: UnitOfWork, target: str, writer: StagingWriter) -> None:
        self._unit = unit
        self.target = target
        self.writer = writer
        self.summary: dict[str, Any] = {}
        self._items: list[tuple[str, str, int | None]] = []
        self.row: OutboundFile | None = None

    @property
    def name(self) -> str:
        return self.writer.name

    @property
    def records(self) -> int:
        return self.writer.records

    @records.setter
    def records(self, n: int) -> None:
        self.writer.records = n

    def write(self, data: bytes) -> int:
        return self.writer.write(data)

    def item(self, kind: str, ref: object, amount: int | None = None) -> None:
        """Record that this file carries ``kind`` ``ref`` (e.g. payment 123)."""
        self._items.append((kind, str(ref), amount))

    def close(self) -> OutboundFile:
        if self.row is not None:
            return self.row
        st = self.writer.close()
        row = OutboundFile(target=self.target, folder=str(st.folder), name=st.name, temp_name=st.temp_name,
                           signal_name=st.signal_name, signal_style=st.signal_style, mode=st.mode,
                           sha256=st.sha256, size=st.size, records=st.records, source=self._unit.source,
                           summary=self.summary or None, state=OutboundState.STAGED)
        self._unit.session.add(row)
        self._unit.session.flush()
        # In bulk instead of an ORM object per item (unnest arrays on PostgreSQL): a payment file
        # carries 100,000 of them.
        from store.bulk import insert_dicts

        insert_dicts(self._unit.session, OutboundItem.__tablename__,
                     [{"outbound_id": row.id, "kind": k, "ref": r, "amount": a} for k, r, a in self._items])
        self._unit._staged.append((st, row))
        self.row = row
        return row

    def __enter__(self) -> OutboundHandle:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        if et is None:
            self.close()
        else:
            self.writer.abort()


class UnitOfWork:
    """The owner's side: ``with UnitOfWork(...) as work:`` lends a ``Work``, then commits and
    delivers on success or rolls back on error."""

    def __init__(self, db: Database, settings: Settings, *, source: str | None = None,
                 dry_run: bool = False) -> None:
        self.db = db
        self.settings = settings
        self.source = source
        self.dry_run = dry_run
        db.acquire()
        self._locked = True
        try:
            self.session = db.sessions()
            self.session.begin()
        except BaseException:
            self._unlock()
            raise
        self._writers: list[StagingWriter] = []
        self._staged: list[tuple[Staged, OutboundFile]] = []
        self.delivered: list[OutboundFile] = []
        #: what the owner lends to a handler or a job's body
        self.work = Work(self)

    def outbound(self, target: str, name: str) -> OutboundHandle:
        """Open an outbound file in the configured target folder."""
        try:
            conf = self.settings.outbound[target]
        except KeyError:
            raise KeyError(f"no outbound target {target!r} configured") from None
        writer = StagingWriter(conf.folder, name, mode=conf.mode, signal_name=conf.signal_name(name),
                               signal_style=str(conf.signal))
        self._writers.append(writer)
        return OutboundHandle(self, target, writer)

    def outbound_to(self, folder: Path, name: str, *, target: str = "internal", signal: str = "none",
                    mode: int = 0o640) -> OutboundHandle:
        """An outbound file into a folder that is not a configured target (e.g. the next stage's inbox)."""
        writer = StagingWriter(folder, name, mode=mode, signal_name=None if signal == "none" else f"{name}.done",
                               signal_style=signal)
        self._writers.append(writer)
        return OutboundHandle(self, target, writer)

    def notify(self, recipients: list[str] | tuple[str, ...], subject: str, body: str, *,
               lane: str = "immediate", kind: str = "message", ref: str | None = None) -> Notification | None:
        if not recipients:
            return None
        n = Notification(lane=lane, kind=kind, recipients=list(recipients), subject=subject, body=body, ref=ref)
        self.session.add(n)
        return n

    def _unlock(self) -> None:
        if self._locked:
            self._locked = False
            self.db.release()

    def commit(self) -> None:
        if self.dry_run:
            self.rollback()
            return
        try:
            self.session.commit()
            self.db.committed()
        except BaseException:
            self.rollback()
            raise
        finally:
            self.session.close()
            self._unlock()
        self._writers = []  # committed: the staged files are the rows' now, never aborted
        self.db.wait_durable()

    def deliver(self) -> list[OutboundFile]:
        """After the commit: rename staged files into place, write signals, mark delivered."""
        done = []
        for st, row in self._staged:
            try:
                finalize(st)
            except Exception as exc:  # a full disk, a conflict: this file only; recovery retries it
                log.error("outbound %s/%s: delivery failed; recovery will retry: %s", st.folder, st.name,
                          describe(exc))
                events.emit("outbound", row.target, "failure")
                continue
            events.emit("outbound", row.target, "delivered")
            done.append(row)
        if done:
            with self.db.transaction() as s:
                s.execute(update(OutboundFile).where(OutboundFile.id.in_([r.id for r in done]))
                          .values(state=OutboundState.DELIVERED, delivered_at=utcnow()))
        self.delivered = done
        self._staged = []
        return done

    def rollback(self) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()
            self._unlock()
            for w in self._writers:
                w.abort()
            self._staged = []

    def __enter__(self) -> Work:
        return self.work

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        if et is None:
            self.commit()
            if not self.dry_run:
                self.deliver()
        else:
            self.rollback()


class Work:
    """A unit of work as a handler or a job's body gets it: no commit, rollback or delivery."""

    __slots__ = ("_unit", "session")

    def __init__(self, unit: UnitOfWork) -> None:
        self._unit = unit
        self.session = lend(unit.session)

    @property
    def settings(self) -> Settings:
        return self._unit.settings

    @property
    def source(self) -> str | None:
        return self._unit.source

    @property
    def dry_run(self) -> bool:
        return self._unit.dry_run

    def outbound(self, target: str, name: str) -> OutboundHandle:
        """Open an outbound file in the configured target folder."""
        return self._unit.outbound(target, name)

    def outbound_to(self, folder: Path, name: str, *, target: str = "internal", signal: str = "none",
                    mode: int = 0o640) -> OutboundHandle:
        """An outbound file into a folder that is not a configured target (e.g. the next stage's inbox)."""
        return self._unit.outbound_to(folder, name, target=target, signal=signal, mode=mode)

    def notify(self, recipients: list[str] | tuple[str, ...], subject: str, body: str, *,
               lane: str = "immediate", kind: str = "message", ref: str | None = None) -> Notification | None:
        return self._unit.notify(recipients, subject, body, lane=lane, kind=kind, ref=ref)


def deliver_pending(db: Database, *, min_age_s: float = 0.0) -> int:
    """Recovery: finish committed-but-undelivered outbound files.

    ``min_age_s`` leaves alone files a live worker of this process is delivering right now.
    """
    import datetime as dt

    from sqlalchemy import select

    cutoff = utcnow() - dt.timedelta(seconds=min_age_s)
    with db.transaction() as s:
        rows = list(s.scalars(select(OutboundFile).where(OutboundFile.state == OutboundState.STAGED,
                                                         OutboundFile.created_at <= cutoff)))
    n = 0
    for row in rows:
        st = Staged(Path(row.folder), row.name, row.temp_name, row.sha256, row.size, row.records,
                    row.signal_name, row.signal_style, row.mode)
        try:
            finalize(st)
        except Exception as exc:
            log.error("outbound %s/%s: recovery delivery failed: %s", row.folder, row.name, describe(exc))
            events.emit("outbound", row.target, "failure")
            continue
        events.emit("outbound", row.target, "delivered")
        with db.transaction() as s:
            s.execute(update(OutboundFile).where(OutboundFile.id == row.id)
                      .values(state=OutboundState.DELIVERED, delivered_at=utcnow()))
        n += 1
    return n
