"""Seed 001 chapter 6, "Recurring Payment Examples" cases 1-4: the job at the seed's dates (injected clock),
the recurring_payments columns after every step.

Columns: (bill_scheduled, status, last_process_time, last_pay_date, next_pay_date, bill, curr_num_payments).
Where the seed contradicts its own rules the test follows the rules (see the comments marked SLIP).
"""

from __future__ import annotations

import datetime as dt
from datetime import date as D
from datetime import datetime as T

from sqlalchemy import select

from store.models.ach import CheckStatus
from store.models.recurring import PaymentBillSummary, RecurringPaymentHistory
from tests.recurring.support import Env, at

NEVER, NO_DUE, MIDNIGHT_0410 = D(1970, 1, 1), D(3000, 1, 1), T(2001, 4, 10)


def _seed_bills(env: Env, *, with_amounts: bool = True) -> None:
    env.bill("bill1", "acct1111", D(2001, 3, 10), D(2001, 4, 15), 10001)
    env.bill("bill2", "acct1111", D(2001, 4, 10), D(2001, 4, 25), 5000)
    env.bill("bill3", "acct1111", D(2001, 4, 10), D(2001, 5, 15), 10000)


def _create(env: Env, **fields: object) -> None:
    rec = {"op": "create", "type": "recurring_payment", "id": "RP1", "user_id": "u1", "payee": "UTILCO",
           "pid": "A1", "accounts": ["acct1111"], "email": "alice@example.test", **fields}
    out = env.setups(rec)
    assert out.state == "done", out.reason


def test_case1_amount_due_before_due_date(env: Env) -> None:
    _create(env, amount_type="amount_due", pay_date_type="before_due", days_before_due=1,
            start_date="2001-04-10", end_date="2001-06-10")
    r = env.row()
    assert env.cols() == ("Y", "active", MIDNIGHT_0410, NEVER, NO_DUE, None, 0)
    assert r["max_num_payments"] == 2147483647

    _seed_bills(env)
    env.run("recurring-payments", at(2001, 4, 10))  # step 3-5: bill3 has the latest due date
    assert env.cols() == ("N", "active", T(2001, 4, 10, 23, 59), NEVER, D(2001, 5, 14), "bill3", 0)
    assert [s for (s,) in env.all(select(PaymentBillSummary.doc_id))] == ["bill3"]

    for day in (D(2001, 4, 11), D(2001, 4, 30), D(2001, 5, 10)):  # step 6: nothing happens
        env.run("recurring-payments", at(day.year, day.month, day.day))
        assert env.cols() == ("N", "active", T(2001, 4, 10, 23, 59), NEVER, D(2001, 5, 14), "bill3", 0)
    assert env.payments() == []

    env.run("recurring-payments", at(2001, 5, 11))  # step 7: three days before the pay date
    assert env.cols() == ("Y", "active", T(2001, 4, 10, 23, 59), D(2001, 5, 14), D(2001, 5, 14), "bill3", 1)
    (p,) = env.payments()
    assert (p.amount, p.pay_date, p.status, p.payment_source, p.bill_id, p.payer_account_number) == (
        10000, D(2001, 5, 14), CheckStatus.SCHEDULED, "R", "bill3", "acct1111")
    assert env.row()["payment_id"] == p.payment_id

    env.run("recurring-payments", at(2001, 5, 12))  # step 8: no bills, last_process_time moves
    assert env.cols() == ("Y", "active", T(2001, 5, 12, 23, 59), D(2001, 5, 14), D(2001, 5, 14), "bill3", 1)

    env.bill("bill4", "acct1111", D(2001, 5, 13), D(2001, 6, 15), 8000)  # step 9
    env.run("recurring-payments", at(2001, 5, 13))  # step 10
    # SLIP: the seed prints last_process_time 05/15/2001 23:59 for a run at 05/13/2001 23:59 ("changes to job
    # run time"); the run time is what the rule gives.
    assert env.cols() == ("N", "inactive", T(2001, 5, 13, 23, 59), D(2001, 5, 14), D(2001, 6, 14), "bill4", 1)

    env.run("recurring-payments", at(2001, 6, 11))  # deactivated: never synchronized or scheduled again
    assert env.cols() == ("N", "inactive", T(2001, 5, 13, 23, 59), D(2001, 5, 14), D(2001, 6, 14), "bill4", 1)
    assert len(env.payments()) == 1

    # the scheduled payment is an ordinary one for check-submit
    assert env.run("check-submit", at(2001, 5, 13, 12, 0)).counts["submitted"] == 1
    assert env.payments()[0].status == CheckStatus.PROCESSED
    hist = env.all(select(RecurringPaymentHistory.audit_operation, RecurringPaymentHistory.job_name,
                          RecurringPaymentHistory.status).order_by(RecurringPaymentHistory.history_id))
    assert hist[0][0] == 1001 and hist[0][1] == "setups-setups.load"
    assert {h[1] for h in hist[1:]} == {"recurring-payments-RecurPmtTsk"} and hist[-1][2] == "inactive"
    assert len(hist) == 5  # create, 04/10 sync, 05/11 schedule, 05/12 sync, 05/13 sync (unchanged runs: none)


def test_case2_amount_due_fixed_date_day_31(env: Env) -> None:
    _create(env, amount_type="amount_due", pay_date_type="monthly", pay_day=31, start_date="2001-04-10",
            max_num_payments=10)
    assert env.cols() == ("Y", "active", MIDNIGHT_0410, NEVER, D(2001, 4, 30), None, 0)
    assert env.row()["end_date"] == D(3000, 1, 1)
    _seed_bills(env)
    env.run("recurring-payments", at(2001, 4, 10))
    assert env.cols() == ("N", "active", T(2001, 4, 10, 23, 59), NEVER, D(2001, 4, 30), "bill3", 0)
    env.run("recurring-payments", at(2001, 4, 27))
    assert env.cols() == ("Y", "active", T(2001, 4, 10, 23, 59), D(2001, 4, 30), D(2001, 5, 31), "bill3", 1)
    (p,) = env.payments()
    assert (p.amount, p.pay_date) == (10000, D(2001, 4, 30))

    # a month without a bill: next_pay_date moves on when the run is past it
    env.run("recurring-payments", at(2001, 6, 1, 5, 0))
    assert env.cols() == ("Y", "active", T(2001, 6, 1, 5, 0), D(2001, 4, 30), D(2001, 6, 30), "bill3", 1)

    # step 4: repeat until curr_num_payments reaches 10; then inactive
    pay = D(2001, 6, 30)
    for n in range(2, 11):
        doc = pay - dt.timedelta(days=12)
        env.bill(f"b{n}", "acct1111", doc, pay + dt.timedelta(days=10), 1000 * n)
        env.run("recurring-payments", at(doc.year, doc.month, doc.day))
        assert env.row()["bill_scheduled"] == "N"
        sched = pay - dt.timedelta(days=3)
        env.run("recurring-payments", at(sched.year, sched.month, sched.day))
        r = env.row()
        assert (r["curr_num_payments"], r["last_pay_date"], r["bill"]) == (n, pay, f"b{n}")
        assert r["status"] == ("inactive" if n == 10 else "active")
        pay = r["next_pay_date"]
    assert [p.amount for p in env.payments()][1:] == [1000 * n for n in range(2, 11)]
    assert all(p.pay_date.day == {2: 28}.get(p.pay_date.month, p.pay_date.day) for p in env.payments())
    assert D(2002, 2, 28) in {p.pay_date for p in env.payments()}  # day 31 → the last day of February


def test_case3_fixed_amount_before_due(env: Env) -> None:
    _create(env, amount_type="fixed", amount=5000, pay_date_type="before_due", days_before_due=1,
            start_date="2001-04-10", max_num_payments=10)
    # SLIP: the seed prints next_pay_date "01/01/300"; its own case 1 and rule give 01/01/3000.
    assert env.cols() == ("Y", "active", MIDNIGHT_0410, NEVER, NO_DUE, None, 0)
    _seed_bills(env)
    env.run("recurring-payments", at(2001, 4, 10))
    assert env.cols() == ("N", "active", T(2001, 4, 10, 23, 59), NEVER, D(2001, 5, 14), "bill3", 0)
    env.run("recurring-payments", at(2001, 5, 11))
    # SLIP: the seed prints last_pay_date and next_pay_date 05/11/2001 (the run date); its rules say
    # last_pay_date is the pay date of the payment (05/14) and next_pay_date stays unchanged (05/14).
    assert env.cols() == ("Y", "active", T(2001, 4, 10, 23, 59), D(2001, 5, 14), D(2001, 5, 14), "bill3", 1)
    (p,) = env.payments()
    assert (p.amount, p.pay_date) == (5000, D(2001, 5, 14))


def test_case4_fixed_amount_fixed_date(env: Env) -> None:
    _create(env, amount_type="fixed", amount=5000, pay_date_type="monthly", pay_day=1, start_date="2001-04-10",
            end_date="2001-06-10")
    assert env.cols() == ("N", "active", MIDNIGHT_0410, NEVER, D(2001, 5, 1), None, 0)
    _seed_bills(env)
    env.run("recurring-payments", at(2001, 4, 27))  # four days before: not yet
    assert env.payments() == []
    env.run("recurring-payments", at(2001, 4, 28))
    assert env.cols() == ("N", "active", MIDNIGHT_0410, D(2001, 5, 1), D(2001, 6, 1), None, 1)
    env.run("recurring-payments", at(2001, 5, 29))  # repeat until next_pay_date is after end_date
    assert env.cols() == ("N", "inactive", MIDNIGHT_0410, D(2001, 6, 1), D(2001, 7, 1), None, 2)
    assert [(p.amount, p.pay_date) for p in env.payments()] == [(5000, D(2001, 5, 1)), (5000, D(2001, 6, 1))]
    assert env.all(select(PaymentBillSummary.bill_id)) == []  # never synchronized
