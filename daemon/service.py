"""The running daemon: the wiring of watching, intake, workers, jobs and mail, and their health.

Threads are separated by job (``daemon/threads.py``): the watchdog handler only enqueues a path
(``daemon/watch.py``), one intake thread decides completeness and hands complete files to the
work queue (``daemon/intake.py``), N workers claim and process (``daemon/workqueue.py``); periodic
threads run recovery, leases, the scheduler, the mailer and the heartbeat. ``stop`` stops intake
first, lets workers finish the file in hand, then the rest. The CLI owns signals and exit codes;
this module never touches either.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from daemon import together
from daemon.heartbeat import INTERVAL_S as HEARTBEAT_S
from daemon.heartbeat import HeartbeatWriter
from daemon.intake import Intake
from daemon.mailer import Mailer
from daemon.metrics import Metrics
from daemon.pipeline import Outcome, Pipeline
from daemon.scheduler import RunSummary, Scheduler
from daemon.threads import Crew, Periodic, ServiceThread
from daemon.watch import OverflowHook, os_reason
from daemon.workqueue import Worker, WorkQueue
from spool import events, fsops
from store.config import Settings
from store.db import Database

#: how often gauges read from folders and the database are refreshed
METRICS_REFRESH_S = 5.0

log = logging.getLogger("spoolgate.daemon")


class Daemon:
    """One daemon process's service: its threads, the pipeline they share, and its health."""

    def __init__(self, settings: Settings, db: Database, *, identity: str | None = None,
                 metrics: Metrics | None = None, run_jobs: bool = True) -> None:
        self.settings = settings
        self.db = db
        self.metrics = metrics or Metrics()
        self.crew = Crew()
        self.heartbeat = self.crew.heartbeat
        self.stopping = self.crew.stopping
        self.work = WorkQueue()
        self.pipeline = Pipeline(settings, db, identity=identity, on_outcome=self._outcome,
                                 on_problem=self.problem, should_stop=self.stopping.is_set)
        self.identity = self.pipeline.identity
        self.scheduler = Scheduler(settings, db, identity=self.identity, on_run=self._job_done)
        self.mailer = Mailer(settings.smtp, db, identity=self.identity)
        self.mailer.on_outcome = lambda outcome, n: self.metrics.mail.labels(outcome).inc(n)
        self.run_jobs = run_jobs
        self.counts: dict[str, int] = {}
        self._count_lock = threading.Lock()
        self.intake = Intake(self.crew, settings, self.work, on_channel_state=self.channel_state,
                             on_problem=self.problem, on_tick=self.update_gauges)
        self.workers: list[Worker] = []
        self.periodic: list[Periodic] = []
        self.last_errors: list[str] = []
        #: channels degraded (broken inbox) and the alerts still to queue for them
        self.degraded: dict[str, str] = {}
        self._alerts: list[tuple[str, str | None]] = []

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        self._ensure_folders(self.settings)
        self.work.put_files(self.pipeline.recover(startup=True))
        OverflowHook(self._overflow).install()
        self.intake.arm()
        self.workers = [Worker(f"worker-{i}", self.crew, self.work, handle=self.handle_items,
                               batch=lambda: self.settings.claim_batch, on_problem=self.problem,
                               files=lambda: self.settings.commit_batch)
                        for i in range(self.settings.workers)]
        for w in self.workers:
            w.start()
        self.intake.start()
        passes: list[tuple[str, Callable[[], Any], float]] = [
            ("recovery", self._recover_pass, max(self.settings.scan_interval_s, 5.0))]
        if not self.db.is_sqlite:
            passes.append(("leases", self.pipeline.renew_leases, self.settings.lease_s / 3))
        if self.run_jobs:
            # always: a reload may add jobs or late-file expectations (a tick without either costs nothing)
            passes.append(("scheduler", self.scheduler.tick, 1.0))
        passes.append(("mailer", self.mailer.send_pending, 1.0))
        passes.append(("heartbeat", HeartbeatWriter(self.db, self.identity, self.status_text), HEARTBEAT_S))
        self.pipeline.defer_sync = True
        passes.append(("syncer", fsops.sync_dirty, 0.2))
        self.periodic = [Periodic(name, self.crew, fn, interval) for name, fn, interval in passes]
        for p in self.periodic:
            p.start()
        if self.settings.metrics.enabled:
            events.subscribe(self.metrics.on_event)
            self.periodic.append(Periodic("metrics", self.crew, self._refresh_metrics, METRICS_REFRESH_S))
            self.periodic[-1].start()
            self.metrics.serve(self.settings.metrics.host, self.settings.metrics.port)

    def stop(self, timeout: float | None = None) -> bool:
        """Stop intake first, then let workers finish their file. True if all stopped in time."""
        timeout = self.settings.shutdown_timeout_s if timeout is None else timeout
        deadline = time.monotonic() + timeout
        self.stopping.set()
        self.intake.stopped.set()
        # Workers end after their current file, told now: closing the watches takes up to a
        # second, and a worker told only after it would start the claimed files meant for release.
        for w in self.workers:
            w.stopped.set()
        self.intake.watches.shutdown()
        self.intake.join(timeout=max(0.1, deadline - time.monotonic()))
        for p in self.periodic:
            p.stopped.set()
        ok = True
        for t in [*self.workers, *self.periodic]:
            t.join(timeout=max(0.1, deadline - time.monotonic()))
            ok = ok and not t.is_alive()
        events.unsubscribe(self.metrics.on_event)
        if ok:
            # Claimed but never started: hand back without counting an attempt.
            self.pipeline.release(self.work.take_files())
        fsops.sync_dirty()
        return ok

    def reload(self, settings: Settings) -> None:
        self.settings = settings
        self.pipeline.reload(settings)
        self.scheduler.reload(settings)
        self.mailer.smtp = settings.smtp
        self.intake.configure(settings)
        self._ensure_folders(settings)

    def _ensure_folders(self, settings: Settings) -> None:
        """Create missing folders; one that cannot be created degrades its channel only."""
        for name, ch in settings.channels.items():
            for folder in (ch.inbox, ch.work, ch.processed, ch.error):
                try:
                    fsops.ensure_dir(folder)
                except OSError as exc:
                    log.error("channel %s: folder %s unusable: %s", name, folder, os_reason(exc))
                    self.problem("folders")
        for oname, o in settings.outbound.items():
            try:
                fsops.ensure_dir(o.folder)
            except OSError as exc:
                log.error("outbound %s: folder %s unusable: %s", oname, o.folder, os_reason(exc))
                self.problem("folders")

    # work ------------------------------------------------------------------------------------
    def handle_items(self, items: list[tuple[Any, ...]]) -> None:
        """Claimed files (decided together where they can be), or ready files of one channel: claimed
        together, then queued but for the first ``commit_batch``, which this worker decides at once."""
        kind = items[0][0]
        if kind == "file":
            together.process_many(self.pipeline, [item[1] for item in items])
            return
        channel = items[0][1]
        paths = [path for _, _, path in items]
        try:
            if kind == "refuse":
                for path in paths:
                    self.pipeline.isolated(f"refuse {channel}", path.name, self.pipeline.refuse, channel, path,
                                           "not a regular file (symlink, FIFO or device): refused without "
                                            "following it")
                return
            ids = self.pipeline.claim_many(channel, paths)
        finally:
            for path in paths:
                self.work.release(path)
        if ids:
            n = self.settings.commit_batch
            self.work.put_files(ids[n:])  # the other workers start on these at once
            together.process_many(self.pipeline, ids[:n])

    def _recover_pass(self) -> None:
        self._queue_alerts()
        self.work.put_files(self.pipeline.recover())

    def problem(self, where: str) -> None:
        """An item a loop skipped after logging it (no report could be written)."""
        self.metrics.skipped.labels(where).inc()

    def channel_state(self, name: str, reason: str | None) -> None:
        """Intake reports a channel down (with the reason) or back (None)."""
        with self._count_lock:
            if reason is None:
                self.degraded.pop(name, None)
            else:
                self.degraded[name] = reason
            self._alerts.append((name, reason))
        self.metrics.channel_down.labels(name).set(0 if reason is None else 1)

    def _queue_alerts(self) -> None:
        """Alerts for degraded channels, queued from the recovery thread (intake never waits on the database)."""
        from store.models.core import Notification

        with self._count_lock:
            alerts, self._alerts = self._alerts, []
        for name, reason in alerts:
            ch = self.settings.channels.get(name)
            recipients = (ch.alert_recipients if ch else ()) or self.settings.smtp.alert_recipients
            if not recipients or reason is None:
                continue
            with self.db.transaction() as s:
                s.add(Notification(lane="immediate", kind="channel-down", recipients=list(recipients),
                                   subject=f"[spoolgate] channel {name} stopped taking files",
                                   body=f"Channel {name}: {reason}\nThe other channels go on; intake resumes "
                                        "by itself once the folder is usable again.\n",
                                   ref=f"channel:{name}"))

    def _overflow(self) -> None:
        self.metrics.overflow_rescans.inc()
        self.intake.scan_now.set()

    def _outcome(self, o: Outcome) -> None:
        with self._count_lock:
            self.counts[o.state] = self.counts.get(o.state, 0) + 1
            if o.state in ("error", "duplicate") and o.reason:
                self.last_errors = [*self.last_errors[-9:], f"{o.channel}/{o.name}: {o.reason}"]
        self.metrics.files.labels(o.channel, o.state).inc()
        self.metrics.duration.labels(o.channel).set(o.duration_s)
        if o.state in ("done", "error", "duplicate"):
            self.metrics.processing.labels(o.channel).observe(o.duration_s)
        if o.state == "done":
            self.metrics.channel_success.labels(o.channel).set(time.time())

    def _job_done(self, r: RunSummary) -> None:
        self.metrics.jobs.labels(r.job, r.outcome).inc()
        if r.outcome != "failure":
            self.metrics.job_success.labels(r.job).set(time.time())

    def _refresh_metrics(self) -> None:
        from daemon import expectations
        from store.db import utcnow

        self.metrics.refresh(self.settings, self.db)
        with self.db.transaction() as s:
            for st in expectations.status(s, self.settings, utcnow()):
                self.metrics.late.labels(st.channel, st.name).set(1 if st.is_late else 0)

    def update_gauges(self) -> None:
        self.metrics.queue_depth.set(self.work.qsize())
        self.metrics.pending.set(self.intake.pending_count())
        self.metrics.oldest_waiting.set(self.intake.oldest_waiting_s())

    # health ----------------------------------------------------------------------------------
    def threads(self) -> list[ServiceThread]:
        return [self.intake, *self.workers, *self.periodic]

    def health(self, max_beat_age_s: float = 60.0) -> list[str]:
        """Problems that must stop the watchdog pings (empty: healthy)."""
        problems = [f"thread {t.name} died: {t.crashed!r}" for t in self.threads()
                    if t.crashed is not None
                    or (not t.is_alive() and not self.stopping.is_set() and not t.stopped.is_set())]
        # Only intake is held to a heartbeat: it never waits on the database. Workers, jobs, the
        # mailer and the lease renewer may wait behind a long file transaction; they must be alive.
        problems += [f"thread {n} stuck" for n in self.heartbeat.stale(max_beat_age_s) if n == "intake"]
        db_problems = self.db.problems()
        if db_problems and not self.intake.stopped.is_set():
            log.critical("database lost: %s; intake stopped", "; ".join(db_problems))
            self.intake.stopped.set()  # no file is claimed into a ledger that is gone
        problems += db_problems
        return problems

    def status_text(self) -> str:
        with self._count_lock:
            c = dict(self.counts)
            down = dict(self.degraded)
        text = (f"done={c.get('done', 0)} error={c.get('error', 0)} duplicate={c.get('duplicate', 0)} "
                f"queued={self.work.qsize()} pending={self.intake.pending_count()}")
        if down:
            text += " degraded=" + ",".join(sorted(down))
        return text
