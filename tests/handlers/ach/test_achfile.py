"""handlers/ach/achfile.py: the trace counters of an ACH file are saved with it, or given back."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from daemon.scheduler import Scheduler
from store.models.ach import PaymentCounter
from tests.ach.conftest import Env, noon
from tests.ach.support import import_doc

TODAY = dt.date(2026, 6, 18)


def test_trace_numbers_given_back_on_rollback(env: Env) -> None:
    env.import_(import_doc(TODAY))
    Scheduler(env.settings, env.db, identity="t", clock=lambda: noon(TODAY)).run("nightly", dry_run=True)
    assert env.out_files() == []
    assert env.scalar(select(func.count()).select_from(PaymentCounter)) == 0
    assert env.run("nightly", TODAY).counts["submitted"] == 3
    pays = env.payments()
    assert sorted(str(p.txn_number) for p in pays.values() if p.txn_number) == [
        "091000010000001", "091000010000002", "091000010000003"]
    assert env.run("nightly", TODAY).outcome == "noop"  # nothing due twice
