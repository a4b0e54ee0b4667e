"""Pay-date arithmetic of recurring payments (seed 001 chapter 6).

Monthly and quarterly days past a month's end fall back to its last day; week
day 1 is Sunday; quarterly months are every third month from the start date's.
"""

from __future__ import annotations

import calendar
import datetime as dt
from functools import lru_cache

from store.models.recurring import PayDateType


def _month_day(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def first_pay_date(pay_date_type: str, pay_day: int, start: dt.date, on_or_after: dt.date) -> dt.date:
    """The first fixed pay date on or after ``on_or_after``."""
    if pay_date_type == PayDateType.WEEKLY:
        target = (pay_day - 2) % 7  # 1 = Sunday → Python's 6
        return on_or_after + dt.timedelta(days=(target - on_or_after.weekday()) % 7)
    step = 3 if pay_date_type == PayDateType.QUARTERLY else 1
    index = on_or_after.year * 12 + on_or_after.month - 1
    anchor = start.year * 12 + start.month - 1
    index += (anchor - index) % step
    while True:
        d = _month_day(index // 12, index % 12 + 1, pay_day)
        if d >= on_or_after:
            return d
        index += step


def day_after(d: dt.date) -> dt.date:
    return d + dt.timedelta(days=1)


def local_midnight(d: dt.date) -> dt.datetime:
    """Start of a local day as an aware datetime (last_process_time starts at the start date)."""
    return dt.datetime.combine(d, dt.time()).astimezone()


@lru_cache(maxsize=4096)
def first_doc_date(last_process_time: dt.datetime) -> dt.date:
    """The earliest document date inside the window that starts at ``last_process_time`` (inclusive).

    Document dates are days: a bill dated D counts as D 00:00 local, so the
    window [start date, run] holds the start date's bills while the window that
    starts at a run's time holds only later days."""
    local = last_process_time.astimezone()
    return local.date() if local.time() == dt.time() else local.date() + dt.timedelta(days=1)
