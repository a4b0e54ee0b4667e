"""Per-payee ACH submission windows (same-day and next-day) and their cut-offs.

A payee's bank takes files in windows, each with a cut-off in the bank's time
zone (moov-io/achgateway calls them ``Cutoffs.Windows`` with a ``Timezone``),
e.g. same-day windows closing 10:30, 14:45 and 16:45 ET and a next-day window
closing 17:30 ET. Configured per payee (``PayeeSettings.windows``; the gateway
settings JSON or ``[ach.payees.NAME]``)::

    window_timezone = "America/New_York"
    same_day_limit = 100000000        # cents per entry: Nacha's $1,000,000 today
    windows = [{name = "sd1", cutoff = "10:30", same_day = true, settlement = "13:00"},
               {name = "sd2", cutoff = "14:45", same_day = true, settlement = "17:00"},
               {name = "sd3", cutoff = "16:45", same_day = true, settlement = "18:00"},
               {name = "nd",  cutoff = "17:30"}]

:func:`next_window` says which window a file written now goes to: the first
window of a Federal Reserve business day whose cut-off is still ahead. A file
written after a cut-off goes to the next window, and the choice says which
cut-off it missed. :func:`entry_dates` gives an entry's effective date and
company descriptive date for that window: a same-day payment due by the
window's day goes same-day (effective that day, descriptive date ``SDHHMM`` of
the settlement time) only in a same-day window and only up to the same-day
limit; everything else is a next-day entry. A payee without windows keeps the
seed 001 rule (:func:`handlers.ach.job.effective_date`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from store.calendars import Calendar

#: Nacha's same-day dollar limit per entry, in cents ($1,000,000 since March 2022)
SAME_DAY_LIMIT = 100_000_000


@dataclass(frozen=True)
class Window:
    name: str
    cutoff: dt.time
    same_day: bool = False
    #: the intended settlement time, for the ``SDHHMM`` company descriptive date
    settlement: dt.time | None = None


@dataclass(frozen=True)
class WindowChoice:
    """The window a file goes to; ``missed`` is the window whose cut-off had passed, if any."""

    window: Window
    day: dt.date  #: the bank's business day of the window
    cutoff_at: dt.datetime  #: aware, in the payee's window time zone
    missed: Window | None = None
    missed_day: dt.date | None = None

    @property
    def note(self) -> str:
        """One line for the report and the file summary."""
        kind = "same-day" if self.window.same_day else "next-day"
        text = f"window {self.window.name} ({kind}, cut-off {self.cutoff_at:%Y-%m-%d %H:%M %Z})"
        if self.missed is not None:
            text = (f"written after the {self.missed.name} cut-off {self.missed.cutoff:%H:%M} of "
                    f"{self.missed_day}: goes to {text}")
        return text


def next_window(windows: tuple[Window, ...], tz: str, now: dt.datetime, cal: Calendar) -> WindowChoice | None:
    """The first window whose cut-off is after ``now`` on a business day of ``cal``; None without windows."""
    if not windows:
        return None
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    ordered = sorted(windows, key=lambda w: w.cutoff)
    missed: tuple[Window, dt.date] | None = None
    if cal.is_business_day(local.date()):
        passed = [w for w in ordered if dt.datetime.combine(local.date(), w.cutoff, zone) <= local]
        if passed:
            missed = (passed[-1], local.date())
        for w in ordered:
            at = dt.datetime.combine(local.date(), w.cutoff, zone)
            if at > local:
                return WindowChoice(w, local.date(), at, *(missed or (None, None)))
    day = cal.next_business_day(local.date())
    first = ordered[0]
    return WindowChoice(first, day, dt.datetime.combine(day, first.cutoff, zone), *(missed or (None, None)))


@dataclass(frozen=True)
class EntryDates:
    effective: dt.date
    descriptive: str = ""  #: ``SDHHMM`` for a same-day entry
    same_day: bool = False
    #: why a payment flagged same-day goes next-day (for the report)
    downgraded: str | None = None


def entry_dates(choice: WindowChoice, pay_date: dt.date, same_day: bool, amount: int, limit: int,
                cal: Calendar, skip_holidays: bool) -> EntryDates:
    """Effective date and descriptive date of one entry in the chosen window."""
    day = choice.day
    why: str | None = None
    if same_day and pay_date <= day:
        if not choice.window.same_day:
            why = f"window {choice.window.name} is not a same-day window"
        elif abs(amount) > limit:
            why = f"amount {abs(amount)} exceeds the same-day limit {limit}"
        else:
            at = choice.window.settlement or choice.window.cutoff
            return EntryDates(day, f"SD{at:%H%M}", True)
    nxt = day + dt.timedelta(days=1) if pay_date <= day else pay_date
    eff = cal.next_business_day(nxt, include=True) if skip_holidays else nxt
    return EntryDates(eff, "", False, why)
