"""The job scheduler inside the daemon (seed 002's scheduler), and ``jobs run``.

A job has an interval (seconds to days, or business days on a calendar) and an
optional start time. Its schedule and lock live in ``job_state`` so a job never
runs twice at once, also across daemons sharing a PostgreSQL database; every
run is recorded in ``job_runs`` and may notify on success, failure or no-op.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from formats.errors import mask_sensitive
from handlers.chain import ChainJob
from handlers.jobs import JobContext, JobResult
from handlers.registry import job_class
from store.calendars import calendar, parse_interval
from store.config import Job as JobConfig
from store.config import Settings
from store.db import Database, utcnow
from store.models.core import JobRun, JobState, Notification

log = logging.getLogger("spoolgate.scheduler")

#: a running job's lock is extended while it runs; a dead daemon's lock expires after this
LOCK_S = 300


class JobBusy(Exception):
    """The job is already running (here or in another daemon)."""


class JobCannotDryRun(Exception):
    """The job's kind acts outside the database (files, SFTP), so a dry run cannot be promised."""


@dataclass
class RunSummary:
    job: str
    run_id: int
    outcome: str
    counts: dict[str, int]
    message: str


def next_run(job: JobConfig, after: dt.datetime) -> dt.datetime:
    """The first start strictly after ``after`` (UTC), honouring ``at`` and business days."""
    interval = parse_interval(job.every)
    local_after = after.astimezone()
    cal = calendar(job.calendar)
    if interval.business_days:
        hh, mm = (int(x) for x in (job.at or "00:00").split(":"))
        day = cal.add_business_days(local_after.date(), interval.business_days)
        cand = local_after.replace(year=day.year, month=day.month, day=day.day, hour=hh, minute=mm, second=0,
                                   microsecond=0)
        return cand.astimezone(dt.UTC)
    step = dt.timedelta(seconds=interval.seconds)
    if job.at is None:
        return (after + step).astimezone(dt.UTC)
    hh, mm = (int(x) for x in job.at.split(":"))
    anchor = local_after.replace(hour=hh, minute=mm, second=0, microsecond=0)
    if anchor > local_after:
        anchor -= dt.timedelta(days=1)
    n = int((local_after - anchor) / step) + 1
    return (anchor + n * step).astimezone(dt.UTC)


def first_run(job: JobConfig, now: dt.datetime) -> dt.datetime:
    """Jobs with a start time first run at it; others one interval after start-up."""
    if job.at is None:
        return next_run(job, now)
    interval = parse_interval(job.every)
    hh, mm = (int(x) for x in job.at.split(":"))
    local = now.astimezone()
    cand = local.replace(hour=hh, minute=mm, second=0, microsecond=0)
    if cand <= local:
        cand += dt.timedelta(days=1)
    if interval.business_days:
        cal = calendar(job.calendar)
        while not cal.is_business_day(cand.date()):
            cand += dt.timedelta(days=1)
    return cand.astimezone(dt.UTC)


class Scheduler:
    def __init__(self, settings: Settings, db: Database, *, identity: str,
                 clock: Callable[[], dt.datetime] = utcnow, on_run: Callable[[RunSummary], None] | None = None
                 ) -> None:
        self.settings = settings
        self.db = db
        self.identity = identity
        self.clock = clock
        self.on_run = on_run

    def reload(self, settings: Settings) -> None:
        self.settings = settings

    def _state(self, name: str) -> None:
        with self.db.transaction() as s:
            if s.get(JobState, name) is None:
                job = self.settings.jobs[name]
                s.add(JobState(job=name, next_run_at=first_run(job, self.clock())))
                try:
                    s.flush()
                except IntegrityError:
                    s.rollback()

    def tick(self) -> list[RunSummary]:
        """Check late-file expectations, then run every enabled job that is due (one pass)."""
        from daemon import expectations

        expectations.evaluate(self.db, self.settings, self.clock(), identity=self.identity)
        out = []
        for name, job in list(self.settings.jobs.items()):
            if not job.enabled:
                continue
            self._state(name)
            with self.db.transaction() as s:
                st = s.get(JobState, name)
                due = st is not None and st.next_run_at is not None and st.next_run_at <= self.clock()
            if not due:
                continue
            try:
                out.append(self.run(name, trigger="schedule"))
            except JobBusy:
                continue
        return out

    def _acquire(self, name: str) -> bool:
        from spool.owner import is_dead

        now = self.clock()
        with self.db.transaction() as s:
            st = s.get(JobState, name)
            if st is None:
                s.add(JobState(job=name, next_run_at=None))
                s.flush()
                holder = None
            else:
                holder = st.lock_owner
            free = or_(JobState.lock_owner.is_(None), JobState.lock_until < now)
            if holder is not None and is_dead(holder):
                # a run killed with -9 on this host: its lock need not wait for expiry
                log.warning("job %s: taking over the lock of dead run owner %s", name, holder)
                free = or_(free, JobState.lock_owner == holder)
            res = s.execute(update(JobState).where(JobState.job == name, free)
                            .values(lock_owner=self.identity, lock_until=now + dt.timedelta(seconds=LOCK_S)))
            return bool(res.rowcount)  # type: ignore[attr-defined]

    def _extend(self, name: str, stop: threading.Event) -> None:
        while not stop.wait(LOCK_S / 3):
            try:
                with self.db.transaction() as s:
                    s.execute(update(JobState).where(JobState.job == name, JobState.lock_owner == self.identity)
                              .values(lock_until=self.clock() + dt.timedelta(seconds=LOCK_S)))
            except Exception:
                log.warning("job %s: could not extend its lock", name, exc_info=True)

    def run(self, name: str, *, trigger: str = "manual", dry_run: bool = False) -> RunSummary:
        try:
            job_conf = self.settings.jobs[name]
        except KeyError:
            raise KeyError(f"unknown job {name}") from None
        if dry_run:
            return self._dry_run(name, job_conf)
        if not self._acquire(name):
            raise JobBusy(f"job {name} is already running")
        stop = threading.Event()
        extender = threading.Thread(target=self._extend, args=(name, stop), daemon=True, name=f"lock-{name}")
        extender.start()
        started = self.clock()
        with self.db.transaction() as s:
            run = JobRun(job=name, kind=job_conf.kind, trigger=trigger, owner=self.identity, started_at=started)
            s.add(run)
            s.flush()
            run_id = run.id
        t0 = time.monotonic()
        try:
            result = self._work(name, job_conf, run_id, started, dry_run=False)
        finally:
            stop.set()
            extender.join(timeout=5)
        # Rendered before the bookkeeping transaction: a template error fails the run, never the bookkeeping.
        result, note = _notification(name, run_id, job_conf, result, started)
        summary = RunSummary(name, run_id, result.outcome, result.counts, result.message)
        with self.db.transaction() as s:
            s.execute(update(JobRun).where(JobRun.id == run_id).values(
                finished_at=self.clock(), outcome=result.outcome, counts=result.counts or None,
                message=result.message or None))
            values: dict[str, object] = {"lock_owner": None, "lock_until": None, "last_run_id": run_id}
            if trigger == "schedule":
                values["next_run_at"] = next_run(job_conf, self.clock())
            s.execute(update(JobState).where(JobState.job == name).values(**values))
            if note is not None:
                s.add(note)
        log.info("job %s run=%d trigger=%s outcome=%s counts=%s duration=%.3fs%s", name, run_id, trigger,
                 result.outcome, result.counts, time.monotonic() - t0,
                 f" message={result.message!r}" if result.message else "",
                 extra={"job": name, "run_id": run_id, "trigger": trigger, "outcome": result.outcome,
                        "counts": result.counts, "duration": round(time.monotonic() - t0, 6)})
        if self.on_run:
            self.on_run(summary)
        return summary

    def _work(self, name: str, job_conf: JobConfig, run_id: int, started: dt.datetime, *,
              dry_run: bool) -> JobResult:
        try:
            job = job_class(job_conf.kind)(self.settings, name, job_conf)
            if isinstance(job, ChainJob):
                return self._chain(name, job, dry_run)
            ctx = JobContext(settings=self.settings, db=self.db, job=name, run_id=run_id, now=started,
                             calendar=calendar(job_conf.calendar), dry_run=dry_run,
                             log=logging.getLogger(f"spoolgate.job.{name}"))
            return job.run(ctx)
        except Exception as exc:
            # stored, mailed and printed: never with account numbers or SQL parameters in it
            message = mask_sensitive(f"{type(exc).__name__}: {exc}", 8)
            # one line for operators; the traceback only when debugging
            log.error("job %s run %d failed: %s", name, run_id, message, exc_info=log.isEnabledFor(logging.DEBUG))
            return JobResult(outcome="failure", message=message)

    def _dry_run(self, name: str, job_conf: JobConfig) -> RunSummary:
        """The job's work in units that roll back; no run, lock, schedule or e-mail is recorded."""
        cls = job_class(job_conf.kind)
        if not cls.dry_run_safe:
            raise JobCannotDryRun(f"job {name} ({job_conf.kind}) changes files or remote systems outside the "
                                  "database and cannot run dry")
        result = self._work(name, job_conf, 0, self.clock(), dry_run=True)
        log.info("job %s dry run: outcome=%s counts=%s", name, result.outcome, result.counts)
        return RunSummary(name, 0, result.outcome, result.counts, result.message)
    def _chain(self, name: str, chain: ChainJob, dry_run: bool) -> JobResult:
        """Steps in order; the first failure (or a step already running) stops the chain."""
        done: dict[str, int] = {}
        for step in chain.steps:
            try:
                summary = self.run(step, trigger="chain", dry_run=dry_run)
            except JobBusy as exc:
                return JobResult(outcome="failure", counts=done, message=f"step {step}: {exc}")
            if summary.outcome == "failure":
                return JobResult(outcome="failure", counts=done,
                                 message=f"step {step} (run {summary.run_id}) failed: {summary.message}")
            done[step] = summary.run_id
        return JobResult(outcome="success", counts=done, message=" → ".join(chain.steps))

    def list(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        with self.db.transaction() as s:
            for name, job in self.settings.jobs.items():
                st = s.get(JobState, name)
                last = s.scalar(select(JobRun).where(JobRun.job == name).order_by(JobRun.id.desc()).limit(1))
                out.append({"job": name, "kind": job.kind, "every": job.every, "at": job.at, "enabled": job.enabled,
                            "next_run_at": st.next_run_at.isoformat() if st and st.next_run_at else None,
                            "running": bool(st and st.lock_owner),
                            "last_outcome": last.outcome if last else None,
                            "last_started": last.started_at.isoformat() if last else None})
        return out


def _job_notification(name: str, run_id: int, conf: JobConfig, result: JobResult,
                      started: dt.datetime) -> Notification:
    from store.templates import render

    template = {"success": "batch_success", "failure": "batch_failure", "noop": "batch_noop"}[result.outcome]
    subject, body = render(template, job=name, kind=conf.kind, run_id=run_id, outcome=result.outcome,
                           counts=result.counts, message=result.message, started=started.isoformat())
    return Notification(lane="immediate", kind=f"job-{result.outcome}", recipients=list(conf.recipients),
                        subject=subject, body=body, ref=f"job_run:{run_id}")


def _notification(name: str, run_id: int, conf: JobConfig, result: JobResult,
                  started: dt.datetime) -> tuple[JobResult, Notification | None]:
    """The run's e-mail, if one is due. A template that cannot be rendered fails the run (with the
    error in its message); the failure e-mail is then tried, and left out if it fails too."""
    if not conf.recipients or result.outcome not in conf.notify_on:
        return result, None
    try:
        return result, _job_notification(name, run_id, conf, result, started)
    except Exception as exc:
        log.error("job %s run %d: the %s e-mail could not be rendered: %s: %s", name, run_id, result.outcome,
                  type(exc).__name__, exc)
        done = f"the job's work ended {result.outcome}" + (f" ({result.message})" if result.message else "")
        failed = JobResult(outcome="failure", counts=result.counts,
                           message=f"{done}, but its {result.outcome} e-mail could not be rendered: "
                                   f"{type(exc).__name__}: {exc}")
    if result.outcome == "failure" or "failure" not in conf.notify_on:
        return failed, None
    try:
        return failed, _job_notification(name, run_id, conf, failed, started)
    except Exception:
        log.error("job %s run %d: the failure e-mail could not be rendered either", name, run_id)
        return failed, None
