"""Seed 001 "Testing Recurring Payment": the four test sequences (2002, true date April 1), with the
system date moved by the injected clock instead of the machine's."""

from __future__ import annotations

from datetime import date as D
from datetime import datetime as T

from sqlalchemy import select

from store.models.ach import CheckStatus
from store.models.recurring import PaymentBillSummary
from tests.recurring.support import Env, at

NEVER = D(1970, 1, 1)


def _setup(env: Env, **fields: object) -> None:
    # step 1: billing data already indexed, the user enrolled with a valid payment account (A1, active)
    env.bill("old", "acct2002", D(2002, 3, 1), D(2002, 3, 20), 4000)
    rec = {"op": "create", "type": "recurring_payment", "id": "RP1", "user_id": "u1", "payee": "UTILCO",
           "pid": "A1", "accounts": ["acct2002"], "start_date": "2002-04-02", **fields}
    out = env.setups(rec)  # step 2, April 1: start April 2 (the earliest possible)
    assert out.state == "done", out.reason


def test_sequence1_amount_due_days_before_due(env: Env) -> None:
    _setup(env, amount_type="amount_due", pay_date_type="before_due", days_before_due=1)
    env.bill("b0410", "acct2002", D(2002, 4, 2), D(2002, 4, 10), 12345)  # steps 3-4
    env.run("recurring-payments", at(2002, 4, 2, 9, 0))  # step 5
    assert env.cols() == ("N", "active", T(2002, 4, 2, 9, 0), NEVER, D(2002, 4, 9), "b0410", 0)  # step 6
    assert env.all(select(PaymentBillSummary.doc_id)) == [("b0410",)]
    assert env.payments() == []
    env.run("recurring-payments", at(2002, 4, 9, 9, 0))  # steps 7-8
    assert env.cols() == ("Y", "active", T(2002, 4, 2, 9, 0), D(2002, 4, 9), D(2002, 4, 9), "b0410", 1)
    (p,) = env.payments()
    assert (p.amount, p.pay_date, p.status) == (12345, D(2002, 4, 9), CheckStatus.SCHEDULED)
    assert env.run("check-submit", at(2002, 4, 9, 10, 0)).counts["submitted"] == 1  # step 9
    assert env.payments()[0].status == CheckStatus.PROCESSED
    assert len(list((env.root / "spool/ach/out").glob("*.ach"))) == 1


def test_sequence1_not_run_until_april_9_syncs_and_schedules_at_once(env: Env) -> None:
    _setup(env, amount_type="amount_due", pay_date_type="before_due", days_before_due=1)
    env.bill("b0410", "acct2002", D(2002, 4, 2), D(2002, 4, 10), 12345)
    env.run("recurring-payments", at(2002, 4, 9, 9, 0))
    assert env.cols() == ("Y", "active", T(2002, 4, 9, 9, 0), D(2002, 4, 9), D(2002, 4, 9), "b0410", 1)
    assert [p.amount for p in env.payments()] == [12345]


def test_sequence2_amount_due_fixed_date(env: Env) -> None:
    _setup(env, amount_type="amount_due", pay_date_type="monthly", pay_day=10)
    env.bill("b0425", "acct2002", D(2002, 4, 2), D(2002, 4, 25), 7777)
    env.run("recurring-payments", at(2002, 4, 2, 9, 0))
    assert env.cols() == ("N", "active", T(2002, 4, 2, 9, 0), NEVER, D(2002, 4, 10), "b0425", 0)
    env.run("recurring-payments", at(2002, 4, 7, 9, 0))  # three days before the 10th
    assert env.cols() == ("Y", "active", T(2002, 4, 2, 9, 0), D(2002, 4, 10), D(2002, 5, 10), "b0425", 1)
    assert [(p.amount, p.pay_date) for p in env.payments()] == [(7777, D(2002, 4, 10))]
    assert env.run("check-submit", at(2002, 4, 10, 9, 0)).counts["submitted"] == 1


def test_sequence3_fixed_amount_days_before_due(env: Env) -> None:
    _setup(env, amount_type="fixed", amount=1995, pay_date_type="before_due", days_before_due=1)
    env.bill("b0410", "acct2002", D(2002, 4, 2), D(2002, 4, 10), 99999)
    env.run("recurring-payments", at(2002, 4, 2, 9, 0))
    assert env.cols() == ("N", "active", T(2002, 4, 2, 9, 0), NEVER, D(2002, 4, 9), "b0410", 0)
    env.run("recurring-payments", at(2002, 4, 9, 9, 0))
    assert env.cols() == ("Y", "active", T(2002, 4, 2, 9, 0), D(2002, 4, 9), D(2002, 4, 9), "b0410", 1)
    assert [(p.amount, p.pay_date) for p in env.payments()] == [(1995, D(2002, 4, 9))]
    assert env.run("check-submit", at(2002, 4, 9, 10, 0)).counts["submitted"] == 1


def test_sequence4_fixed_amount_fixed_date(env: Env) -> None:
    _setup(env, amount_type="fixed", amount=1995, pay_date_type="monthly", pay_day=10)
    env.run("recurring-payments", at(2002, 4, 7, 9, 0))
    # SLIP: the sequence says bill_scheduled "Y"; chapter 6 says it is always "N" for a fixed amount on a
    # fixed date (and case 4 shows N), so N.
    assert env.cols() == ("N", "active", T(2002, 4, 2), D(2002, 4, 10), D(2002, 5, 10), None, 1)
    assert env.all(select(PaymentBillSummary.bill_id)) == []
    assert [(p.amount, p.pay_date) for p in env.payments()] == [(1995, D(2002, 4, 10))]
    assert env.run("check-submit", at(2002, 4, 10, 9, 0)).counts["submitted"] == 1
