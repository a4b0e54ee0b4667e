"""handlers/ach/clear.py: the clearing cut-off and ach.clear-checks against a real database."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from handlers.ach.clear import clear_cutoff
from store.calendars import calendar
from store.models.ach import CheckPaymentHistory, CheckStatus
from tests.ach.conftest import Env
from tests.ach.support import import_doc

FED = calendar("us-fed")
D = dt.date
TODAY = D(2026, 6, 18)  # a Thursday; tomorrow is Juneteenth


def test_clear_cutoff_counts_business_days() -> None:
    # 5 business days after Mon 2026-06-15 (skipping Juneteenth) is Tue 2026-06-23
    assert clear_cutoff(D(2026, 6, 23), 5, FED) == D(2026, 6, 15)
    assert FED.add_business_days(clear_cutoff(D(2026, 6, 23), 5, FED), 5) <= D(2026, 6, 23)
    nxt = clear_cutoff(D(2026, 6, 23), 5, FED) + dt.timedelta(days=1)
    assert FED.add_business_days(nxt, 5) > D(2026, 6, 23)


def test_clear_checks_pays_processed_checks_after_the_days_to_clear(env: Env) -> None:
    env.import_(import_doc(TODAY))
    env.run("enroll", TODAY)
    env.run("nightly", TODAY)
    assert env.run("clear", D(2026, 6, 25)).outcome == "noop"  # 4 business days after the pay date
    run = env.run("clear", D(2026, 6, 26))
    assert run.counts == {"paid": 4}  # three submitted and the zero-amount check
    statuses = sorted(p.status for p in env.payments().values())
    assert statuses.count(CheckStatus.PAID) == 4
    assert statuses.count(CheckStatus.PRENOTE_PROCESSED) == 2  # prenotes are never "paid"
    hist = env.all(select(CheckPaymentHistory.job_name).where(CheckPaymentHistory.status == CheckStatus.PAID))
    assert {h.job_name for h in hist} == {"clear-ChkUpdTsk"}
