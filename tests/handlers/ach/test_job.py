"""handlers/ach/job.py: the seed 001 effective entry date on the Federal Reserve calendar."""

from __future__ import annotations

import datetime as dt

import pytest

from handlers.ach.job import effective_date
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
