"""A job that does nothing, for exercising the scheduler."""

from __future__ import annotations

from handlers.jobs import Job, JobContext, JobResult


class NoopJob(Job):
    kind = "core.noop"
    description = "does nothing; reports noop (or fails when options.fail is true)"
    short_task = "NoopTsk"

    known_options = ("fail", "sleep_s")

    def run(self, ctx: JobContext) -> JobResult:
        if self.options.get("sleep_s"):
            import time

            time.sleep(float(self.options["sleep_s"]))
        if self.options.get("fail"):
            raise RuntimeError("configured to fail")
        return JobResult(outcome="noop")
