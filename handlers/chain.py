"""A job chain (seed 001 pmtAllCheckTasks): named jobs run one after another, never overlapping.

The scheduler runs the steps itself (each takes its own job lock and gets its
own ``job_runs`` row, trigger ``chain``; the chain run counts their run ids), stops at the first step that
fails, and the chain's own run fails with that step's message, so the chain's
``notify_on``/``recipients`` e-mail the failure.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import ClassVar

from handlers.jobs import Job, JobContext, JobResult


class ChainJob(Job):
    kind = "chain"
    short_task = "Chain"
    description = "run other jobs in order, stopping at the first failure"
    known_options: ClassVar[Collection[str]] = ("steps",)

    @property
    def steps(self) -> list[str]:
        steps = self.options.get("steps", [])
        return [str(s) for s in steps] if isinstance(steps, list) else []

    def check_options(self) -> list[str]:
        problems = super().check_options()
        steps = self.options.get("steps")
        if not isinstance(steps, list) or not steps or not all(isinstance(s, str) for s in steps):
            return [*problems, "steps must be a non-empty list of job names"]
        for s in steps:
            job = self.settings.jobs.get(s)
            if job is None:
                problems.append(f"step {s!r} is not a configured job")
            elif job.kind == self.kind:
                problems.append(f"step {s!r} is itself a chain")
        return problems

    def run(self, ctx: JobContext) -> JobResult:
        raise RuntimeError("a chain is run by the scheduler")
