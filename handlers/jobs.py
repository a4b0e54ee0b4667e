"""What a scheduled job is and what it gets.

A job does its database work through units of work it opens from the context
(one for most jobs; chunked jobs open one per chunk; a job that changes files
outside the database commits in steps, a unit each, so a crash between a file
written and a row marked is finished by the next run). ``with ctx.unit() as
work:`` gives the body a ``store.unit.Work``: it cannot commit, the ``with``
does. Outbound files and messages follow the same staged-then-delivered rule
as handlers.
"""

from __future__ import annotations

import datetime as dt
import logging
from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from handlers.base import unknown_options

if TYPE_CHECKING:
    from store.calendars import Calendar
    from store.config import Job as JobConfig
    from store.config import Settings
    from store.db import Database
    from store.unit import UnitOfWork


@dataclass
class JobResult:
    #: success, or noop when there was nothing to do (notifications can differ)
    outcome: str = "success"
    counts: dict[str, int] = field(default_factory=dict)
    message: str = ""


@dataclass
class JobContext:
    settings: Settings
    db: Database
    job: str
    run_id: int
    now: dt.datetime
    calendar: Calendar
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("spoolgate.job"))
    dry_run: bool = False

    def unit(self) -> UnitOfWork:
        """The one way a job opens a transaction (reads included)."""
        from store.unit import UnitOfWork

        return UnitOfWork(self.db, self.settings, source=f"job:{self.run_id}", dry_run=self.dry_run)

    @property
    def today(self) -> dt.date:
        return self.now.astimezone().date()


class Job(ABC):
    kind: ClassVar[str]
    description: ClassVar[str] = ""
    #: seed 004 short task name used in audit job_name ``<job>-<ShortTask>``
    short_task: ClassVar[str] = "Task"
    #: every change goes through ``ctx.unit()``, so ``jobs run --dry-run`` leaves nothing behind;
    #: False for jobs that move files or talk to remote systems outside a unit of work
    dry_run_safe: ClassVar[bool] = True

    def __init__(self, settings: Settings, name: str, config: JobConfig) -> None:
        self.settings = settings
        self.name = name
        self.config = config
        self.options: dict[str, Any] = dict(config.options)

    @property
    def audit_job_name(self) -> str:
        return f"{self.name}-{self.short_task}"

    #: the option keys a job may be given; any other key is a configuration error
    known_options: ClassVar[Collection[str]] = ()

    def check_options(self) -> list[str]:
        """Problems with the job's options, one line each; subclasses extend ``super().check_options()``."""
        return unknown_options(self.options, self.known_options)

    @abstractmethod
    def run(self, ctx: JobContext) -> JobResult:
        """Do the work; raise to fail the run (its units roll back)."""
