"""The life of an inbound file: claim, route, handle in one transaction, file away.

Every step is a single atomic filesystem transition or a single committed
transaction, and recovery can tell from the ledger and the folders which step
was last completed:

1. claim: rename inbox/NAME -> work/TOKEN.NAME, hash it, insert the ledger row
   (state processing, attempts 1, our lease), then drop its signal file; ready
   files of one channel are claimed in runs that share one commit;
2. handle: the handler's changes, the outbound files it staged and the row's
   ``done`` (or duplicate) commit together;
3. file away: link into processed/YYYY/MM/DD/NAME (or error/NAME with
   NAME.error.json written first), unlink the work name; outbound files are
   renamed into place and signalled. The daemon fsyncs processed/ folders in
   batches: the ledger's durable ``done`` already says where the file belongs.

A crash between any two steps leaves a state ``recover`` completes without
applying anything twice.
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import JSON, Table, bindparam, event, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential_jitter
from tenacity.stop import stop_base

from formats.errors import FormatError, Issue, IssueCode, mask_sensitive
from handlers.base import FileContext, FileInfo, Handler, HandlerResult, Rejected, RetryLater
from handlers.registry import handler_class
from spool import fsops, owner
from spool.crashpoints import crashpoint
from store.config import Channel, DedupPolicy, Route, Settings
from store.db import Database, describe, is_transient, utcnow
from store.models.core import TERMINAL_STATES, FileState, SpoolFile
from store.unit import UnitOfWork

log = logging.getLogger("spoolgate.pipeline")


HOST_TAG = owner.HOST_TAG


def claim_token() -> str:
    """The claimer of a work file, readable without the ledger (``spool.owner``)."""
    return owner.token()


#: marks the work name of an entry being refused, so recovery refuses it again after a crash
REFUSED_TAG = "-refused"


def _claimer_dead(work_name: str) -> bool:
    holder = owner.parse(work_name.split(".", 1)[0].removesuffix(REFUSED_TAG))
    return holder is not None and holder.is_dead()


def default_identity() -> str:
    return owner.token()


@dataclass
class Outcome:
    file_id: int
    channel: str
    name: str
    state: str
    handler: str | None = None
    reason: str | None = None
    path: Path | None = None
    counts: dict[str, int] = field(default_factory=dict)
    duration_s: float = 0.0
    #: the error report's code (an ``IssueCode`` value) when the file went to error/
    code: str | None = None


class _StopWhen(stop_base):
    """Stops retrying once the daemon is shutting down (the file stays claimed for the next start)."""

    def __init__(self, predicate: Callable[[], bool]) -> None:
        self.predicate = predicate

    def __call__(self, retry_state: Any) -> bool:
        return self.predicate()


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
        self.identity = identity or settings.identity or default_identity()
        self.clock = clock
        self.on_outcome = on_outcome
        self.on_problem = on_problem
        self.should_stop = should_stop
        self._handlers: dict[tuple[str, int], Handler] = {}
        self.inflight: set[int] = set()
        #: rows this process just claimed, so processing need not read them back
        self._claimed: dict[int, _Snap] = {}
        #: rows taken over after an interruption: their next start is recorded before the handler runs
        self._recovered: set[int] = set()
        #: the daemon flushes processed/ folders in batches (``fsops.sync_dirty``); one-shot
        #: callers sync each filing at once
        self.defer_sync = False

    # -- configuration -------------------------------------------------------------------------
    def reload(self, settings: Settings) -> None:
        """New routes take effect for the next file; files in hand finish with the old ones."""
        self.settings = settings
        self._handlers = {}

    def _handler(self, channel: str, index: int, route: Route) -> Handler:
        key = (channel, index)
        h = self._handlers.get(key)
        if h is None:
            h = handler_class(route.handler)(self.settings, route.options)
            self._handlers[key] = h
        return h

    def _lease(self) -> dt.datetime:
        return self.clock() + dt.timedelta(seconds=self.settings.lease_s)

    def _retrying(self, what: str) -> Retrying:
        def _log(state: Any) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning("%s: transient error, retrying (attempt %d): %s", what, state.attempt_number,
                        _describe(exc) if exc is not None else "")

        return Retrying(retry=retry_if_exception(_retryable),
                        wait=wait_exponential_jitter(multiplier=0.2, max=10.0),
                        stop=stop_after_delay(self.settings.transient_retry_s) | _StopWhen(self.should_stop),
                        before_sleep=_log, reraise=True)

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
            self._problem(f"claim {channel}", str(ch.work), exc)
            return []
        moved: list[tuple[str, str, list[Path]]] = []
        for path in paths:
            name = path.name
            try:
                signals = ch.signal_names(name)
                fsops.check_name(name, derived=tuple(signals))
            except fsops.UnsafeName as exc:
                self._isolated(f"refuse {channel}", name, self.refuse, channel, path, str(exc),
                               code=IssueCode.UNSAFE_NAME)
                continue
            work_name = f"{claim_token()}.{name}"
            try:
                fsops.move(path, ch.work / work_name, sync=False)
            except FileNotFoundError:
                continue
            except OSError as exc:
                # the inbox or work folder, not the file: intake sees it again on its next scan
                self._problem(f"claim {channel}", name, exc)
                continue
            moved.append((name, work_name, [path.parent / sig for sig in signals]))
        if not moved:
            return []
        fsops.fsync_dir(ch.work)  # one journal commit makes every rename of the batch durable
        crashpoint("after_claim_rename")
        rows: list[tuple[str, str, str, int]] = []
        for name, work_name, _ in moved:
            try:
                sha, size = fsops.sha256_file(ch.work / work_name)
            except OSError as exc:
                if fsops.is_transient_os(exc):  # left in work/: recovery claims it once the disk answers
                    self._problem(f"claim {channel}", name, exc)
                    continue
                self._isolated(f"refuse {channel}", name, self._refuse_emit, channel, work_name, name,
                               _unreadable(exc), code=_unreadable_code(exc))
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
                    self._problem(f"claim {channel}", sig.name, exc)
        return ids

    # -- isolation -----------------------------------------------------------------------------
    def _problem(self, where: str, name: str, exc: BaseException) -> None:
        """One item of a loop failed in a way no report could record: logged, counted, skipped."""
        log.error("%s: %s skipped: %s", where, fsops.escape_name(name), _describe(exc))
        if self.on_problem is not None:
            self.on_problem(where.split(" ", 1)[0])

    def _isolated(self, where: str, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            self._problem(where, name, exc)
            return None

    def _insert_claim(self, channel: str, name: str, work_name: str, sha: str, size: int) -> int:
        return self._insert_claims(channel, [(name, work_name, sha, size)])[0]

    def _insert_claims(self, channel: str, rows: list[tuple[str, str, str, int]]) -> list[int]:
        """One transaction for all rows; each is in flight before the commit, so the
        recovery pass in another thread never mistakes a fresh claim for an orphan.
        A batch the database refuses for good is inserted row by row, so one row
        never strands the others in work/ without a ledger row."""
        try:
            return self._insert_batch(channel, rows)
        except Exception as exc:
            if len(rows) == 1 or is_transient(exc):
                raise
        ids: list[int] = []
        for row in rows:
            got = self._isolated(f"claim {channel}", row[0], self._insert_batch, channel, [row])
            ids.extend(got or [])
        return ids

    def _insert_batch(self, channel: str, rows: list[tuple[str, str, str, int]]) -> list[int]:
        for attempt in self._retrying(f"claim {channel}/{rows[0][0]} (+{len(rows) - 1})"):
            with attempt:
                now, lease = self.clock(), self._lease()
                values = [{"channel": channel, "original_name": name, "work_name": work_name, "sha256": sha,
                           "size": size, "state": FileState.PROCESSING, "attempts": 1, "owner": self.identity,
                           "lease_until": lease, "claimed_at": now, "started_at": now}
                          for name, work_name, sha, size in rows]
                ids: list[int] = []
                try:
                    with self.db.transaction() as s:
                        ids = list(s.connection().execute(_INSERT_CLAIM, values).scalars())
                        self.inflight.update(ids)
                except BaseException:
                    self.inflight.difference_update(ids)
                    raise
        for file_id, (name, work_name, _, _) in zip(ids, rows, strict=True):
            self._claimed[file_id] = _Snap(file_id, channel, name, work_name, FileState.PROCESSING,
                                           self.identity, lease, None)
        return ids

    def _refuse_in_work(self, channel: str, work_name: str, name: str, reason: str,
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
        file_id = 0
        for attempt in self._retrying(f"refuse {channel}/{fsops.escape_name(name)}"):
            with attempt, self.db.transaction() as s:
                row = SpoolFile(channel=channel, original_name=name, work_name=work_name, state=FileState.PROCESSING,
                                attempts=1, owner=self.identity, lease_until=self._lease(), sha256=sha, size=size)
                s.add(row)
                s.flush()
                file_id = row.id
        report = self._file_error(file_id, ch, {"reason": reason, "code": code,
                                                  "original_name": shown if shown is not None else name})
        return Outcome(file_id, channel, name, FileState.ERROR, handler=report.get("handler") if report else None,
                       reason=reason)

    def _refuse_emit(self, channel: str, work_name: str, name: str, reason: str, *, code: IssueCode) -> None:
        self._emit(self._refuse_in_work(channel, work_name, name, reason, code=code))

    def refuse(self, channel: str, path: Path, reason: str, *, code: IssueCode = IssueCode.REFUSED) -> Outcome | None:
        """A symlink, device or unsafe name: moved to error/ under a safe name, without being opened
        or followed; the report carries the original name, escaped."""
        ch = self.settings.channels[channel]
        safe = fsops.safe_name(path.name)
        work_name = f"{claim_token()}{REFUSED_TAG}.{safe}"
        fsops.ensure_dir(ch.work)
        try:
            fsops.move(path, ch.work / work_name)  # renames the link itself, never its target
        except FileNotFoundError:
            return None
        outcome = self._refuse_in_work(channel, work_name, safe, reason, shown=fsops.escape_name(path.name),
                                       code=code)
        self._emit(outcome)
        return outcome

    # -- process -------------------------------------------------------------------------------
    def process(self, file_id: int) -> Outcome:
        started = time.monotonic()
        self.inflight.add(file_id)
        try:
            outcome = self._process(file_id)
        finally:
            self.inflight.discard(file_id)
        outcome.duration_s = time.monotonic() - started
        self._emit(outcome)
        return outcome

    def _emit(self, outcome: Outcome) -> None:
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
        snap = self._claimed.pop(file_id, None)
        if snap is None:
            for attempt in self._retrying(f"file {file_id}"):
                with attempt, self.db.transaction() as s:
                    row = s.get(SpoolFile, file_id)
                    if row is None:
                        raise KeyError(f"no ledger row {file_id}")
                    snap = _Snap.of(row)
        assert snap is not None
        ch = self.settings.channels.get(snap.channel)
        if ch is None:
            return Outcome(file_id, snap.channel, snap.name, snap.state, reason="channel no longer configured")
        if snap.state in TERMINAL_STATES:
            self._finish_filing_isolated(file_id)
            return Outcome(file_id, snap.channel, snap.name, snap.state)
        if file_id in self._recovered:
            self._recovered.discard(file_id)
            refused = self._begin_again(file_id, ch, snap)
            if refused is not None:
                return refused
        work_path = ch.work / snap.work_name
        if not work_path.exists():
            return self._fail(file_id, ch, _report("file missing from work folder", IssueCode.MISSING))
        try:
            for attempt in self._retrying(f"file {snap.channel}/{snap.name}"):
                with attempt:
                    result = self._apply(file_id, ch, work_path)
        except LeaseLost as exc:
            log.warning("file %s: %s", snap.name, exc,
                        extra={"channel": snap.channel, "file": snap.name, "file_id": file_id, "outcome": "released"})
            return Outcome(file_id, snap.channel, snap.name, "released", reason=str(exc))
        except (Rejected, FormatError, fsops.UnsafeName) as exc:
            return self._fail(file_id, ch, _report_from(exc))
        except Exception as exc:
            if _retryable(exc):
                log.error("file %s: still failing after retries, left claimed in %s for the next recovery pass: %s",
                          fsops.escape_name(snap.name), ch.work, _describe(exc),
                          extra={"channel": snap.channel, "file": snap.name, "file_id": file_id,
                                 "code": IssueCode.TRANSIENT})
                self._give_back(file_id)
                raise Transient(str(exc)) from exc
            log.error("file %s: handler failed: %s", fsops.escape_name(snap.name), _describe(exc),
                      exc_info=not isinstance(exc, DBAPIError),
                      extra={"channel": snap.channel, "file": snap.name, "file_id": file_id,
                             "code": IssueCode.HANDLER_EXCEPTION})
            return self._fail(file_id, ch, _report_from(exc))
        try:
            if result.path is not None:
                self._file_away(file_id, ch, snap.work_name, result.path, None)
            else:
                self._finish_filing(file_id)
        except Exception as exc:
            self._problem(f"filing {snap.channel}", snap.name, exc)
        return result

    def _give_back(self, file_id: int) -> None:
        """Retries ran out on a transient error: the file stays in work/ for the next recovery
        pass, and this start is not counted (it did not crash the daemon)."""
        try:
            with self.db.transaction() as s:
                s.execute(update(SpoolFile).where(SpoolFile.id == file_id, SpoolFile.owner == self.identity,
                                                  SpoolFile.state == FileState.PROCESSING,
                                                  SpoolFile.attempts > 0)
                          .values(attempts=SpoolFile.attempts - 1))
        except Exception as exc:  # the database is what failed: the next start counts one more
            log.warning("file %d: could not give back the attempt: %s", file_id, _describe(exc))

    def _begin_again(self, file_id: int, ch: Channel, snap: _Snap) -> Outcome | None:
        """Record a new attempt before a handler runs on a file whose processing was interrupted.

        Attempts count starts, not takeovers: a file claimed in a run and never started
        when the process died is not one that crashes the daemon. The first attempt is
        the claim's own (attempts 1, no extra commit on the normal path).
        """
        n = None
        for attempt in self._retrying(f"file {file_id} start"):
            with attempt, self.db.transaction() as s:
                n = s.execute(update(SpoolFile)
                              .where(SpoolFile.id == file_id, SpoolFile.owner == self.identity,
                                     SpoolFile.state == FileState.PROCESSING)
                              .values(attempts=SpoolFile.attempts + 1)
                              .returning(SpoolFile.attempts)).scalar()
        if n is None:
            return Outcome(file_id, snap.channel, snap.name, "released", reason="taken over by another daemon")
        if n > self.settings.max_attempts:
            return self._fail(file_id, ch, _report(
                f"processing was interrupted {n - 1} times (max_attempts {self.settings.max_attempts}); "
                "the file may crash the daemon", IssueCode.MAX_ATTEMPTS))
        return None

    def _apply(self, file_id: int, ch: Channel, work_path: Path, *, dry_run: bool = False) -> Outcome:
        # Core statements, not ORM objects, for the ledger row: this runs once per file.
        unit = UnitOfWork(self.db, self.settings, source=f"file:{file_id}", dry_run=dry_run)
        try:
            s = unit.session
            conn = s.connection()
            row = conn.execute(_SELECT_ROW, {"fid": file_id}).one()
            if not dry_run and (row.owner != self.identity or row.state != FileState.PROCESSING):
                raise LeaseLost(f"file {file_id} is held by {row.owner} ({row.state})")
            name, sha = row.original_name, row.sha256 or ""
            if not dry_run and ch.dedup is not DedupPolicy.REPROCESS:
                earlier = conn.execute(_SELECT_DEDUP, {"ch": row.channel, "key": sha}).scalar()
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
            handler = self._handler(row.channel, index, route)
            info = FileInfo(file_id, row.channel, name, row.sha256, row.size, row.claimed_at, route.pattern,
                            route.handler)
            ctx = FileContext(unit=unit.work, settings=self.settings, channel=row.channel, file=info, path=work_path,
                              options=route.options, now=self.clock(), dry_run=dry_run,
                              log=logging.getLogger(f"spoolgate.handler.{route.handler}"))
            fd = fsops.open_regular(work_path)
            try:
                if not dry_run and not ch.allow_hard_links and os.fstat(fd).st_nlink > 1:
                    raise Rejected(f"the file has {os.fstat(fd).st_nlink} hard links: its content can change "
                                   "through another name (allow_hard_links = true accepts it)",
                                   code=IssueCode.HARD_LINK)
                with os.fdopen(fd, "rb", closefd=False) as stream:
                    result: HandlerResult = handler.handle(ctx, stream)
                if not dry_run:
                    # what the handler read must be what was hashed at the claim (and is filed)
                    now_sha, now_size = fsops.sha256_fd(fd)
                    if now_sha != sha:
                        raise Rejected(f"the file changed after it was claimed (size {row.size} -> {now_size}, "
                                       f"sha256 {sha[:12]}... -> {now_sha[:12]}...): written to after it looked "
                                       "complete; nothing was applied", code=IssueCode.CONTENT_CHANGED)
            finally:
                os.close(fd)
            crashpoint("in_transaction")
            summary = dict(result.summary)
            if result.warnings:
                summary["warnings"] = [w.to_dict() for w in result.warnings[:100]]
            now = self.clock()
            folder = result.file_to or (fsops.dated_folder(ch.processed, now) if ch.dated else ch.processed)
            final_path = str(folder / name)
            try:
                conn.execute(_UPDATE_DONE, {
                    "fid": file_id, "b_state": FileState.DONE, "b_route": route.pattern, "b_handler": route.handler,
                    "b_dedup_key": None if ch.dedup is DedupPolicy.REPROCESS else sha,
                    "b_counts": result.counts or None, "b_totals": result.totals or None,
                    "b_summary": summary or None, "b_finished_at": now, "b_final_path": final_path})
            except IntegrityError:
                # PostgreSQL checks the unique dedup key at the UPDATE: the same content was just
                # decided by another worker; decide again (it is a duplicate now).
                raise RetryLater("concurrent duplicate", delay_s=0) from None
            if dry_run:
                s.flush()
                unit.rollback()
                return Outcome(file_id, row.channel, name, "dry-run", handler=route.handler, counts=result.counts)
            try:
                unit.commit()
            except IntegrityError:
                # Another daemon committed the same content a moment ago: decide again.
                raise RetryLater("concurrent duplicate", delay_s=0) from None
            crashpoint("after_commit")
            unit.deliver()
            return Outcome(file_id, row.channel, name, FileState.DONE, handler=route.handler, counts=result.counts,
                           path=Path(final_path))
        except BaseException:
            unit.rollback()
            raise

    def _mark_duplicate(self, row: SpoolFile, earlier: int, ch: Channel) -> None:
        row.state = FileState.DUPLICATE
        row.duplicate_of = earlier
        row.finished_at = self.clock()
        if ch.dedup is DedupPolicy.IGNORE:
            row.final_path = str(fsops.dated_folder(ch.processed / "duplicates", self.clock()) / row.original_name)
        else:
            route = ch.route_for(row.original_name)
            if route is not None and row.handler is None:
                row.route, row.handler = route.pattern, route.handler
            row.error = self._full_report(row, _report(
                f"duplicate of file {earlier}: same content (sha256 {row.sha256}) was already processed on "
                f"channel {row.channel}", IssueCode.DUPLICATE, duplicate_of=earlier))
            row.final_path = str(ch.error / row.original_name)

    def _full_report(self, row: SpoolFile, report: dict[str, Any]) -> dict[str, Any]:
        """Every ``NAME.error.json`` has these keys, whatever sent the file to error/."""
        return {"file": row.original_name, "original_name": row.original_name, "channel": row.channel,
                "ledger_id": row.id, "sha256": row.sha256, "size": row.size, "handler": row.handler,
                "route": row.route, "attempts": row.attempts, "time": self.clock().isoformat(),
                "exception": None, "line": None, "record": None, "field": None, "columns": None, "value": None,
                "issues": [], "issue_count": 0, **report}

    def _fail(self, file_id: int, ch: Channel, report: dict[str, Any]) -> Outcome:
        for attempt in self._retrying(f"file {file_id} error"):
            with attempt, self.db.transaction() as s:
                row = s.get(SpoolFile, file_id)
                assert row is not None
                name, channel = row.original_name, row.channel
        full = self._file_error(file_id, ch, report)
        return Outcome(file_id, channel, name, FileState.ERROR, handler=(full or report).get("handler"),
                       reason=report.get("reason"), code=report.get("code"))

    def _file_error(self, file_id: int, ch: Channel, report: dict[str, Any]) -> dict[str, Any] | None:
        """Decide ``error`` in the ledger, then file the work file to error/ with its report.

        Filing failures (a full disk, a read-only folder) leave the decided file in work/:
        recovery files it later from the ledger."""
        full: dict[str, Any] | None = None
        for attempt in self._retrying(f"file {file_id} error"):
            with attempt, self.db.transaction() as s:
                row = s.get(SpoolFile, file_id)
                assert row is not None
                if row.state in (FileState.DONE, FileState.DUPLICATE):
                    # decided meanwhile (a stale recovery snapshot): never overwrite a decision
                    log.warning("file %s (id %d) is already %s; not filing it as error (%s)",
                                fsops.escape_name(row.original_name), file_id, row.state, report.get("reason"))
                    return None
                route = ch.route_for(row.original_name) if report.get("code") not in REFUSAL_CODES else None
                if route is not None and row.handler is None:
                    row.route, row.handler = route.pattern, route.handler
                full = self._full_report(row, report)
                row.state = FileState.ERROR
                row.error = full
                row.finished_at = self.clock()
                row.final_path = str(ch.error / row.original_name)
                recipients = ch.alert_recipients or self.settings.smtp.alert_recipients
                if ch.alert_on_error and recipients:
                    s.add(_alert(row, full, list(recipients)))
        self._finish_filing_isolated(file_id)
        return full

    # -- filing --------------------------------------------------------------------------------
    def _finish_filing(self, file_id: int) -> None:
        """Move a decided file from work/ to where the ledger says; idempotent."""
        for attempt in self._retrying(f"file {file_id} filing"):
            with attempt, self.db.transaction() as s:
                row = s.get(SpoolFile, file_id)
                assert row is not None
                snap = _Snap.of(row)
                error = row.error
        ch = self.settings.channels.get(snap.channel)
        if ch is None or snap.final_path is None:
            return
        self._file_away(file_id, ch, snap.work_name, Path(snap.final_path), error)

    def _finish_filing_isolated(self, file_id: int) -> None:
        """File a decided file; if the folders refuse (full, read-only, removed), it stays in work/,
        decided, and the next recovery pass tries again."""
        try:
            self._finish_filing(file_id)
        except Exception as exc:
            self._problem("filing", f"file {file_id}", exc)

    def _file_away(self, file_id: int, ch: Channel, work_name: str, target: Path,
                   error: dict[str, Any] | None) -> None:
        work_path = ch.work / work_name
        if not work_path.exists() and not work_path.is_symlink():
            if error is not None and target.exists() and not Path(f"{target}.error.json").exists():
                fsops.write_json_atomic(Path(f"{target}.error.json"), error)
            return
        fsops.ensure_dir(target.parent)
        if error is not None:
            actual = self._free_name(target, file_id)
            fsops.write_json_atomic(Path(f"{actual}.error.json"), error)
            fsops.move(work_path, actual)
        else:
            actual = fsops.move_no_clobber(work_path, target.parent, target.name, sync=not self.defer_sync)
            if self.defer_sync:
                fsops.sync_later(target.parent)
        if actual != target:
            with self.db.transaction() as s:
                s.execute(update(SpoolFile).where(SpoolFile.id == file_id).values(final_path=str(actual)))

    @staticmethod
    def _free_name(target: Path, file_id: int) -> Path:
        """error/NAME, or NAME.1... when taken; a report already written for this file is reused."""
        n = 0
        while True:
            cand = target if n == 0 else target.with_name(f"{target.name}.{n}")
            report = Path(f"{cand}.error.json")
            free = not cand.exists() and not cand.is_symlink()
            if free and (not report.exists() or _report_owner(report) == file_id):
                return cand
            n += 1

    # -- recovery ------------------------------------------------------------------------------
    def recover(self, *, startup: bool = False, grace_s: float = 30.0) -> list[int]:
        """Reconcile work/ folders with the ledger. Returns files to process now.

        Each channel, each file and each folder swept is isolated: one that fails is
        logged and counted, and the pass goes on with the next."""
        from store.unit import deliver_pending

        todo: list[int] = []
        for cname, ch in self.settings.channels.items():
            try:
                self._recover_channel(cname, ch, todo, startup=startup, grace_s=grace_s)
            except Exception as exc:
                self._problem(f"recovery {cname}", str(ch.work), exc)
        # Files handed back for processing count as in flight from now on, so the next
        # pass does not queue them again while they wait for a worker.
        self.inflight.update(todo)
        try:
            deliver_pending(self.db, min_age_s=0.0 if startup else 60.0)
        except Exception as exc:
            self._problem("recovery outbound", "pending deliveries", exc)
        self.sweep_temps(startup=startup)
        return todo

    def sweep_temps(self, *, startup: bool = False) -> int:
        """Remove temporary files whose writer died (or this process's own, no longer written)."""
        from spool.outbound import orphan_temps

        folders = {o.folder for o in self.settings.outbound.values()}
        folders |= {f for ch in self.settings.channels.values() for f in (ch.inbox, ch.error, ch.work)}
        folders |= fsops.temp_folders()
        if startup:
            folders |= self._spool_folders()
        removed = 0
        for folder in sorted(folders):
            try:
                temps = orphan_temps(folder)
            except OSError as exc:
                self._problem("sweep", str(folder), exc)
                continue
            for tmp in temps:
                try:
                    if (not startup and self._is_staged(tmp)) or self._is_held(tmp):
                        continue
                    log.info("removing orphaned temporary file %s", fsops.escape_name(str(tmp)))
                    tmp.unlink()
                    removed += 1
                except FileNotFoundError:
                    pass
                except Exception as exc:
                    self._problem("sweep", tmp.name, exc)
        return removed

    def _spool_folders(self) -> set[Path]:
        """Every folder under the spool root but the processed/ trees: where a writer that died
        (PGP output, an SFTP download, a package, a copy) may have left a temp file."""
        skip = {ch.processed for ch in self.settings.channels.values()}
        found: set[Path] = set()
        for top, dirs, _files in os.walk(self.settings.spool_root, onerror=lambda e: None):
            here = Path(top)
            dirs[:] = [d for d in dirs if here / d not in skip]
            found.add(here)
        return found

    def _recover_channel(self, cname: str, ch: Channel, todo: list[int], *, startup: bool, grace_s: float) -> None:
        now = self.clock()
        sole_owner = startup and self.db.is_sqlite
        with self.db.transaction() as s:
            rows = {r.work_name: _Snap.of(r) for r in s.scalars(
                select(SpoolFile).where(SpoolFile.channel == cname,
                                        SpoolFile.state.in_([FileState.CLAIMED, FileState.PROCESSING])))}
        on_disk = {e.name: e for e in fsops.scan(ch.work)}
        for snap in rows.values():
            if snap.id in self.inflight:
                continue
            mine = snap.owner == self.identity
            expired = snap.lease_until is None or snap.lease_until < now
            if not (sole_owner or expired or (mine and snap.id not in self.inflight)
                    or owner_dead(snap.owner)):
                continue
            got = self._isolated(f"recovery {cname}", snap.name, self._recover_row, ch, snap, on_disk)
            if got is not None:
                todo.append(got)
        # Work files with a terminal row (filing interrupted) or no row (claim interrupted).
        known = set(rows)
        for wname, entry in on_disk.items():
            if wname in known or wname.startswith("."):
                continue
            got = self._isolated(f"recovery {cname}", wname, self._recover_orphan, cname, ch, wname, entry,
                                 sole_owner=sole_owner, grace_s=grace_s)
            if got is not None:
                todo.append(got)

    def _recover_row(self, ch: Channel, snap: _Snap, on_disk: dict[str, fsops.Entry]) -> int | None:
        if snap.work_name not in on_disk:
            if not (ch.work / snap.work_name).exists():
                self._fail(snap.id, ch, _report("file missing from work folder after a crash", IssueCode.MISSING))
            return None
        if self._take_over(snap.id, snap.owner) is None:
            return None
        self._recovered.add(snap.id)
        return snap.id

    def _recover_orphan(self, cname: str, ch: Channel, wname: str, entry: fsops.Entry, *, sole_owner: bool,
                        grace_s: float) -> int | None:
        original = wname.split(".", 1)[1] if "." in wname else wname
        try:
            wname.encode("utf-8")
        except UnicodeEncodeError:  # no row can hold this name
            self._refuse_renamed(cname, ch, wname, original, "file name is not valid UTF-8")
            return None
        with self.db.transaction() as s:
            row = s.scalar(select(SpoolFile).where(SpoolFile.channel == cname, SpoolFile.work_name == wname))
            terminal_id = row.id if row is not None else None
        if terminal_id is not None:
            if terminal_id not in self.inflight:
                self._finish_filing(terminal_id)
            return None
        age = time.time() - entry.ctime_ns / 1e9
        if not sole_owner and age < grace_s and not _claimer_dead(wname):
            return None  # another daemon may be between its rename and its insert
        if entry.kind == "dir":
            return None
        if wname.split(".", 1)[0].endswith(REFUSED_TAG):  # a refusal the crash interrupted
            self._emit(self._refuse_in_work(cname, wname, original, "refused before an interruption (a "
                                            "symlink, device or unsafe name; its original name is in the log)",
                                            code=IssueCode.REFUSED if entry.kind != "file" else IssueCode.UNSAFE_NAME))
            return None
        try:
            fsops.check_name(original)
        except fsops.UnsafeName as exc:
            self._refuse_renamed(cname, ch, wname, original, str(exc))
            return None
        if entry.kind != "file":
            try:
                self._emit(self._refuse_in_work(cname, wname, original, "not a regular file (symlink, FIFO or "
                                                "device) left in the work folder: refused without following it"))
            except IntegrityError:
                pass
            return None
        try:
            sha, size = fsops.sha256_file(entry.path)
        except OSError as exc:
            if fsops.is_transient_os(exc):
                raise
            self._emit(self._refuse_in_work(cname, wname, original, _unreadable(exc), code=_unreadable_code(exc)))
            return None
        try:
            return self._insert_claim(cname, original, wname, sha, size)
        except IntegrityError:
            return None

    def _refuse_renamed(self, cname: str, ch: Channel, wname: str, original: str, reason: str) -> None:
        """Refuse a work entry under a safe name (its own cannot be stored or filed)."""
        safe = fsops.safe_name(original)
        new_wname = f"{claim_token()}{REFUSED_TAG}.{safe}"
        fsops.move(ch.work / wname, ch.work / new_wname)
        self._emit(self._refuse_in_work(cname, new_wname, safe, reason, shown=fsops.escape_name(original),
                                        code=IssueCode.UNSAFE_NAME))

    def _is_staged(self, tmp: Path) -> bool:
        from store.models.core import OutboundFile

        with self.db.transaction() as s:
            return s.scalar(select(OutboundFile.id).where(OutboundFile.temp_name == tmp.name)) is not None

    def _is_held(self, tmp: Path) -> bool:
        """A copy a recorded bill transfer still has to place (``handlers/bills/xfer``): removing it
        would make the transfer look placed and consumed, and its source would be deleted."""
        from store.models.bills import BillTransfer, TransferState

        with self.db.transaction() as s:
            held = s.scalars(select(BillTransfer.temp).where(BillTransfer.state == TransferState.PLACING))
            return any(Path(t).name == tmp.name for t in held)

    def _take_over(self, file_id: int, expected_owner: str | None) -> int | None:
        with self.db.transaction() as s:
            res = s.execute(update(SpoolFile)
                            .where(SpoolFile.id == file_id,
                                   SpoolFile.state.in_([FileState.CLAIMED, FileState.PROCESSING]),
                                   SpoolFile.owner.is_(None) if expected_owner is None
                                   else SpoolFile.owner == expected_owner)
                            .values(owner=self.identity, lease_until=self._lease(), state=FileState.PROCESSING,
                                    started_at=self.clock())
                            .returning(SpoolFile.attempts))
            got = res.scalar()
        return got

    def release(self, ids: list[int]) -> None:
        """Give up claimed files no handler has started; the next recovery takes them over
        (any daemon at once on PostgreSQL). A fresh claim's attempt is given back, so the
        file's next start records attempt 1; a taken-over file's count is kept as it is."""
        if not ids:
            return
        fresh = [i for i in ids if i not in self._recovered]
        mine = (SpoolFile.owner == self.identity, SpoolFile.state == FileState.PROCESSING)
        try:
            with self.db.transaction() as s:
                if fresh:
                    s.execute(update(SpoolFile).where(SpoolFile.id.in_(fresh), *mine, SpoolFile.attempts > 0)
                              .values(attempts=SpoolFile.attempts - 1))
                s.execute(update(SpoolFile).where(SpoolFile.id.in_(ids), *mine)
                          .values(owner=None, lease_until=None))
        except Exception as exc:  # recovered all the same, with one attempt more
            log.warning("could not release %d claimed files: %s", len(ids), _describe(exc))
        else:
            log.info("released %d claimed files no worker started", len(ids))
        self.inflight.difference_update(ids)
        self._recovered.difference_update(ids)
        for file_id in ids:
            self._claimed.pop(file_id, None)

    def renew_leases(self) -> None:
        """Extend our leases; rows a worker has locked are skipped (nobody can take those over anyway)."""
        ids = list(self.inflight)
        if not ids:
            return
        with self.db.transaction() as s:
            free = (select(SpoolFile.id).where(SpoolFile.id.in_(ids), SpoolFile.owner == self.identity)
                    .with_for_update(skip_locked=True))
            s.execute(update(SpoolFile).where(SpoolFile.id.in_(free.scalar_subquery()))
                      .values(lease_until=self._lease()))

    # -- operator actions ----------------------------------------------------------------------
    def retry(self, ref: str) -> list[str]:
        """Send files from error/ back to their inbox (by ledger id, name, or ``--all``)."""
        with self.db.transaction() as s:
            q = select(SpoolFile).where(SpoolFile.state.in_([FileState.ERROR, FileState.DUPLICATE]))
            if ref != "*":
                if ref.isdigit():
                    q = q.where(SpoolFile.id == int(ref))
                else:
                    base = Path(ref).name
                    q = q.where((SpoolFile.original_name == base) | (SpoolFile.final_path.like(f"%/{base}")))
            rows = [_Snap.of(r) for r in s.scalars(q.order_by(SpoolFile.id))]
        moved = []
        for snap in rows:
            ch = self.settings.channels.get(snap.channel)
            if ch is None or snap.final_path is None:
                continue
            src = Path(snap.final_path)
            if not src.exists():
                continue
            if not fsops.is_inside(src, ch.error) and snap.state != FileState.DUPLICATE:
                continue
            dst = ch.inbox / snap.name
            if dst.exists():
                raise FileExistsError(f"{dst} already exists; not overwriting")
            with self.db.transaction() as s:
                s.execute(update(SpoolFile).where(SpoolFile.id == snap.id).values(state=FileState.RETRIED))
            fsops.ensure_dir(ch.inbox)
            fsops.move(src, dst)
            report = Path(f"{src}.error.json")
            if report.exists():
                report.unlink()
            moved.append(f"{snap.channel}/{snap.name}")
        return moved

    def dry_run(self, path: Path, channel: str) -> dict[str, Any]:
        """What the daemon would do with ``path``: the same checks, then the handler inside one
        transaction that is rolled back. Nothing is committed, no file is moved, and an outbound
        file staged by the handler is removed again (PostgreSQL sequences do not roll back)."""
        ch = self.settings.channels[channel]
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
            return {**report, "outcome": "would be rejected", "reason": "empty file", "code": IssueCode.EMPTY_FILE}
        sha, size = fsops.sha256_file(path)
        changes: Counter[str] = Counter()
        unit = UnitOfWork(self.db, self.settings, source="dry-run", dry_run=True)
        try:
            with _track_changes(self.db.engine, changes):
                s = unit.session
                earlier = None if ch.dedup is DedupPolicy.REPROCESS else s.scalar(
                    select(SpoolFile.id).where(SpoolFile.channel == channel, SpoolFile.dedup_key == sha))
                report["duplicate_of"] = earlier
                if earlier is not None:
                    where = "processed/duplicates" if ch.dedup is DedupPolicy.IGNORE else "error/"
                    return {**report, "outcome": "would be filed as duplicate",
                            "reason": f"same content as file {earlier}; filed to {where}, database untouched"}
                row = SpoolFile(channel=channel, original_name=path.name, work_name=f"dry-run.{path.name}",
                                sha256=sha, size=size, state=FileState.PROCESSING, owner=self.identity,
                                claimed_at=self.clock())
                s.add(row)
                s.flush()
                index = ch.routes.index(route)
                info = FileInfo(row.id, channel, path.name, sha, size, row.claimed_at, route.pattern, route.handler)
                ctx = FileContext(unit=unit.work, settings=self.settings, channel=channel, file=info, path=path,
                                  options=route.options, now=self.clock(), dry_run=True,
                                  log=logging.getLogger(f"spoolgate.handler.{route.handler}"))
                handler = self._handler(channel, index, route)
                with os.fdopen(fsops.open_regular(path), "rb") as stream:
                    result = handler.handle(ctx, stream)
                s.flush()
                report.update(outcome="would process", counts=result.counts)
        except (Rejected, FormatError, fsops.UnsafeName) as exc:
            report.update(outcome="would be rejected", **_report_from(exc))
        except RetryLater as exc:
            report.update(outcome="would be retried later", reason=str(exc) or "the handler asked to wait")
        except Exception as exc:
            if is_transient(exc):
                raise
            bad = _report_from(exc)
            bad.pop("traceback", None)
            report.update(outcome="would be rejected", **bad)
        finally:
            unit.rollback()
        changes.pop("insert spool_files", None)
        report["changes"] = dict(changes)
        return report


@contextmanager
def _track_changes(engine: Any, counter: Counter[str]) -> Iterator[None]:
    """Count rows each INSERT/UPDATE/DELETE touches, ORM flushes and bulk statements alike."""
    import re

    verb_table = re.compile(r"^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+\"?(\w+)", re.IGNORECASE)

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        m = verb_table.match(statement)
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


# The per-file statements, built once: the ORM's per-statement work costs more than SQLite does.
_T = cast(Table, SpoolFile.__table__)
_INSERT_CLAIM = insert(_T).returning(_T.c.id, sort_by_parameter_order=True)
_SELECT_ROW = (select(_T.c.id, _T.c.channel, _T.c.original_name, _T.c.sha256, _T.c.size, _T.c.claimed_at,
                      _T.c.state, _T.c.owner)
               .where(_T.c.id == bindparam("fid")).with_for_update())
_SELECT_DEDUP = select(_T.c.id).where(_T.c.channel == bindparam("ch"), _T.c.dedup_key == bindparam("key"))
_JSON_OR_NULL = JSON(none_as_null=True)
_UPDATE_DONE = (update(_T).where(_T.c.id == bindparam("fid"))
                .values(state=bindparam("b_state"), route=bindparam("b_route"), handler=bindparam("b_handler"),
                        dedup_key=bindparam("b_dedup_key"),
                        counts=bindparam("b_counts", type_=_JSON_OR_NULL),
                        totals=bindparam("b_totals", type_=_JSON_OR_NULL),
                        summary=bindparam("b_summary", type_=_JSON_OR_NULL),
                        finished_at=bindparam("b_finished_at", type_=_T.c.finished_at.type),
                        final_path=bindparam("b_final_path")))


@dataclass(frozen=True)
class _Snap:
    """Plain values of a ledger row, safe to use after its session closed."""

    id: int
    channel: str
    name: str
    work_name: str
    state: str
    owner: str | None
    lease_until: dt.datetime | None
    final_path: str | None

    @classmethod
    def of(cls, r: SpoolFile) -> _Snap:
        return cls(r.id, r.channel, r.original_name, r.work_name, r.state, r.owner, r.lease_until, r.final_path)


def owner_dead(holder: str | None) -> bool:
    """True when ``holder`` (a ``spool.owner`` token) is a process of this host that no longer runs."""
    return owner.is_dead(holder)


def _alert(row: SpoolFile, report: dict[str, Any], recipients: list[str]) -> Any:
    from store.models.core import Notification

    where = ", ".join(f"{k} {report[k]}" for k in ("line", "record", "field", "columns") if report.get(k))
    body = (f"File {row.original_name} on channel {row.channel} was filed to error/.\n\n"
            f"Reason: {report.get('reason')}\n{('Where: ' + where + chr(10)) if where else ''}"
            f"Handler: {report.get('handler')}\nLedger id: {row.id}\nReport: {row.final_path}.error.json\n")
    return Notification(lane="immediate", kind="file-error", recipients=recipients,
                        subject=f"[spoolgate] {row.channel}: {row.original_name} rejected", body=body,
                        ref=f"spool_file:{row.id}")


def _report_owner(report: Path) -> int | None:
    import json

    try:
        value = json.loads(report.read_text()).get("ledger_id")
    except (OSError, ValueError):
        return None
    return value if isinstance(value, int) else None


#: reports of entries refused without being read (no route or handler applies)
REFUSAL_CODES = frozenset({IssueCode.REFUSED, IssueCode.UNSAFE_NAME, IssueCode.UNREADABLE})


def _retryable(exc: BaseException) -> bool:
    return is_transient(exc) or isinstance(exc, RetryLater) or fsops.is_transient_os(exc)


def _unreadable(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"cannot read the file: {exc.strerror} (check its permissions)"
    if exc.errno in (errno.ELOOP, errno.EINVAL):
        return "not a regular file (replaced by a link or device after it was claimed): refused without reading it"
    return f"cannot read the file: {exc.strerror}"


def _unreadable_code(exc: OSError) -> IssueCode:
    return IssueCode.UNREADABLE if exc.errno in (errno.EACCES, errno.EPERM) else IssueCode.REFUSED


def _report(reason: str, code: IssueCode, **extra: Any) -> dict[str, Any]:
    return {"reason": reason, "code": code, **extra}


def _report_from(exc: BaseException) -> dict[str, Any]:
    """The error report: reason and the first issue's location at the top, every issue below."""
    issues: list[Issue] = []
    code = IssueCode.HANDLER_EXCEPTION
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, FormatError):
        issues, code = exc.issues, IssueCode.FORMAT_ERROR
        if issues:
            reason = issues[0].reason
    elif isinstance(exc, Rejected):
        issues, code, reason = exc.issues, exc.code, exc.reason
    elif isinstance(exc, fsops.UnsafeName):
        code = IssueCode.UNSAFE_NAME
    report: dict[str, Any] = {"reason": reason, "code": code, "exception": type(exc).__name__}
    if issues:
        first = issues[0]
        report.update(line=first.line, record=first.record, field=first.field,
                      columns=list(first.columns) if first.columns else None, value=first.value)
        report["issues"] = [i.to_dict() for i in issues[:1000]]
        report["issue_count"] = len(issues)
    if isinstance(exc, FormatError) and exc.warnings:
        report["warnings"] = [w.to_dict() for w in exc.warnings[:100]]
    if isinstance(exc, DBAPIError):
        report["reason"] = _describe(exc)
    if code is IssueCode.HANDLER_EXCEPTION:
        report["reason"] = _mask_digits(reason)  # a driver's or library's text may quote data
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=8)
        if isinstance(exc, DBAPIError):  # the message quotes data; keep the stack, not the message
            tb = [*traceback.format_tb(exc.__traceback__, limit=8), _describe(exc) + "\n"]
        report["traceback"] = _mask_digits("".join(tb))
    return report


def _describe(exc: BaseException) -> str:
    return _mask_digits(describe(exc))


def _mask_digits(text: str) -> str:
    """Tracebacks may quote data: mask account numbers, names and long digit runs (not dates) in them."""
    return mask_sensitive(text, 6)
