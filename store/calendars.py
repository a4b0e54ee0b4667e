"""Business-day calendars and job intervals.

ACH follows the Federal Reserve: a holiday on Sunday is observed Monday, a
holiday on Saturday is not moved (banks are open the Friday before), and
Juneteenth counts. That is the ``holidays`` package's own Federal Reserve
financial calendar (market ``XFED``), not names matched on the general US
calendar, where a renamed holiday would silently drop out. PBS follows the
Danish bank calendar. Both come from ``holidays`` rather than a hand-kept table.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

import holidays

#: the ``holidays`` financial market code of the Federal Reserve Banks
FED_MARKET = "XFED"


@lru_cache(maxsize=64)
def _fed_year(year: int) -> frozenset[dt.date]:
    """Weekdays the Reserve Banks are closed (a Saturday holiday is not moved, so it is no business day lost)."""
    return frozenset(d for d in holidays.financial_holidays(FED_MARKET, years=year) if d.weekday() < 5)


@lru_cache(maxsize=64)
def _dk_year(year: int) -> frozenset[dt.date]:
    days = set(holidays.country_holidays("DK", years=year).keys())
    # Danish banks also close on Constitution Day, Christmas Eve, New Year's Eve and,
    # since 2016, the Friday after Ascension Day (``holidays`` lists public holidays only).
    days |= {dt.date(year, 6, 5), dt.date(year, 12, 24), dt.date(year, 12, 31)}
    for day, name in holidays.country_holidays("DK", years=year, language="en_US").items():
        if "Ascension" in name:
            days.add(day + dt.timedelta(days=1))
    return frozenset(days)


class Calendar:
    """Which days are business days."""

    name = "none"

    def is_holiday(self, day: dt.date) -> bool:
        return False

    def is_business_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and not self.is_holiday(day)

    def next_business_day(self, day: dt.date, *, include: bool = False) -> dt.date:
        d = day if include else day + dt.timedelta(days=1)
        while not self.is_business_day(d):
            d += dt.timedelta(days=1)
        return d

    def add_business_days(self, day: dt.date, n: int) -> dt.date:
        d = day
        step = 1 if n >= 0 else -1
        for _ in range(abs(n)):
            d += dt.timedelta(days=step)
            while not self.is_business_day(d):
                d += dt.timedelta(days=step)
        return d

    def business_days_between(self, start: dt.date, end: dt.date) -> int:
        """Business days after ``start`` up to and including ``end``."""
        n, d = 0, start
        while d < end:
            d += dt.timedelta(days=1)
            if self.is_business_day(d):
                n += 1
        return n


class FederalReserve(Calendar):
    name = "us-fed"

    def is_holiday(self, day: dt.date) -> bool:
        return day in _fed_year(day.year)


class DanishBank(Calendar):
    name = "dk-bank"

    def is_holiday(self, day: dt.date) -> bool:
        return day in _dk_year(day.year)


CALENDARS: dict[str, Calendar] = {c.name: c for c in (Calendar(), FederalReserve(), DanishBank())}


def calendar(name: str) -> Calendar:
    try:
        return CALENDARS[name]
    except KeyError:
        raise ValueError(f"unknown calendar {name!r}") from None


@dataclass(frozen=True)
class Interval:
    seconds: float = 0.0
    business_days: int = 0


_UNITS = {
    "s": 1, "sec": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
}


def parse_interval(text: str) -> Interval:
    """``30 s``, ``15 min``, ``2 h``, ``1 day``, ``5 business days``."""
    m = re.fullmatch(r"\s*(\d+)\s*(business\s+days?|[a-z]+)\s*", text.lower())
    if not m:
        raise ValueError(f"interval {text!r}: expected '<number> <unit>'")
    n, unit = int(m.group(1)), m.group(2)
    if n <= 0:
        raise ValueError(f"interval {text!r} must be positive")
    if unit.startswith("business"):
        return Interval(business_days=n)
    if unit not in _UNITS:
        raise ValueError(f"interval {text!r}: unknown unit {unit!r}")
    return Interval(seconds=float(n * _UNITS[unit]))
