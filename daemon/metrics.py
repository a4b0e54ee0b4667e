"""Prometheus metrics on a private registry, served only when enabled in config."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.files = Counter("spoolgate_files", "Inbound files by final outcome", ["channel", "outcome"],
                             registry=self.registry)
        self.queue_depth = Gauge("spoolgate_queue_depth", "Files complete and waiting for a worker",
                                 registry=self.registry)
        self.pending = Gauge("spoolgate_pending_files", "Files seen in inboxes, not yet complete",
                             registry=self.registry)
        self.oldest_waiting = Gauge("spoolgate_oldest_waiting_seconds", "Age of the oldest file waiting",
                                    registry=self.registry)
        self.overflow_rescans = Counter("spoolgate_overflow_rescans", "Full rescans after lost watch events",
                                        registry=self.registry)
        self.duration = Gauge("spoolgate_last_file_seconds", "Processing time of the last file", ["channel"],
                              registry=self.registry)
        self.skipped = Counter("spoolgate_skipped", "Items a loop logged and skipped (no report possible)",
                               ["where"], registry=self.registry)
        self.channel_down = Gauge("spoolgate_channel_down", "1 while a channel's inbox cannot be used",
                                  ["channel"], registry=self.registry)
        self.jobs = Counter("spoolgate_job_runs", "Job runs by outcome", ["job", "outcome"], registry=self.registry)

    def serve(self, host: str, port: int) -> None:
        start_http_server(port, addr=host, registry=self.registry)
