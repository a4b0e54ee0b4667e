"""What the ACH jobs share: the payee options, the seed 001 effective-date rule, and the per-payee
pass of the jobs that only move rows from one state to the next (confirm-enroll, clear-checks)."""

from __future__ import annotations

import datetime as dt
from abc import abstractmethod
from collections.abc import Collection
from typing import Any, ClassVar

from handlers.ach.audit import Actor
from handlers.ach.store import Payee, load_payees
from handlers.jobs import Job, JobContext, JobResult
from store.calendars import Calendar
from store.unit import UnitSession

BOOL_OPTIONS = ("cancel_if_account_cancelled", "cancel_if_account_invalid", "submit_if_account_pending")


def effective_date(pay_date: dt.date, today: dt.date, cal: Calendar, skip_holidays: bool) -> dt.date:
    """Seed 001 "Scheduling and Holidays": a pay date today or earlier becomes tomorrow; a
    non-business day moves to the next business day when the payee skips holidays."""
    day = today + dt.timedelta(days=1) if pay_date <= today else pay_date
    return cal.next_business_day(day, include=True) if skip_holidays else day


def _payee_names(options: dict[str, Any]) -> list[str]:
    names = [options["payee"]] if options.get("payee") else []
    extra = options.get("extra_payees", [])
    if isinstance(extra, str):
        extra = [x for x in extra.split(";") if x.strip()]
    return [*names, *(x.strip() for x in extra if x.strip() not in names)]


class AchJob(Job):
    """A job over the payee named by ``payee`` and those in ``extra_payees``."""

    known_options: ClassVar[Collection[str]] = ("payee", "extra_payees")

    def check_options(self) -> list[str]:
        problems = super().check_options()
        if not self.options.get("payee"):
            problems.append("option 'payee' is required")
        extra = self.options.get("extra_payees", [])
        if not isinstance(extra, str | list):
            problems.append("extra_payees must be a list of payee names")
        target = self.options.get("target")
        if target is not None and target not in self.settings.outbound:
            problems.append(f"target {target!r} is not an outbound target")
        for k in BOOL_OPTIONS:
            if k in self.options and not isinstance(self.options[k], bool):
                problems.append(f"{k} must be true or false")
        return problems

    def payees(self, session: UnitSession) -> list[Payee]:
        known = load_payees(session, self.settings)
        names = _payee_names(self.options)
        missing = [n for n in names if n not in known]
        if missing:
            raise RuntimeError(f"unknown payee(s): {', '.join(missing)}")
        return [known[n] for n in names]

    @property
    def target(self) -> str:
        return str(self.options.get("target", "ach_out"))


class PayeePassJob(AchJob):
    """One unit of work, one pass per payee; the result counts the rows the passes changed."""

    #: the name of the count in the job result
    counted: ClassVar[str]

    def run(self, ctx: JobContext) -> JobResult:
        actor = Actor.for_job(self, ctx)
        n = 0
        with ctx.unit() as uow:
            for payee in self.payees(uow.session):
                n += self.apply(uow.session, payee, ctx, actor)
        return JobResult(outcome="success" if n else "noop", counts={self.counted: n})

    @abstractmethod
    def apply(self, s: UnitSession, payee: Payee, ctx: JobContext, actor: Actor) -> int:
        """Change the payee's rows (with their audit rows); how many changed."""
