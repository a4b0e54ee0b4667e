"""Prometheus metrics on a private registry, served only when enabled in config.

Counters are fed by the daemon's callbacks and :mod:`spool.events`; gauges that describe the
shared state (error backlog, mail queue, files stuck in work/) are read from the folders and the
database by :meth:`Metrics.refresh` on a timer, so every daemon sharing a database reports the same.
No ``_created`` series: they double the series count and no dashboard uses them.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import time
from importlib import metadata
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    start_http_server,
)

if TYPE_CHECKING:
    from store.config import Settings
    from store.db import Database

disable_created_metrics()

#: processing time buckets (seconds): small files in milliseconds, large returns files in minutes
DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)


def _version() -> str:
    try:
        return metadata.version("spoolgate")
    except metadata.PackageNotFoundError:
        return "unknown"


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.files = Counter("spoolgate_files", "Inbound files by final outcome", ["channel", "outcome"], registry=r)
        self.queue_depth = Gauge("spoolgate_queue_depth", "Files complete and waiting for a worker", registry=r)
        self.pending = Gauge("spoolgate_pending_files", "Files seen in inboxes, not yet complete", registry=r)
        self.oldest_waiting = Gauge("spoolgate_oldest_waiting_seconds", "Age of the oldest file waiting",
                                    registry=r)
        self.overflow_rescans = Counter("spoolgate_overflow_rescans", "Full rescans after lost watch events",
                                        registry=r)
        self.duration = Gauge("spoolgate_last_file_seconds", "Processing time of the last file", ["channel"],
                              registry=r)
        self.processing = Histogram("spoolgate_file_processing_seconds", "Processing time per file",
                                    ["channel"], buckets=DURATION_BUCKETS, registry=r)
        self.channel_success = Gauge("spoolgate_channel_last_success_timestamp_seconds",
                                     "When a file of the channel was last processed successfully", ["channel"],
                                     registry=r)
        self.skipped = Counter("spoolgate_skipped", "Items a loop logged and skipped (no report possible)",
                               ["where"], registry=r)
        self.channel_down = Gauge("spoolgate_channel_down", "1 while a channel's inbox cannot be used",
                                  ["channel"], registry=r)
        self.jobs = Counter("spoolgate_job_runs", "Job runs by outcome", ["job", "outcome"], registry=r)
        self.job_success = Gauge("spoolgate_job_last_success_timestamp_seconds",
                                 "When the job last ended without failure", ["job"], registry=r)
        self.error_backlog = Gauge("spoolgate_error_backlog_files", "Files waiting in error/ for an operator",
                                   ["channel"], registry=r)
        self.oldest_in_work = Gauge("spoolgate_oldest_in_work_seconds",
                                    "Age of the oldest file claimed and not yet finished", ["channel"], registry=r)
        self.mail_depth = Gauge("spoolgate_mail_queue_depth", "Messages waiting to be sent", ["lane"], registry=r)
        self.mail_oldest = Gauge("spoolgate_mail_oldest_pending_seconds", "Age of the oldest unsent message",
                                 registry=r)
        self.mail = Counter("spoolgate_mail_messages", "Send attempts by outcome (sent, retry, refused)",
                            ["outcome"], registry=r)
        self.mail_failed = Gauge("spoolgate_mail_failed_messages", "Messages the mail server refused for good",
                                 registry=r)
        self.outbound = Counter("spoolgate_outbound_files", "Outbound files by delivery outcome",
                                ["target", "outcome"], registry=r)
        self.sftp = Counter("spoolgate_sftp_transfers", "SFTP transfers by outcome",
                            ["endpoint", "operation", "outcome"], registry=r)
        self.late = Gauge("spoolgate_expectation_late", "1 while an expected file is late", ["channel", "expectation"],
                          registry=r)
        self.build = Gauge("spoolgate_build_info", "Version of the running daemon", ["version", "python"],
                           registry=r)
        self.build.labels(_version(), platform.python_version()).set(1)
        self.start_time = Gauge("spoolgate_start_time_seconds", "When the daemon started", registry=r)
        self.start_time.set(time.time())

    def serve(self, host: str, port: int) -> None:
        start_http_server(port, addr=host, registry=self.registry)

    def on_event(self, kind: str, labels: tuple[str, ...]) -> None:
        """Listener for :mod:`spool.events`."""
        if kind == "outbound":
            self.outbound.labels(*labels).inc()
        elif kind == "sftp":
            self.sftp.labels(*labels).inc()

    def refresh(self, settings: Settings, db: Database) -> None:
        """Gauges read from the folders and the database (every daemon on a database agrees)."""
        from sqlalchemy import func, select

        from store.models.core import FileState, Notification, SpoolFile

        for name, ch in settings.channels.items():
            try:
                with os.scandir(ch.error) as it:
                    n = sum(1 for e in it if not e.name.startswith(".") and not e.name.endswith(".error.json")
                            and e.is_file(follow_symlinks=False))
            except OSError:
                n = 0
            self.error_backlog.labels(name).set(n)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with db.transaction() as s:
            oldest = dict(s.execute(select(SpoolFile.channel, func.min(SpoolFile.claimed_at))
                                    .where(SpoolFile.state.in_([FileState.CLAIMED, FileState.PROCESSING]))
                                    .group_by(SpoolFile.channel)).all())
            lanes = dict(s.execute(select(Notification.lane, func.count())
                                   .where(Notification.state.in_(["pending", "sending"]))
                                   .group_by(Notification.lane)).all())
            first = s.scalar(select(func.min(Notification.created_at))
                             .where(Notification.state.in_(["pending", "sending"])))
            failed = s.scalar(select(func.count()).select_from(Notification).where(Notification.state == "failed"))
        for name in settings.channels:
            t = oldest.get(name)
            self.oldest_in_work.labels(name).set(max(0.0, (now - _naive(t)).total_seconds()) if t else 0.0)
        for lane in ("immediate", "bulk"):
            self.mail_depth.labels(lane).set(lanes.get(lane, 0))
        self.mail_oldest.set(max(0.0, (now - _naive(first)).total_seconds()) if first else 0.0)
        self.mail_failed.set(failed or 0)


def _naive(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC).replace(tzinfo=None) if t.tzinfo else t
