"""What the set-based step (``setbased``, ``setbased_mail``) needs of ``payments.RecurringPaymentsJob``,
which imports the step: a Protocol, so no module of the step imports the job."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from handlers.jobs import JobContext
    from handlers.recurring.audit import Actor
    from handlers.recurring.hooks import Hook
    from store.unit import Work


class RecurringJob(Protocol):
    """What the step needs of ``payments.RecurringPaymentsJob`` (which imports this module)."""

    options: dict[str, Any]
    ctx: JobContext
    hooks: list[Hook]
    today: dt.date
    horizon: dt.date
    actor: Actor

    def opt(self, name: str) -> bool: ...

    def notify(self, uow: Work, notices: list[tuple[str, dict[str, Any], str]], counts: dict[str, int]) -> None: ...
