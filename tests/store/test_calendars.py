"""Business calendars and job intervals: the Federal Reserve and Danish bank holidays, business-day
arithmetic, interval parsing (seed 001 "Scheduling and Holidays")."""

from __future__ import annotations

import datetime as dt

import pytest

from store.calendars import FED_MARKET, calendar, parse_interval

FED = calendar("us-fed")
D = dt.date


def test_interval_parsing():
    assert parse_interval("30 s").seconds == 30
    assert parse_interval("15 min").seconds == 900
    assert parse_interval("2 h").seconds == 7200
    assert parse_interval("1 day").seconds == 86400
    assert parse_interval("5 business days").business_days == 5
    for bad in ("", "soon", "0 s", "3 fortnights"):
        with pytest.raises(ValueError):
            parse_interval(bad)


@pytest.mark.parametrize("day, holiday", [
    ("2026-06-19", True),   # Juneteenth
    ("2026-07-03", False),  # July 4th 2026 is a Saturday: not moved to Friday
    ("2027-12-24", False),  # Christmas 2027 is a Saturday: Friday stays a business day
    ("2027-12-25", False),  # a Saturday anyway
    ("2022-12-26", True),   # Christmas 2022 was a Sunday: observed Monday
    ("2026-11-26", True),   # Thanksgiving
    ("2026-11-11", True),   # Veterans Day
])
def test_federal_reserve_calendar(day, holiday):
    assert calendar("us-fed").is_holiday(dt.date.fromisoformat(day)) is holiday


def test_business_day_arithmetic():
    fed = calendar("us-fed")
    assert fed.add_business_days(dt.date(2026, 6, 18), 1) == dt.date(2026, 6, 22)  # skips Juneteenth + weekend
    assert fed.next_business_day(dt.date(2027, 12, 24)) == dt.date(2027, 12, 27)
    assert fed.business_days_between(dt.date(2026, 6, 17), dt.date(2026, 6, 24)) == 4
    dk = calendar("dk-bank")
    assert dk.is_holiday(dt.date(2026, 6, 5)) and dk.is_holiday(dt.date(2026, 12, 24))
    assert dk.is_holiday(dt.date(2026, 5, 15))  # the bank holiday after Ascension Day


def test_fed_calendar_points() -> None:
    assert not FED.is_business_day(D(2026, 6, 19))
    assert FED.is_business_day(D(2026, 7, 3))
    assert FED.is_business_day(D(2027, 12, 24))
    assert not FED.is_business_day(D(2027, 7, 5))


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
