"""Group commit of plain files: several claimed files of batchable handlers decided in one commit.

For a small file the per-file transaction (session, BEGIN, the write lock, COMMIT, the WAL
fsync) costs about as much as its handler's work. A worker holding several claimed files whose
handlers declare ``batchable`` runs them in one unit of work: their rows locked, each handler run
on its file and each ``done`` written as ``Pipeline._apply`` does; then one commit, then each file
is filed away and logged.

What each file keeps:

- the same statements, grouped: the group's rows locked by one SELECT, the ``done`` updates sent
  together after the last handler; two files of the group with the same content make the second's
  update fail on the unique dedup key, which abandons the group (below);
- all or nothing with its handler's changes: the commit makes every file of the group done with
  its changes, or none of them (error, rollback, crash); no file is done without its changes;
- the per-file path for anything but the plain one: a duplicate, a lease lost, no route, an
  empty file, a handler's rejection or exception, a changed file, a transient error or a commit
  the database refuses abandons the group. It is rolled back and every file of it is decided on
  its own by ``Pipeline.process``, so reports, retries and attempts are the per-file path's;
- filing after the commit returned (durable), as per file; a crash after it leaves done rows
  that recovery files;
- a file taken over after an interruption is never grouped: one that crashes the process is
  counted and retired on its own.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from daemon.outcome import Outcome
from daemon.pipeline import Pipeline
from daemon.reports import describe
from spool.crashpoints import crashpoint
from store.config import Channel, DedupPolicy, Route
from store.models.core import FileState
from store.unit import UnitOfWork

if TYPE_CHECKING:
    from daemon.ledger import Snap
    from handlers.base import Handler

log = logging.getLogger("spoolgate.pipeline")


class Abandon(Exception):
    """A file of the group is not plain: the group is rolled back and each file decided on its own."""


@dataclass(frozen=True)
class Plain:
    """A claimed file whose route's handler is batchable, as known before its row is locked."""

    file_id: int
    snap: Snap
    channel: Channel
    route: Route
    handler: Handler


def process_many(pipe: Pipeline, file_ids: list[int]) -> list[Outcome]:
    """Decide ``file_ids``: the plain ones together when there are two or more, the others one by one."""
    if len(file_ids) == 1:
        return [pipe.process(file_ids[0])]
    group: list[Plain] = []
    alone: list[int] = []
    for file_id in file_ids:
        plain = _plain(pipe, file_id)
        if plain is None:
            alone.append(file_id)
        else:
            group.append(plain)
    outcomes: list[Outcome] = []
    if len(group) > 1:
        done = decide_together(pipe, group)
        if done is None:
            alone = [p.file_id for p in group] + alone
        else:
            outcomes.extend(done)
    else:
        alone = [p.file_id for p in group] + alone
    failed: Exception | None = None
    for file_id in alone:  # one file's exception never leaves the others undecided
        try:
            outcomes.append(pipe.process(file_id))
        except Exception as exc:
            failed = failed or exc
    if failed is not None:
        raise failed  # the worker reports it, as for a file processed alone
    return outcomes


def _plain(pipe: Pipeline, file_id: int) -> Plain | None:
    """The file as a group member, or None when it must go the per-file way."""
    snap = pipe.ledger.claimed.get(file_id)
    if snap is None or file_id in pipe.ledger.recovered or snap.state != FileState.PROCESSING:
        return None
    ch = pipe.settings.channels.get(snap.channel)
    if ch is None:
        return None
    for index, route in enumerate(ch.routes):
        if route.matches(snap.name):
            try:
                handler = pipe.handler_for(snap.channel, index, route)
            except Exception:  # the per-file path reports it
                return None
            return Plain(file_id, snap, ch, route, handler) if handler.batchable else None
    return None


def decide_together(pipe: Pipeline, group: list[Plain]) -> list[Outcome] | None:
    """One unit of work for the group, then filing and the log line per file; None: abandoned, nothing
    applied (each file is still claimed and in work/)."""
    started = time.monotonic()
    ids = [p.file_id for p in group]
    pipe.inflight.update(ids)
    try:
        try:
            unit = UnitOfWork(pipe.db, pipe.settings)  # its source is set to each file in turn
        except Exception as exc:
            log.debug("group of %d files: no unit of work (%s); each file on its own", len(ids), describe(exc))
            return None
        try:
            outcomes = _decide(pipe, unit, group)
            crashpoint("in_transaction")
        except Exception as exc:
            unit.rollback()
            log.debug("group of %d files abandoned (%s); each file on its own", len(ids), describe(exc))
            return None
        except BaseException:
            unit.rollback()
            raise
        try:
            unit.commit()
        except Exception as exc:  # rolled back by the unit: nothing of the group applied
            log.debug("group of %d files: commit refused (%s); each file on its own", len(ids), describe(exc))
            return None
        crashpoint("after_commit")
        for p in group:
            pipe.ledger.claimed.pop(p.file_id, None)
        pipe.isolated(f"deliver file {ids[0]}", f"group of {len(ids)}", unit.deliver)
        for p, outcome in zip(group, outcomes, strict=True):
            try:
                assert outcome.path is not None
                pipe.file_away(p.file_id, p.channel, p.snap.work_name, outcome.path, None)
            except Exception as exc:  # decided: recovery files it once the folder takes it
                pipe.problem(f"filing {p.snap.channel}", p.snap.name, exc)
    finally:
        pipe.inflight.difference_update(ids)
    each = (time.monotonic() - started) / len(group)
    for outcome in outcomes:
        outcome.duration_s = each
        pipe.emit(outcome)
    return outcomes


def _decide(pipe: Pipeline, unit: UnitOfWork, group: list[Plain]) -> list[Outcome]:
    """``Pipeline._apply``'s plain path for each file of the group, in ``unit``: the rows locked by one
    statement, each handler run in turn, the ``done`` updates sent together; anything else raises
    ``Abandon``."""
    conn = unit.session.connection()
    rows = pipe.ledger.lock_rows(conn, [p.file_id for p in group])
    values: list[dict[str, Any]] = []
    outcomes: list[Outcome] = []
    for p in group:
        row = rows.get(p.file_id)
        if row is None or row.owner != pipe.identity or row.state != FileState.PROCESSING:
            raise Abandon(f"file {p.file_id} is no longer ours to process")
        if p.channel.dedup is not DedupPolicy.REPROCESS and row.earlier is not None:
            raise Abandon(f"file {p.file_id} is a duplicate")
        if row.size == 0 and not p.route.allow_empty:
            raise Abandon(f"file {p.file_id} is empty")
        unit.source = f"file:{p.file_id}"  # what it writes is this file's (the console links them by it)
        result = pipe.run_handler(unit, p.channel, row, p.route, p.handler, p.channel.work / p.snap.work_name)
        done, outcome = pipe.done_values(p.channel, row, p.route, result)
        values.append(done)
        outcomes.append(outcome)
    pipe.ledger.mark_done_many(conn, values)
    return outcomes
