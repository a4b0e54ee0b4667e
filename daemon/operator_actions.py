"""Operator actions (retry, release, job run, reload) and their record in ``operator_actions``.

The web console and the CLI both go through here, so an action is recorded the same
way whoever takes it; a refused or failed action is recorded too.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from store.config import Settings
from store.db import Database, utcnow
from store.models.console import OperatorAction

#: longest reason kept; the column is TEXT, the bound keeps a pasted log out of the table
MAX_REASON = 2000


@dataclass(frozen=True)
class Actor:
    """Who acts and through what: ``web``, ``cli`` or ``daemon``."""

    name: str
    via: str


@dataclass
class ActionResult:
    ok: bool
    message: str
    details: list[str] = field(default_factory=list)


class ReasonRequired(ValueError):
    """An operator action without a reason is refused before anything changes."""


def unix_user() -> str:
    """The CLI's default actor: the Unix user running the command."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


def clean_reason(reason: str | None) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise ReasonRequired("a reason is required")
    return text[:MAX_REASON]


def record(session: Session, actor: Actor, action: str, target: str, reason: str, *, outcome: str = "ok",
           detail: str | None = None, at: dt.datetime | None = None) -> None:
    session.add(OperatorAction(at=at or utcnow(), actor=actor.name[:80], via=actor.via, action=action,
                               target=target[:255], reason=reason[:MAX_REASON], outcome=outcome, detail=detail))


def record_alone(db: Database, actor: Actor, action: str, target: str, reason: str, *, outcome: str = "ok",
                 detail: str | None = None) -> None:
    """Record in a transaction of its own (for actions whose effect is not in the database)."""
    with db.transaction() as s:
        record(s, actor, action, target, reason, outcome=outcome, detail=detail)


def retry_file(settings: Settings, db: Database, ref: str, actor: Actor, reason: str) -> ActionResult:
    """Send a file (ledger id, name, or ``*``) from error/ back to its inbox."""
    from daemon import operator

    why = clean_reason(reason)
    target = "file:all" if ref == "*" else (f"file:{ref}" if ref.isdigit() else f"file:{os.path.basename(ref)}")
    try:
        moved = operator.retry(settings, db, ref)
    except FileExistsError as exc:
        record_alone(db, actor, "retry", target, why, outcome="failed", detail=str(exc))
        return ActionResult(False, str(exc))
    if not moved:
        record_alone(db, actor, "retry", target, why, outcome="failed", detail="nothing to retry")
        return ActionResult(False, "nothing to retry")
    record_alone(db, actor, "retry", target, why, detail="; ".join(moved)[:4000])
    return ActionResult(True, f"{len(moved)} file(s) back in their inbox", moved)


def release_batch(db: Database, batch_id: int, actor: Actor, reason: str) -> ActionResult:
    """Release a batch suspended over a risk limit (seed 002); the next check-submit run writes it."""
    from store.models.ach import HoldState, SuspendedBatch

    why = clean_reason(reason)
    target = f"ach-batch:{batch_id}"
    with db.transaction() as s:
        batch = s.get(SuspendedBatch, batch_id, with_for_update=True)
        if batch is None or batch.state != HoldState.SUSPENDED:
            msg = (f"no suspended batch {batch_id}" if batch is None
                   else f"batch {batch_id} is {batch.state}, not suspended")
            record(s, actor, "release", target, why, outcome="refused", detail=msg)
            return ActionResult(False, msg)
        s.execute(update(SuspendedBatch).where(SuspendedBatch.id == batch.id).values(
            state=HoldState.RELEASED, released_at=utcnow(), released_by=actor.name[:80]))
        msg = (f"batch {batch_id} released ({batch.entries} entries, debit {batch.debit_total / 100:,.2f}); "
               f"the next check-submit run submits it")
        record(s, actor, "release", target, why, detail=msg)
    return ActionResult(True, msg)


def request_job_run(settings: Settings, db: Database, name: str, actor: Actor, reason: str) -> ActionResult:
    """Make a job due now; the running daemon's scheduler starts it on its next tick."""
    from store.models.core import JobState

    why = clean_reason(reason)
    target = f"job:{name}"
    with db.transaction() as s:
        if name not in settings.jobs:
            record(s, actor, "job-run", target, why, outcome="refused", detail="unknown job")
            return ActionResult(False, f"unknown job {name!r}")
        now = utcnow()
        if s.scalar(select(JobState.job).where(JobState.job == name)) is None:
            s.add(JobState(job=name, next_run_at=now))
        else:
            s.execute(update(JobState).where(JobState.job == name).values(next_run_at=now))
        record(s, actor, "job-run", target, why, detail="due now; the daemon runs it on its next tick")
    return ActionResult(True, f"job {name} is due now; the daemon starts it on its next tick")
