"""The running daemon: watching, intake, workers, jobs, mail, and their health.

Threads are separated by job. The watchdog handler only enqueues a path. One
intake thread decides completeness and hands complete files to the worker
queue. N workers claim and process. The scheduler runs jobs, the mailer sends
the notification queue. ``stop`` stops intake first, lets workers finish the
file in hand, then the rest. The CLI owns signals and exit codes; this module
never touches either.
"""

from __future__ import annotations

import errno
import heapq
import logging
import queue
import stat
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError
from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from daemon.heartbeat import INTERVAL_S as HEARTBEAT_S
from daemon.heartbeat import HeartbeatWriter
from daemon.mailer import Mailer
from daemon.metrics import Metrics
from daemon.pipeline import Outcome, Pipeline, Transient
from daemon.scheduler import RunSummary, Scheduler
from spool import events, fsops
from spool.intake import CompletenessTracker, Verdict
from store.config import Channel, Completeness, Settings
from store.db import Database, DatabaseUnavailable, describe

#: how often gauges read from folders and the database are refreshed
METRICS_REFRESH_S = 5.0

log = logging.getLogger("spoolgate.daemon")


def _oserror(exc: BaseException) -> str:
    return exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc)


def _shorten_move_grouping(delay_s: float = 0.02) -> None:
    """Every claim renames a file *out of* an inbox: an unpaired IN_MOVED_FROM, which watchdog
    holds at the head of its event FIFO for 0.5 s waiting for a partner that never comes, delaying
    every later event. Renames inside an inbox arrive in one read and still pair up; an unpaired
    moved-to is reported as a created file, which is all intake needs."""
    try:
        from watchdog.observers.inotify_move_event_grouper import InotifyMoveEventGrouper
    except ImportError:  # another watchdog layout: keep its default
        return
    if getattr(InotifyMoveEventGrouper, "delay", None) is not None:
        InotifyMoveEventGrouper.delay = delay_s


class Heartbeat:
    """Each thread beats; the supervisor pings systemd only while all are alive and beating."""

    def __init__(self) -> None:
        self._beats: dict[str, float] = {}
        self._lock = threading.Lock()

    def beat(self, name: str) -> None:
        with self._lock:
            self._beats[name] = time.monotonic()

    def stale(self, max_age_s: float) -> list[str]:
        now = time.monotonic()
        with self._lock:
            return [n for n, t in self._beats.items() if now - t > max_age_s]


class ServiceThread(threading.Thread):
    """A thread with a stop event, a heartbeat, and a record of how it died."""

    def __init__(self, name: str, daemon_: Daemon) -> None:
        super().__init__(name=name, daemon=True)
        self.owner = daemon_
        self.stopped = threading.Event()
        self.crashed: BaseException | None = None

    def run(self) -> None:
        try:
            self.loop()
        except BaseException as exc:  # recorded for the supervisor; the watchdog pings stop
            if self.owner.stopping.is_set() or self.stopped.is_set():
                # torn down under it while stopping (watches removed, database closed): not a death
                log.info("thread %s ended while stopping: %s", self.name, exc)
                return
            self.crashed = exc
            log.critical("thread %s died", self.name, exc_info=True)

    def loop(self) -> None:
        raise NotImplementedError

    def beat(self) -> None:
        self.owner.heartbeat.beat(self.name)


class _Enqueue(FileSystemEventHandler):
    """The watchdog callback: put the path on the intake queue and return."""

    def __init__(self, channel: str, events: queue.SimpleQueue[tuple[str, Path]]) -> None:
        self.channel = channel
        self.events = events

    def dispatch(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        path = event.dest_path if isinstance(event, FileMovedEvent) else event.src_path
        if path:
            self.events.put((self.channel, Path(str(path))))


class _OverflowHook(logging.Handler):
    """watchdog only logs an inotify queue overflow; turn that into an immediate rescan."""

    def __init__(self, on_overflow: Callable[[], None]) -> None:
        super().__init__(logging.WARNING)
        self.on_overflow = on_overflow

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self.on_overflow()


@dataclass
class _Watch:
    observer: BaseObserver
    watch: ObservedWatch | None
    inode: int | None


class Intake(ServiceThread):
    """Turns events and scans into complete files on the work queue."""

    def __init__(self, daemon_: Daemon) -> None:
        super().__init__("intake", daemon_)
        self.events: queue.SimpleQueue[tuple[str, Path]] = queue.SimpleQueue()
        self.trackers: dict[str, CompletenessTracker[Channel]] = {}
        self._due: list[tuple[float, str, str]] = []
        self._queued: dict[Path, float] = {}
        self._lock = threading.Lock()
        self.scan_now = threading.Event()
        self._watches: dict[str, _Watch] = {}
        self._inotify: BaseObserver | None = None
        self._polling_only = False
        #: channels whose inbox cannot be watched or read, with the reason; the others go on
        self.down: dict[str, str] = {}
        self.configure(daemon_.settings)

    def configure(self, settings: Settings) -> None:
        self.trackers = {name: CompletenessTracker(ch) for name, ch in settings.channels.items() if ch.enabled}
        self.scan_now.set()

    # watches ---------------------------------------------------------------------------------
    def arm(self) -> None:
        if self._inotify is None and not self._polling_only:
            _shorten_move_grouping()
            try:
                self._inotify = Observer()
                self._inotify.daemon = True
                self._inotify.start()
            except OSError as exc:  # inotify instances or watches exhausted: poll rather than stop
                log.error("inotify unavailable (%s): every channel falls back to polling its inbox", _oserror(exc))
                self._inotify = None
                self._polling_only = True
        for name in list(self._watches):
            if name not in self.trackers:
                self._disarm(name)
        for name, tracker in self.trackers.items():
            if self.stopped.is_set():
                return
            try:
                self._arm_one(name, tracker)
            except Exception as exc:
                self._disarm(name)
                self.channel_down(name, f"inbox {tracker.channel.inbox} cannot be watched: {_oserror(exc)}")

    def channel_down(self, name: str, reason: str) -> None:
        """One channel's inbox is broken: that channel only stops taking files, with a report."""
        if name not in self.down:
            log.error("channel %s: intake stopped for this channel: %s; the other channels go on", name, reason)
            self.down[name] = reason
            self.owner.channel_state(name, reason)

    def channel_up(self, name: str) -> None:
        if self.down.pop(name, None) is not None:
            log.warning("channel %s: inbox usable again, intake resumed", name)
            self.owner.channel_state(name, None)
            self._disarm(name)
            self.scan_now.set()

    def _arm_one(self, name: str, tracker: CompletenessTracker[Channel]) -> None:
        ch = tracker.channel
        try:
            st = ch.inbox.stat()
            inode: int | None = st.st_ino
        except FileNotFoundError:
            inode = None
        else:
            if not stat.S_ISDIR(st.st_mode):
                raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(ch.inbox))
        current = self._watches.get(name)
        if current is not None and current.inode == inode and current.watch is not None:
            return
        if current is not None:
            self._disarm(name)
        if inode is None:
            log.warning("channel %s: inbox %s does not exist; watching resumes when it is created", name, ch.inbox)
            self._watches[name] = _Watch(self._inotify or Observer(), None, None)
            return
        handler = _Enqueue(name, self.events)
        if ch.polling or self._inotify is None:
            obs: BaseObserver = PollingObserver(timeout=ch.poll_interval_s)
            obs.daemon = True
            obs.start()
            watch = obs.schedule(handler, str(ch.inbox), recursive=False)
        else:
            obs = self._inotify
            try:
                watch = obs.schedule(handler, str(ch.inbox), recursive=False,
                                     event_filter=[FileCreatedEvent, FileMovedEvent, FileClosedEvent])
            except OSError as exc:
                if exc.errno not in (errno.ENOSPC, errno.EMFILE):
                    raise
                # inotify watches exhausted: this channel polls rather than stops
                log.error("channel %s: no inotify watch left (%s); polling its inbox", name, _oserror(exc))
                obs = PollingObserver(timeout=ch.poll_interval_s)
                obs.daemon = True
                obs.start()
                watch = obs.schedule(handler, str(ch.inbox), recursive=False)
        self._watches[name] = _Watch(obs, watch, inode)
        if current is not None:
            log.info("channel %s: inbox %s re-armed (recreated)", name, ch.inbox)
        self.scan_now.set()

    def _disarm(self, name: str) -> None:
        w = self._watches.pop(name, None)
        if w is None or w.watch is None:
            return
        try:
            w.observer.unschedule(w.watch)
        except (KeyError, OSError):
            pass
        if w.observer is not self._inotify:
            w.observer.stop()

    def shutdown_watches(self) -> None:
        for w in self._watches.values():
            if w.observer is not self._inotify and w.watch is not None:
                w.observer.stop()
        self._watches.clear()
        if self._inotify is not None:
            self._inotify.stop()
            self._inotify.join(timeout=5)
            self._inotify = None

    # intake loop -----------------------------------------------------------------------------
    def release(self, path: Path) -> None:
        with self._lock:
            self._queued.pop(path, None)

    def _is_queued(self, path: str) -> bool:
        with self._lock:
            return Path(path) in self._queued

    def queued_count(self) -> int:
        with self._lock:
            return len(self._queued)

    def oldest_waiting_s(self) -> float:
        now = time.monotonic()
        with self._lock:
            oldest_q = max((now - t for t in self._queued.values()), default=0.0)
        return max([oldest_q, *(t.oldest_age() for t in self.trackers.values())])

    def pending_count(self) -> int:
        return sum(len(t) for t in self.trackers.values())

    def loop(self) -> None:
        settings = self.owner.settings
        tick = settings.tick_ms / 1000.0
        next_scan = 0.0
        while not self.stopped.is_set():
            self.beat()
            now = time.monotonic()
            timeout = max(0.0, min(tick * 4, next_scan - now, (self._due[0][0] - now) if self._due else tick * 4))
            try:
                channel, path = self.events.get(timeout=timeout)
                self._observe_isolated(channel, path)
                for _ in range(5000):
                    channel, path = self.events.get_nowait()
                    self._observe_isolated(channel, path)
            except queue.Empty:
                pass
            now = time.monotonic()
            while self._due and self._due[0][0] <= now and not self.stopped.is_set():
                _, channel, p = heapq.heappop(self._due)
                path = Path(p)
                if channel in self.trackers and path in self.trackers[channel].pending():
                    self._observe_isolated(channel, path)
            if now >= next_scan or self.scan_now.is_set():
                self.scan_now.clear()
                self.arm()
                self.full_scan()
                next_scan = time.monotonic() + self.owner.settings.scan_interval_s
            self.owner.update_gauges()

    def full_scan(self) -> None:
        for name, tracker in list(self.trackers.items()):
            try:
                entries = list(fsops.scan(tracker.channel.inbox, skip=self._is_queued))
            except OSError as exc:
                self.channel_down(name, f"inbox {tracker.channel.inbox} cannot be read: {_oserror(exc)}")
                continue
            if name in self.down and tracker.channel.inbox.is_dir():
                self.channel_up(name)
            for entry in entries:
                if self.stopped.is_set():
                    return
                try:
                    self.observe(name, entry.path, entry)
                except Exception as exc:  # one entry never stops the scan
                    log.error("channel %s: entry %s skipped: %s", name, fsops.escape_name(entry.name), exc)
                    self.owner.problem("intake")

    def _observe_isolated(self, channel: str, path: Path) -> None:
        try:
            self.observe(channel, path)
        except Exception as exc:
            log.error("channel %s: entry %s skipped: %s", channel, fsops.escape_name(path.name), exc)
            self.owner.problem("intake")

    def observe(self, channel: str, path: Path, entry: fsops.Entry | None = None) -> None:
        tracker = self.trackers.get(channel)
        if tracker is None or path.parent != tracker.channel.inbox or channel in self.down:
            return
        with self._lock:
            if path in self._queued:
                return
        verdict = tracker.observe(path, entry)
        if verdict is Verdict.READY:
            self._enqueue(("claim", channel, path), path)
        elif verdict is Verdict.REFUSE:
            self._enqueue(("refuse", channel, path), path)
        elif verdict is Verdict.WAIT:
            ch = tracker.channel
            delay = tracker.wait_hint(path) if ch.completeness is Completeness.QUIET else 0.5
            heapq.heappush(self._due, (time.monotonic() + max(delay, 0.01), channel, str(path)))
        elif (verdict is Verdict.IGNORE and tracker.channel.completeness is Completeness.SIGNAL
              and tracker.channel.is_signal_name(path.name)):
            for p in tracker.pending():
                if path.name in tracker.channel.signal_names(p.name):
                    self.observe(channel, p)

    def _enqueue(self, item: tuple[str, str, Path], path: Path) -> None:
        with self._lock:
            self._queued[path] = time.monotonic()
        self.owner.work.put(item)


class WorkQueue:
    """Claimed files first, then intake's ready files in arrival order.

    A worker takes either one claimed file or a run of ready files of one channel
    to claim together; claimed files go to the front so any idle worker picks them
    up before more are claimed.
    """

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._files: deque[int] = deque()
        self._items: deque[tuple[str, str, Path]] = deque()

    def put(self, item: tuple[str, str, Path]) -> None:
        """A ready (``claim``) or refused (``refuse``) inbox entry from intake."""
        with self._cv:
            self._items.append(item)
            self._cv.notify()

    def put_files(self, ids: list[int]) -> None:
        with self._cv:
            self._files.extend(ids)
            self._cv.notify(len(ids))

    def get(self, timeout: float, batch: int = 1) -> list[tuple[Any, ...]]:
        with self._cv:
            if not self._files and not self._items:
                self._cv.wait(timeout)
            if self._files:
                return [("file", self._files.popleft())]
            if not self._items:
                return []
            first = self._items.popleft()
            got: list[tuple[Any, ...]] = [first]
            if first[0] == "claim":
                while (len(got) < batch and self._items and self._items[0][0] == "claim"
                       and self._items[0][1] == first[1]):
                    got.append(self._items.popleft())
            return got

    def take_files(self) -> list[int]:
        """Claimed files nobody started (at shutdown)."""
        with self._cv:
            ids = list(self._files)
            self._files.clear()
            return ids

    def qsize(self) -> int:
        with self._cv:
            return len(self._files) + len(self._items)


class Worker(ServiceThread):
    def loop(self) -> None:
        d = self.owner
        while not self.stopped.is_set():
            self.beat()
            items = d.work.get(timeout=0.25, batch=d.settings.claim_batch)
            if not items:
                continue
            try:
                d.handle_items(items)
            except Transient:
                pass
            except (OSError, DBAPIError, DatabaseUnavailable) as exc:  # the environment, not a bug: one line
                log.error("worker %s: %s", self.name, describe(exc))
                d.problem("worker")
            except Exception:
                log.exception("worker %s: unexpected error on %s", self.name, items)
            finally:
                self.beat()


class Periodic(ServiceThread):
    """Runs ``fn`` every ``interval_s``; an exception is logged, never fatal."""

    def __init__(self, name: str, daemon_: Daemon, fn: Callable[[], Any], interval_s: float) -> None:
        super().__init__(name, daemon_)
        self.fn = fn
        self.interval_s = interval_s

    def loop(self) -> None:
        while not self.stopped.is_set():
            self.beat()
            try:
                self.fn()
            except (OSError, DBAPIError, DatabaseUnavailable) as exc:  # the environment, not a bug: one line
                log.error("%s: pass failed: %s", self.name, describe(exc))
            except Exception:
                log.exception("%s: pass failed", self.name)
            self.beat()
            self.stopped.wait(self.interval_s)


class Daemon:
    def __init__(self, settings: Settings, db: Database, *, identity: str | None = None,
                 metrics: Metrics | None = None, run_jobs: bool = True) -> None:
        self.settings = settings
        self.db = db
        self.metrics = metrics or Metrics()
        self.heartbeat = Heartbeat()
        self.work = WorkQueue()
        self.stopping = threading.Event()
        self.pipeline = Pipeline(settings, db, identity=identity, on_outcome=self._outcome,
                                 on_problem=self.problem, should_stop=self.stopping.is_set)
        self.identity = self.pipeline.identity
        self.scheduler = Scheduler(settings, db, identity=self.identity, on_run=self._job_done)
        self.mailer = Mailer(settings.smtp, db, identity=self.identity)
        self.mailer.on_outcome = lambda outcome, n: self.metrics.mail.labels(outcome).inc(n)
        self.run_jobs = run_jobs
        self.counts: dict[str, int] = {}
        self._count_lock = threading.Lock()
        self.intake = Intake(self)
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
        logging.getLogger("watchdog.observers.inotify_c").addHandler(_OverflowHook(self._overflow))
        logging.getLogger("watchdog.observers.inotify").addHandler(_OverflowHook(self._overflow))
        self.intake.arm()
        self.workers = [Worker(f"worker-{i}", self) for i in range(self.settings.workers)]
        for w in self.workers:
            w.start()
        self.intake.start()
        self.periodic = [Periodic("recovery", self, self._recover_pass, max(self.settings.scan_interval_s, 5.0))]
        if not self.db.is_sqlite:
            self.periodic.append(Periodic("leases", self, self.pipeline.renew_leases, self.settings.lease_s / 3))
        if self.run_jobs:
            # always: a reload may add jobs or late-file expectations (a tick without either costs nothing)
            self.periodic.append(Periodic("scheduler", self, self.scheduler.tick, 1.0))
        self.periodic.append(Periodic("mailer", self, self.mailer.send_pending, 1.0))
        self.periodic.append(Periodic("heartbeat", self, HeartbeatWriter(self.db, self.identity, self.status_text),
                                      HEARTBEAT_S))
        self.pipeline.defer_sync = True
        self.periodic.append(Periodic("syncer", self, fsops.sync_dirty, 0.2))
        for p in self.periodic:
            p.start()
        if self.settings.metrics.enabled:
            events.subscribe(self.metrics.on_event)
            self.periodic.append(Periodic("metrics", self, self._refresh_metrics, METRICS_REFRESH_S))
            self.periodic[-1].start()
            self.metrics.serve(self.settings.metrics.host, self.settings.metrics.port)

    def stop(self, timeout: float | None = None) -> bool:
        """Stop intake first, then let workers finish their file. True if all stopped in time."""
        timeout = self.settings.shutdown_timeout_s if timeout is None else timeout
        deadline = time.monotonic() + timeout
        self.stopping.set()
        self.intake.stopped.set()
        self.intake.shutdown_watches()
        self.intake.join(timeout=max(0.1, deadline - time.monotonic()))
        for w in self.workers:
            w.stopped.set()
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
                    log.error("channel %s: folder %s unusable: %s", name, folder, _oserror(exc))
                    self.problem("folders")
        for oname, o in settings.outbound.items():
            try:
                fsops.ensure_dir(o.folder)
            except OSError as exc:
                log.error("outbound %s: folder %s unusable: %s", oname, o.folder, _oserror(exc))
                self.problem("folders")

    # work ------------------------------------------------------------------------------------
    def handle_items(self, items: list[tuple[Any, ...]]) -> None:
        """One claimed file, or ready files of one channel: claimed together, then queued."""
        kind = items[0][0]
        if kind == "file":
            self.pipeline.process(items[0][1])
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
                self.intake.release(path)
        if ids:
            self.work.put_files(ids[1:])  # the other workers start on these at once
            self.pipeline.process(ids[0])

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
