"""Effective entry dates and clearing cut-offs on the Federal Reserve calendar (seed 001 "Scheduling and Holidays")."""

from __future__ import annotations

import datetime as dt

import pytest

from handlers.ach.jobs import clear_cutoff, effective_date
from store.calendars import calendar

FED = calendar("us-fed")
D = dt.date


@pytest.mark.parametrize(("pay", "today", "skip", "expected"), [
    (D(2026, 6, 18), D(2026, 6, 18), True, D(2026, 6, 22)),   # tomorrow is Juneteenth (Fri) → Monday
    (D(2026, 6, 19), D(2026, 6, 17), True, D(2026, 6, 22)),   # pay date on Juneteenth
    (D(2026, 6, 19), D(2026, 6, 17), False, D(2026, 6, 19)),  # payee does not skip holidays
    (D(2026, 7, 2), D(2026, 7, 2), True, D(2026, 7, 3)),      # July 4 is a Saturday: Friday stays a business day
    (D(2027, 12, 23), D(2027, 12, 23), True, D(2027, 12, 24)),  # Christmas on Saturday: Friday not moved
    (D(2027, 12, 25), D(2027, 12, 20), True, D(2027, 12, 27)),  # the Saturday itself → Monday
    (D(2026, 6, 10), D(2026, 6, 12), True, D(2026, 6, 15)),   # overdue on a Friday → tomorrow (Sat) → Monday
    (D(2026, 6, 24), D(2026, 6, 18), True, D(2026, 6, 24)),   # future business day unchanged
    (D(2027, 7, 4), D(2027, 7, 1), True, D(2027, 7, 6)),      # Sunday holiday observed Monday → Tuesday
])
def test_effective_date(pay: dt.date, today: dt.date, skip: bool, expected: dt.date) -> None:
    assert effective_date(pay, today, FED, skip) == expected


def test_fed_calendar_points() -> None:
    assert not FED.is_business_day(D(2026, 6, 19))
    assert FED.is_business_day(D(2026, 7, 3))
    assert FED.is_business_day(D(2027, 12, 24))
    assert not FED.is_business_day(D(2027, 7, 5))


def test_clear_cutoff_counts_business_days() -> None:
    # 5 business days after Mon 2026-06-15 (skipping Juneteenth) is Tue 2026-06-23
    assert clear_cutoff(D(2026, 6, 23), 5, FED) == D(2026, 6, 15)
    assert FED.add_business_days(clear_cutoff(D(2026, 6, 23), 5, FED), 5) <= D(2026, 6, 23)
    nxt = clear_cutoff(D(2026, 6, 23), 5, FED) + dt.timedelta(days=1)
    assert FED.add_business_days(nxt, 5) > D(2026, 6, 23)


#: the rules the daemon used to apply by matching names on the general US calendar (the reference)
_FED_NAMES = ("New Year's Day", "Martin Luther King Jr. Day", "Washington's Birthday", "Memorial Day",
              "Juneteenth National Independence Day", "Independence Day", "Labor Day", "Columbus Day",
              "Veterans Day", "Thanksgiving Day", "Christmas Day")


def _by_names(year: int) -> set[dt.date]:
    import holidays

    out: set[dt.date] = set()
    for day, name in holidays.country_holidays("US", years=year, observed=False).items():
        if any(n in name for n in _FED_NAMES):
            if day.weekday() == 6:
                out.add(day + dt.timedelta(days=1))
            elif day.weekday() < 5:
                out.add(day)
    return out


def test_fed_calendar_is_the_xfed_market_and_agrees_on_every_weekday_1999_2060() -> None:
    import holidays

    from store.calendars import FED_MARKET

    assert FED_MARKET == "XFED" and "XFED" in holidays.list_supported_financial()
    checked = 0
    for year in range(1999, 2061):
        old = _by_names(year)
        day = D(year, 1, 1)
        while day.year == year:
            if day.weekday() < 5:
                assert FED.is_holiday(day) == (day in old), day
                checked += 1
            day += dt.timedelta(days=1)
    assert checked == 16_176
