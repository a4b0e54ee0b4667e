"""The Federal Reserve calendar the ACH dates are computed on (seed 001 "Scheduling and Holidays")."""

from __future__ import annotations

import datetime as dt

from store.calendars import calendar

FED = calendar("us-fed")
D = dt.date


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
