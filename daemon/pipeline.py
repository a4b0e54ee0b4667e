"""The life of an inbound file: claim, route, handle in one transaction, file away.

Every step is a single atomic filesystem transition or a single committed
transaction, and recovery can tell from the ledger and the folders which step
was last completed:

1. claim: rename inbox/NAME -> work/TOKEN.NAME (``spool/filing.py``), hash it, insert
   the ledger row (state processing, attempts 1, our lease; ``daemon/ledger.py``), then
   drop its signal file; ready files of one channel are claimed in runs that share one commit;
2. handle: the handler's changes, the outbound files it staged and the row's
   ``done`` (or duplicate) commit together;
3. file away: link into processed/YYYY/MM/DD/NAME (or error/NAME with
   NAME.error.json written first, ``daemon/reports.py``), unlink the work name; outbound
   files are renamed into place and signalled. The daemon fsyncs processed/ folders in
   batches: the ledger's durable ``done`` already says where the file belongs.

A crash between any two steps leaves a state ``daemon/recovery.py`` completes without
applying anything twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from daemon import recovery
from daemon.ledger import Claim, Ledger, Locked, Snap
from daemon.outcome import Outcome
from daemon.reports import (
    REFUSAL_CODES,
    alert,
    describe,
    full_report,
    report,
    report_from,
    unreadable,
    unreadable_code,
)
from daemon.retry import RetryPolicy, retryable
from formats.errors import FormatError, IssueCode
from handlers.base import FileContext, FileInfo, Handler, HandlerResult, Rejected, RetryLater
from handlers.registry import handler_class
from spool import filing, fsops, owner
from spool.crashpoints import crashpoint
from store.config import Channel, DedupPolicy, Route, Settings
from store.db import Database, is_transient, utcnow
from store.models.core import TERMINAL_STATES, FileState, SpoolFile
from store.unit import UnitOfWork

log = logging.getLogger("spoolgate.pipeline")


class Transient(Exception):
    """Retries for a transient error ran out; the file stays claimed for a later pass."""


class LeaseLost(Exception):
    """Another daemon took the file over (our lease expired); we drop it untouched."""


class Pipeline:
    """Processes files for every channel; thread-safe (one session per call)."""

    def __init__(self, settings: Settings, db: Database, *, identity: str | None = None,
                 clock: Callable[[], dt.datetime] = utcnow,
                 on_outcome: Callable[[Outcome], None] | None = None,
                 on_problem: Callable[[str], None] | None = None,
                 should_stop: Callable[[], bool] = lambda: False) -> None:
        self.settings = settings
        self.db = db
        self.identity = identity or settings.identity or owner.token()
        self.clock = clock
        self.on_outcome = on_outcome
        self.on_problem = on_problem
        self.ledger = Ledger(db, self.identity, clock=clock, lease_s=settings.lease_s,
                             policy=RetryPolicy.from_settings(settings), should_stop=should_stop)
        self._handlers: dict[tuple[str, int], Handler] = {}
        #: the daemon flushes processed/ folders in batches (``fsops.sync_dirty``); one-shot
        #: callers sync each filing at once
        self.defer_sync = False

    @property
    def inflight(self) -> set[int]:
        """Files this process holds now (``Ledger.inflight``)."""
        return self.ledger.inflight

    # -- configuration -------------------------------------------------------------------------
    def reload(self, settings: Settings) -> None:
        """New routes take effect for the next file; files in hand finish with the old ones."""
        self.settings = settings
        self.ledger.lease_s = settings.lease_s
        self.ledger.policy = RetryPolicy.from_settings(settings)
        self._handlers = {}

    def handler_for(self, channel: str, index: int, route: Route) -> Handler:
        key = (channel, index)
        h = self._handlers.get(key)
        if h is None:
            h = handler_class(route.handler)(self.settings, route.options)
            self._handlers[key] = h
        return h

    # -- claim ---------------------------------------------------------------------------------
    def claim(self, channel: str, path: Path) -> int | None:
        """Take ``path`` out of the inbox. None if someone else took it first."""
        ids = self.claim_many(channel, [path])
        return ids[0] if ids else None

    def claim_many(self, channel: str, paths: list[Path]) -> list[int]:
        """Take several ready files of one channel out of the inbox with one ledger commit.

        Each file is renamed into work/ on its own (the rename decides who owns it);
        their rows are inserted together, so a burst of small files costs one commit
        instead of one each. A file another process took first is skipped.
        """
        ch = self.settings.channels[channel]
        try:
            fsops.ensure_dir(ch.work)
        except OSError as exc:  # the channel's work folder, not the files: they wait in the inbox
            self.problem(f"claim {channel}", str(ch.work), exc)
            return []
        moved: list[tuple[str, str, list[Path]]] = []
        for path in paths:
            name = path.name
            try:
                signals = ch.signal_names(name)
                fsops.check_name(name, derived=tuple(signals))
            except fsops.UnsafeName as exc:
                self.isolated(f"refuse {channel}", name, self.refuse, channel, path, str(exc),
                              code=IssueCode.UNSAFE_NAME)
                continue
            try:
                work_name = filing.claim(path, ch.work)
            except FileNotFoundError:
                continue
            except OSError as exc:
                # the inbox or work folder, not the file: intake sees it again on its next scan
                self.problem(f"claim {channel}", name, exc)
                continue
            moved.append((name, work_name, [path.parent / sig for sig in signals]))
        if not moved:
            return []
        fsops.fsync_dir(ch.work)  # one journal commit makes every rename of the batch durable
        crashpoint("after_claim_rename")
        rows: list[Claim] = []
        for name, work_name, _ in moved:
            try:
                sha, size = fsops.sha256_file(ch.work / work_name)
            except OSError as exc:
                if fsops.is_transient_os(exc):  # left in work/: recovery claims it once the disk answers
                    self.problem(f"claim {channel}", name, exc)
                    continue
                self.isolated(f"refuse {channel}", name, self._refuse_emit, channel, work_name, name,
                              unreadable(exc), code=unreadable_code(exc))
                continue
            rows.append((name, work_name, sha, size))
        ids = self._insert_claims(channel, rows) if rows else []
        crashpoint("after_claim_insert")
        claimed = {work_name for _, work_name, _, _ in rows}
        for _, work_name, signals_ in moved:
            if work_name not in claimed:
                continue
            for sig in signals_:
                try:
                    os.unlink(sig)
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    self.problem(f"claim {channel}", sig.name, exc)
        return ids

    def _insert_claims(self, channel: str, rows: list[Claim]) -> list[int]:
        """A batch the database refuses for good is inserted row by row, so one row never
        strands the others in work/ without a ledger row."""
        try:
            return self.ledger.insert_claims(channel, rows)
        except Exception as exc:
            if len(rows) == 1 or is_transient(exc):
                raise
        ids: list[int] = []
        for row in rows:
            got = self.isolated(f"claim {channel}", row[0], self.ledger.insert_claims, channel, [row])
            ids.extend(got or [])
        return ids

    # -- isolation -----------------------------------------------------------------------------
    def problem(self, where: str, name: str, exc: BaseException) -> None:
        """One item of a loop failed in a way no report could record: logged, counted, skipped."""
        log.error("%s: %s skipped: %s", where, fsops.escape_name(name), describe(exc))
        if self.on_problem is not None:
            self.on_problem(where.split(" ", 1)[0])

    def isolated(self, where: str, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)``, or None after ``problem`` when it raises."""
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            self.problem(where, name, exc)
            return None

    # -- refusal -------------------------------------------------------------------------------
    def refuse(self, channel: str, path: Path, reason: str, *, code: IssueCode = IssueCode.REFUSED) -> Outcome | None:
        """A symlink, device or unsafe name: moved to error/ under a safe name, without being opened
        or followed; the report carries the original name, escaped."""
        ch = self.settings.channels[channel]
        got = filing.refuse(path, ch.work)
        if got is None:
            return None
        work_name, safe = got
        outcome = self.refuse_in_work(channel, work_name, safe, reason, shown=fsops.escape_name(path.name),
                                      code=code)
        self.emit(outcome)
        return outcome

    def refuse_in_work(self, channel: str, work_name: str, name: str, reason: str,
                       shown: str | None = None, code: IssueCode = IssueCode.REFUSED) -> Outcome:
        """An entry already in work/ the daemon must not interpret: a row for it, then error/. Only a
        regular file refused for its name is hashed (for the ledger); links and devices are never opened."""
        ch = self.settings.channels[channel]
        sha: str | None = None
        size: int | None = None
        if code is IssueCode.UNSAFE_NAME:
            try:
                sha, size = fsops.sha256_file(ch.work / work_name)
            except OSError:
                pass
        file_id = self.ledger.insert_refused(channel, name, work_name, sha, size)
        full = self._file_error(file_id, ch, {"reason": reason, "code": code,
                                              "original_name": shown if shown is not None else name})
        return Outcome(file_id, channel, name, FileState.ERROR, handler=full.get("handler") if full else None,
                       reason=reason)

    def _refuse_emit(self, channel: str, work_name: str, name: str, reason: str, *, code: IssueCode) -> None:
        self.emit(self.refuse_in_work(channel, work_name, name, reason, code=code))

    # -- process -------------------------------------------------------------------------------
    def process(self, file_id: int) -> Outcome:
        started = time.monotonic()
        self.inflight.add(file_id)
        try:
            outcome = self._process(file_id)
        finally:
            self.inflight.discard(file_id)
        outcome.duration_s = time.monotonic() - started
        self.emit(outcome)
        return outcome

    def emit(self, outcome: Outcome) -> None:
        """The one log line per file decision (WARNING when it went to error/), then the metrics."""
        level = logging.WARNING if outcome.state == FileState.ERROR else logging.INFO
        log.log(level, "file %s channel=%s id=%d handler=%s outcome=%s counts=%s duration=%.3fs%s",
                fsops.escape_name(outcome.name), outcome.channel, outcome.file_id, outcome.handler or "-",
                outcome.state, outcome.counts, outcome.duration_s,
                f" reason={outcome.reason!r}" if outcome.reason else "",
                extra={"channel": outcome.channel, "file": outcome.name, "file_id": outcome.file_id,
                       "handler": outcome.handler, "outcome": str(outcome.state), "counts": outcome.counts,
                       "duration": round(outcome.duration_s, 6), "code": outcome.code, "reason": outcome.reason})
        if self.on_outcome:
            self.on_outcome(outcome)

    def _process(self, file_id: int) -> Outcome:
        snap = self.ledger.claimed.pop(file_id, None) or self.ledger.snapshot(file_id)
        ch = self.settings.channels.get(snap.channel)
        if ch is None:
            return Outcome(file_id, snap.channel, snap.name, snap.state, reason="channel no longer configured")
        if snap.state in TERMINAL_STATES:
            self.finish_filing_isolated(file_id)
            return Outcome(file_id, snap.channel, snap.name, snap.state)
        if file_id in self.ledger.recovered:
            self.ledger.recovered.discard(file_id)
            refused = self._begin_again(file_id, ch, snap)
            if refused is not None:
                return refused
        work_path = ch.work / snap.work_name
        if not work_path.exists():
            return self.fail(file_id, ch, report("file missing from work folder", IssueCode.MISSING))
        try:
            for attempt in self.ledger.retrying(f"file {snap.channel}/{snap.name}"):
                with attempt:
                    result = self._apply(file_id, ch, work_path)
        except LeaseLost as exc:
            log.warning("file %s: %s", snap.name, exc,
                        extra={"channel": snap.channel, "file": snap.name, "file_id": file_id, "outcome": "released"})
            return Outcome(file_id, snap.channel, snap.name, "released", reason=str(exc))
        except (Rejected, FormatError, fsops.UnsafeName) as exc:
            return self.fail(file_id, ch, report_from(exc))
        except Exception as exc:
            if retryable(exc):
                log.error("file %s: still failing after retries, left claimed in %s for the next recovery pass: %s",
                          fsops.escape_name(snap.name), ch.work, describe(exc),
                          extra={"channel": snap.channel, "file": snap.name, "file_id": file_id,
                                 "code": IssueCode.TRANSIENT})
                self.ledger.give_back(file_id)
                raise Transient(str(exc)) from exc
            log.error("file %s: handler failed: %s", fsops.escape_name(snap.name), describe(exc),
                      exc_info=not isinstance(exc, DBAPIError),
                      extra={"channel": snap.channel, "file": snap.name, "file_id": file_id,
                             "code": IssueCode.HANDLER_EXCEPTION})
            return self.fail(file_id, ch, report_from(exc))
        try:
            if result.path is not None:
                self.file_away(file_id, ch, snap.work_name, result.path, None)
            else:
                self.finish_filing(file_id)
        except Exception as exc:
            self.problem(f"filing {snap.channel}", snap.name, exc)
        return result

    def _begin_again(self, file_id: int, ch: Channel, snap: Snap) -> Outcome | None:
        """Record a new attempt before a handler runs on a file whose processing was interrupted.

        Attempts count starts, not takeovers: a file claimed in a run and never started
        when the process died is not one that crashes the daemon. The first attempt is
        the claim's own (attempts 1, no extra commit on the normal path).
        """
        n = self.ledger.begin_again(file_id)
        if n is None:
            return Outcome(file_id, snap.channel, snap.name, "released", reason="taken over by another daemon")
        if n > self.settings.max_attempts:
            return self.fail(file_id, ch, report(
                f"processing was interrupted {n - 1} times (max_attempts {self.settings.max_attempts}); "
                "the file may crash the daemon", IssueCode.MAX_ATTEMPTS))
        return None

    def _apply(self, file_id: int, ch: Channel, work_path: Path) -> Outcome:
        # Core statements, not ORM objects, for the ledger row: this runs once per file.
        unit = UnitOfWork(self.db, self.settings, source=f"file:{file_id}")
        try:
            s = unit.session
            conn = s.connection()
            row = self.ledger.lock_row(conn, file_id)
            if row.owner != self.identity or row.state != FileState.PROCESSING:
                raise LeaseLost(f"file {file_id} is held by {row.owner} ({row.state})")
            name = row.original_name
            if ch.dedup is not DedupPolicy.REPROCESS:
                earlier = row.earlier
                if earlier is not None:
                    full = s.get(SpoolFile, file_id)
                    assert full is not None
                    self._mark_duplicate(full, earlier, ch)
                    unit.commit()
                    return Outcome(file_id, row.channel, name, FileState.DUPLICATE,
                                   reason=f"duplicate of file {earlier}", path=None)
            index, route = next(((i, r) for i, r in enumerate(ch.routes) if r.matches(name)), (-1, None))
            if route is None:
                raise Rejected("no route", code=IssueCode.NO_ROUTE)
            if row.size == 0 and not route.allow_empty:
                raise Rejected("empty file", code=IssueCode.EMPTY_FILE)
            handler = self.handler_for(row.channel, index, route)
            result = self.run_handler(unit, ch, row, route, handler, work_path)
            crashpoint("in_transaction")
            try:
                outcome = self.mark_done(conn, ch, row, route, result)
                unit.commit()
            except IntegrityError:
                # The same content was just decided by another worker or daemon (PostgreSQL checks the
                # unique dedup key at the UPDATE, SQLite at the commit): decide again, a duplicate now.
                raise RetryLater("concurrent duplicate", delay_s=0) from None
            crashpoint("after_commit")
            unit.deliver()
            return outcome
        except BaseException:
            unit.rollback()
            raise

    def run_handler(self, unit: UnitOfWork, ch: Channel, row: Locked, route: Route, handler: Handler,
                    work_path: Path) -> HandlerResult:
        """The handler on the locked file, in ``unit``; what it read must be what was hashed at the claim."""
        info = FileInfo(row.id, row.channel, row.original_name, row.sha256, row.size, row.claimed_at, route.pattern,
                        route.handler)
        ctx = FileContext(unit=unit.work, settings=self.settings, channel=row.channel, file=info, path=work_path,
                          options=route.options, now=self.clock(),
                          log=logging.getLogger(f"spoolgate.handler.{route.handler}"))
        fd = fsops.open_regular(work_path)
        try:
            if not ch.allow_hard_links and os.fstat(fd).st_nlink > 1:
                raise Rejected(f"the file has {os.fstat(fd).st_nlink} hard links: its content can change "
                               "through another name (allow_hard_links = true accepts it)",
                               code=IssueCode.HARD_LINK)
            with os.fdopen(fd, "rb", closefd=False) as stream:
                result: HandlerResult = handler.handle(ctx, stream)
            # what the handler read must be what was hashed at the claim (and is filed)
            now_sha, now_size = fsops.sha256_fd(fd)
            sha = row.sha256 or ""
            if now_sha != sha:
                raise Rejected(f"the file changed after it was claimed (size {row.size} -> {now_size}, "
                               f"sha256 {sha[:12]}... -> {now_sha[:12]}...): written to after it looked "
                               "complete; nothing was applied", code=IssueCode.CONTENT_CHANGED)
        finally:
            os.close(fd)
        return result

    def mark_done(self, conn: Connection, ch: Channel, row: Locked, route: Route, result: HandlerResult) -> Outcome:
        """The locked row's ``done`` with the handler's result and where the file will be filed."""
        values, outcome = self.done_values(ch, row, route, result)
        self.ledger.mark_done(conn, values)
        return outcome

    def done_values(self, ch: Channel, row: Locked, route: Route,
                    result: HandlerResult) -> tuple[dict[str, Any], Outcome]:
        """``Ledger.mark_done``'s values for the locked row, and the outcome they decide."""
        summary = dict(result.summary)
        if result.warnings:
            summary["warnings"] = [w.to_dict() for w in result.warnings[:100]]
        now = self.clock()
        folder = result.file_to or filing.processed_folder(ch.processed, now, dated=ch.dated)
        final_path = str(folder / row.original_name)
        values = {
            "fid": row.id, "b_state": FileState.DONE, "b_route": route.pattern, "b_handler": route.handler,
            "b_dedup_key": None if ch.dedup is DedupPolicy.REPROCESS else row.sha256 or "",
            "b_counts": result.counts or None, "b_totals": result.totals or None,
            "b_summary": summary or None, "b_finished_at": now, "b_final_path": final_path}
        return values, Outcome(row.id, row.channel, row.original_name, FileState.DONE, handler=route.handler,
                               counts=result.counts, path=Path(final_path))

    def _mark_duplicate(self, row: SpoolFile, earlier: int, ch: Channel) -> None:
        row.state = FileState.DUPLICATE
        row.duplicate_of = earlier
        row.finished_at = self.clock()
        if ch.dedup is DedupPolicy.IGNORE:
            row.final_path = str(filing.duplicates_folder(ch.processed, self.clock()) / row.original_name)
        else:
            route = ch.route_for(row.original_name)
            if route is not None and row.handler is None:
                row.route, row.handler = route.pattern, route.handler
            row.error = full_report(row, report(
                f"duplicate of file {earlier}: same content (sha256 {row.sha256}) was already processed on "
                f"channel {row.channel}", IssueCode.DUPLICATE, duplicate_of=earlier), self.clock())
            row.final_path = str(ch.error / row.original_name)

    # -- error/ --------------------------------------------------------------------------------
    def fail(self, file_id: int, ch: Channel, partial: dict[str, Any]) -> Outcome:
        """Send a file to error/ with ``partial`` as its report (``daemon/reports.py``); a file
        already decided done or duplicate stays so."""
        snap = self.ledger.snapshot(file_id)
        full = self._file_error(file_id, ch, partial)
        return Outcome(file_id, snap.channel, snap.name, FileState.ERROR, handler=(full or partial).get("handler"),
                       reason=partial.get("reason"), code=partial.get("code"))

    def _file_error(self, file_id: int, ch: Channel, partial: dict[str, Any]) -> dict[str, Any] | None:
        """Decide ``error`` in the ledger (with the alert, if the channel sends one), then file the
        work file to error/ with its report.

        Filing failures (a full disk, a read-only folder) leave the decided file in work/:
        recovery files it later from the ledger."""
        full: dict[str, Any] | None = None
        for attempt in self.ledger.retrying(f"file {file_id} error"):
            with attempt, self.db.transaction() as s:
                row = s.get(SpoolFile, file_id)
                assert row is not None
                if row.state in (FileState.DONE, FileState.DUPLICATE):
                    # decided meanwhile (a stale recovery snapshot): never overwrite a decision
                    log.warning("file %s (id %d) is already %s; not filing it as error (%s)",
                                fsops.escape_name(row.original_name), file_id, row.state, partial.get("reason"))
                    return None
                route = ch.route_for(row.original_name) if partial.get("code") not in REFUSAL_CODES else None
                if route is not None and row.handler is None:
                    row.route, row.handler = route.pattern, route.handler
                full = full_report(row, partial, self.clock())
                row.state = FileState.ERROR
                row.error = full
                row.finished_at = self.clock()
                row.final_path = str(ch.error / row.original_name)
                recipients = ch.alert_recipients or self.settings.smtp.alert_recipients
                if ch.alert_on_error and recipients:
                    s.add(alert(row, full, list(recipients)))
        self.finish_filing_isolated(file_id)
        return full

    # -- filing --------------------------------------------------------------------------------
    def finish_filing(self, file_id: int) -> None:
        """Move a decided file from work/ to where the ledger says; idempotent."""
        snap = self.ledger.snapshot(file_id)
        ch = self.settings.channels.get(snap.channel)
        if ch is None or snap.final_path is None:
            return
        self.file_away(file_id, ch, snap.work_name, Path(snap.final_path), snap.error)

    def finish_filing_isolated(self, file_id: int) -> None:
        """File a decided file; if the folders refuse (full, read-only, removed), it stays in work/,
        decided, and the next recovery pass tries again."""
        try:
            self.finish_filing(file_id)
        except Exception as exc:
            self.problem("filing", f"file {file_id}", exc)

    def file_away(self, file_id: int, ch: Channel, work_name: str, target: Path,
                   error: dict[str, Any] | None) -> None:
        actual = filing.file_away(ch.work / work_name, target, report=error, ledger_id=file_id,
                                  defer_sync=self.defer_sync)
        if actual is not None and actual != target:
            self.ledger.set_final_path(file_id, actual)

    # -- recovery and leases -------------------------------------------------------------------
    def recover(self, *, startup: bool = False, grace_s: float = 30.0) -> list[int]:
        """Reconcile work/ folders with the ledger (``daemon/recovery.py``). Returns files to process now."""
        return recovery.recover(self, startup=startup, grace_s=grace_s)

    def release(self, ids: list[int]) -> None:
        """Give up claimed files no handler has started (``Ledger.release``)."""
        self.ledger.release(ids)

    def renew_leases(self) -> None:
        self.ledger.renew()
