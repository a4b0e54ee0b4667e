"""recurring-payments beyond the seed's cases: pay-date arithmetic, amount limits, rebills, the plug-in hook,
e-mails; payment-reminders, notify-enroll, card-expiry-notify and the all-check-tasks chain."""

from __future__ import annotations

import dataclasses
import datetime as dt
from datetime import date as D
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from handlers.recurring.dates import first_pay_date
from handlers.recurring.hooks import ProposedPayment
from handlers.recurring.reminders import next_reminder
from store.models.ach import CheckPayment, CheckStatus, PaymentAccount
from store.models.core import JobRun, Notification
from store.models.recurring import PaymentEmailHistory, PaymentReminder, PaymentReminderHistory
from tests.recurring.support import Env, at, default_jobs, make_env


def _create(env: Env, ref: str = "RP1", account: str = "acct1", **fields: Any) -> None:
    rec = {"op": "create", "type": "recurring_payment", "id": ref, "user_id": "u1", "payee": "UTILCO", "pid": "A1",
           "accounts": [account], "email": "alice@example.test", "start_date": "2030-01-01", **fields}
    out = env.setups(rec, name=f"{ref}.jsonl")
    assert out.state == "done", out.reason


def _mails(env: Env, kind: str | None = None) -> list[tuple[str, list[str], str]]:
    q = select(Notification.kind, Notification.recipients, Notification.subject).order_by(Notification.id)
    return [(k, list(r), s) for k, r, s in env.all(q) if kind is None or k == kind]


@pytest.mark.parametrize("kind,day,start,after,expected", [
    ("weekly", 1, D(2030, 1, 1), D(2030, 1, 1), D(2030, 1, 6)),  # day 1 is Sunday
    ("weekly", 3, D(2030, 1, 1), D(2030, 1, 1), D(2030, 1, 1)),  # Tuesday itself
    ("monthly", 31, D(2030, 2, 1), D(2030, 2, 1), D(2030, 2, 28)),
    ("monthly", 30, D(2032, 2, 1), D(2032, 2, 1), D(2032, 2, 29)),
    ("monthly", 29, D(2030, 4, 30), D(2030, 4, 30), D(2030, 5, 29)),
    ("quarterly", 31, D(2030, 2, 10), D(2030, 2, 10), D(2030, 2, 28)),
    ("quarterly", 15, D(2030, 2, 20), D(2030, 2, 20), D(2030, 5, 15)),
    ("quarterly", 15, D(2030, 2, 20), D(2030, 5, 16), D(2030, 8, 15)),
])
def test_pay_dates(kind: str, day: int, start: D, after: D, expected: D) -> None:
    assert first_pay_date(kind, day, start, after) == expected


def test_next_reminder() -> None:
    assert next_reminder("once", D(2030, 1, 31), D(2030, 1, 31)) is None
    assert next_reminder("monthly", D(2030, 1, 31), D(2030, 1, 31)) == D(2030, 2, 28)
    assert next_reminder("weekly", D(2030, 1, 1), D(2030, 1, 20)) == D(2030, 1, 22)


def test_limits_less_than_and_up_to(env: Env) -> None:
    _create(env, "LT", "acct-lt", amount_type="amount_due", amount_limit="less_than", amount=5000,
            pay_date_type="before_due", days_before_due=2)
    _create(env, "UP", "acct-up", amount_type="amount_due", amount_limit="up_to", amount=5000,
            pay_date_type="before_due", days_before_due=2)
    _create(env, "OK", "acct-ok", amount_type="min_due", amount_limit="less_than", amount=5000,
            pay_date_type="before_due", days_before_due=2)
    for acct in ("acct-lt", "acct-up", "acct-ok"):
        env.bill(f"bill-{acct}", acct, D(2030, 1, 5), D(2030, 1, 12), 9000, minimum=900)
    out = env.run("recurring-payments", at(2030, 1, 9))
    assert out.counts["scheduled"] == 2 and out.counts["over_limit_skipped"] == 1
    assert sorted((p.payer_account_number, p.amount) for p in env.payments()) == [("acct-ok", 900),
                                                                                  ("acct-up", 5000)]
    over = _mails(env, "recurring-over-limit")
    assert len(over) == 2 and all(r == ["alice@example.test"] for _k, r, _s in over)
    assert env.row("LT")["bill_scheduled"] == "Y" and env.row("LT")["curr_num_payments"] == 0
    assert len(_mails(env, "recurring-scheduled")) == 2


def test_rebill_replaces_pending_bill_and_scheduled_payment(env: Env) -> None:
    _create(env, amount_type="amount_due", pay_date_type="before_due", days_before_due=1)
    env.bill("b1", "acct1", D(2030, 1, 5), D(2030, 1, 20), 1000)
    env.run("recurring-payments", at(2030, 1, 5))
    env.bill("b1r", "acct1", D(2030, 1, 6), D(2030, 1, 20), 1100)  # rebill: same due date, later doc date
    env.run("recurring-payments", at(2030, 1, 6))
    assert env.row()["bill"] == "b1r" and env.row()["bill_scheduled"] == "N"
    env.run("recurring-payments", at(2030, 1, 16))
    (p,) = env.payments()
    assert (p.amount, p.status) == (1100, CheckStatus.SCHEDULED)
    env.bill("b1r2", "acct1", D(2030, 1, 17), D(2030, 1, 20), 1200)  # after scheduling, still scheduled (6)
    env.run("recurring-payments", at(2030, 1, 17))
    pays = env.payments()
    assert [(x.amount, x.status) for x in pays] == [(1100, CheckStatus.CANCELLED), (1200, CheckStatus.SCHEDULED)]
    assert env.row()["curr_num_payments"] == 1 and env.row()["bill"] == "b1r2"
    assert env.run("check-submit", at(2030, 1, 18, 9, 0)).counts["submitted"] == 1
    env.bill("b1r3", "acct1", D(2030, 1, 18), D(2030, 1, 20), 1300)  # processed: the rebill is ignored
    out = env.run("recurring-payments", at(2030, 1, 18, 12, 0))
    assert out.counts["rebills_ignored"] == 1 and len(env.payments()) == 2


def test_rebill_only_when_scheduling(tmp_path: Path, db_url: str) -> None:
    env = make_env(tmp_path, db_url, jobs=default_jobs(sync="when_scheduling"))
    try:
        env.import_base()
        _create(env, amount_type="amount_due", pay_date_type="before_due", days_before_due=1)
        env.bill("b1", "acct1", D(2030, 1, 5), D(2030, 1, 20), 1000)
        env.run("recurring-payments", at(2030, 1, 5))
        env.bill("b1r", "acct1", D(2030, 1, 6), D(2030, 1, 20), 1100)
        env.run("recurring-payments", at(2030, 1, 6))
        assert env.row()["bill"] == "b1" and env.row()["last_process_time"] == dt.datetime(2030, 1, 5, 23, 59)
        env.run("recurring-payments", at(2030, 1, 16))  # time to schedule: synchronized first
        assert [p.amount for p in env.payments()] == [1100]
    finally:
        env.db.dispose()


def double_for_acct1(p: ProposedPayment) -> ProposedPayment | None:
    """The plug-in under test: doubles acct1's payments, vetoes acct-veto's."""
    if p.payer_account_number == "acct-veto":
        return None
    return dataclasses.replace(p, amount=p.amount * 2, memo=f"hook {p.doc_id}")


def _install_hook(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dist = root / "site" / "spoolgate_test_hook-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: spoolgate-test-hook\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[spoolgate.recurring_hooks]\ndouble = tests.recurring.test_jobs:double_for_acct1\n")
    monkeypatch.syspath_prepend(str(root / "site"))


def test_plugin_hook_changes_or_vetoes(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _install_hook(tmp_path, monkeypatch)
    env = make_env(tmp_path, db_url, jobs=default_jobs(hooks=["double"]))
    try:
        env.import_base()
        _create(env, "RP1", "acct1", amount_type="amount_due", pay_date_type="before_due", days_before_due=1)
        _create(env, "RP2", "acct-veto", amount_type="amount_due", pay_date_type="before_due", days_before_due=1)
        env.bill("b1", "acct1", D(2030, 1, 5), D(2030, 1, 10), 1000)
        env.bill("b2", "acct-veto", D(2030, 1, 5), D(2030, 1, 10), 2000)
        out = env.run("recurring-payments", at(2030, 1, 8))
        assert out.counts["vetoed"] == 1
        (p,) = env.payments()
        assert (p.payer_account_number, p.amount, p.memo) == ("acct1", 2000, "hook b1")
        assert env.row("RP2")["bill_scheduled"] == "Y" and env.row("RP2")["curr_num_payments"] == 0
    finally:
        env.db.dispose()


def test_unknown_hook_is_a_config_problem(tmp_path: Path, db_url: str) -> None:
    from handlers.registry import validate_sections

    env = make_env(tmp_path, db_url, jobs=default_jobs(hooks=["missing"]))
    try:
        assert any("no entry point 'missing'" in p for p in validate_sections(env.settings))
    finally:
        env.db.dispose()


def test_cancelled_account_cancels_the_setup_with_email(env: Env) -> None:
    _create(env, amount_type="fixed", amount=500, pay_date_type="monthly", pay_day=10)
    with env.db.transaction() as s:
        s.execute(update(PaymentAccount).where(PaymentAccount.pid == "A1").values(account_status="inactive"))
    env.run("recurring-payments", at(2030, 1, 8))
    assert env.row()["status"] == "cancelled" and env.payments() == []
    assert [k for k, _r, _s in _mails(env)] == ["recurring-cancelled"]


def test_expiry_email_once_with_audit(tmp_path: Path, db_url: str) -> None:
    env = make_env(tmp_path, db_url, jobs=default_jobs(audit_notifications=True))
    try:
        env.import_base()
        _create(env, amount_type="fixed", amount=500, pay_date_type="monthly", pay_day=10, end_date="2030-01-31")
        env.run("recurring-payments", at(2030, 1, 8))
        assert env.row()["status"] == "inactive"
        env.run("recurring-payments", at(2030, 2, 8))
        assert [k for k, _r, _s in _mails(env)] == ["recurring-scheduled", "recurring-expired"]
        assert [k for (k,) in env.all(select(PaymentEmailHistory.notice_type))] == ["recurring-scheduled",
                                                                                   "recurring-expired"]
    finally:
        env.db.dispose()


def _status_payments(env: Env) -> dict[int, int]:
    with env.db.transaction() as s:
        s.execute(update(PaymentAccount).where(PaymentAccount.pid == "A1").values(email="alice@example.test"))
        rows = [CheckPayment(payee_id=1, payer_id="u1", pay_date=D(2030, 1, 2), status=st, routing_transit="x",
                             account_name="ALICE A", check_account_number="100001", amount=100 * (i + 1), pid="A1",
                             reminded="N", txn_err_msg="R01" if st == CheckStatus.RETURNED else None)
                for i, st in enumerate((CheckStatus.PROCESSED, CheckStatus.PAID, CheckStatus.RETURNED,
                                        CheckStatus.SCHEDULED, CheckStatus.CANCELLED))]
        s.add_all(rows)
        s.flush()
        return {r.payment_id: r.status for r in rows}


def test_payment_reminders_each_once(env: Env) -> None:
    ids = _status_payments(env)
    assert env.setups({"op": "create", "type": "payment_reminder", "id": "REM1", "user_id": "u1",
                       "email": "bob@example.test", "interval": "monthly", "start_date": "2030-01-31"},
                      {"op": "create", "type": "payment_reminder", "id": "REM2", "user_id": "u1",
                       "email": "carol@example.test", "interval": "once", "start_date": "2030-01-10"}).state == "done"
    out = env.run("payment-reminders", at(2030, 1, 31, 8, 0))
    assert out.counts == {"reminders": 2, "status_notices": 4}
    kinds = sorted(k for k, _r, _s in _mails(env))
    assert kinds == ["payment-cancelled", "payment-paid", "payment-reminder", "payment-reminder", "payment-returned",
                     "payment-sent"]
    with env.db.transaction() as s:
        reminded = {p.payment_id: p.reminded for p in s.scalars(select(CheckPayment))}
        rems = {r.setup_ref: (r.reminded, r.next_reminder_date) for r in s.scalars(select(PaymentReminder))}
    assert reminded == {i: ("N" if st == CheckStatus.SCHEDULED else "Y") for i, st in ids.items()}
    assert rems == {"REM1": ("N", D(2030, 2, 28)), "REM2": ("Y", D(2030, 1, 10))}
    assert len(env.all(select(PaymentReminderHistory.history_id))) == 4  # 2 created, 2 sent
    assert env.run("payment-reminders", at(2030, 1, 31, 9, 0)).outcome == "noop"
    assert len(_mails(env)) == 6


def test_payment_reminders_options_switch_notices_off(tmp_path: Path, db_url: str) -> None:
    jobs = default_jobs()
    jobs["payment-reminders"]["options"] = {"notify_paid": False, "notify_failed": False, "audit_status": True}
    env = make_env(tmp_path, db_url, jobs=jobs)
    try:
        env.import_base()
        _status_payments(env)
        out = env.run("payment-reminders", at(2030, 1, 31, 8, 0))
        assert out.counts == {"status_notices": 1}
        assert [k for k, _r, _s in _mails(env)] == ["payment-sent"]
        assert env.all(select(PaymentEmailHistory.ref_table, PaymentEmailHistory.recipient)) == [
            ("check_payments", "alice@example.test")]
    finally:
        env.db.dispose()


def test_notify_enroll(env: Env) -> None:
    with env.db.transaction() as s:
        s.execute(update(PaymentAccount).values(email="x@example.test", notify_status="N"))
        s.execute(update(PaymentAccount).where(PaymentAccount.pid == "A2")
                  .values(account_status="bad_active", txn_message="R03"))
        s.add(PaymentAccount(pid="A3", user_id="u3", account_holder_name="C", account_number="300003",
                             account_status="pnd_active", notify_status="N", email="c@example.test"))
        s.add(PaymentAccount(pid="A4", user_id="u4", account_holder_name="D", account_number="400004",
                             account_status="active", notify_status="N", email="d@example.test",
                             txn_message="C01::12345::400004"))
    out = env.run("notify-enroll", at(2030, 1, 2))
    assert out.counts == {"notified": 3}
    assert sorted(k for k, _r, _s in _mails(env)) == ["enroll-noc", "enroll-status", "enroll-status"]
    assert all("400004" not in s and "100001" not in s for _k, _r, s in _mails(env))
    assert {p: a.notify_status for p, a in _accounts(env).items()} == {"A1": "Y", "A2": "Y", "A3": "N", "A4": "Y"}
    assert env.run("notify-enroll", at(2030, 1, 3)).outcome == "noop"


def _accounts(env: Env) -> dict[str, PaymentAccount]:
    with env.db.transaction() as s:
        return {a.pid: a for a in s.scalars(select(PaymentAccount))}


def test_card_expiry_once_per_card_and_expiry(env: Env) -> None:
    card = {"op": "create", "type": "payment_account", "id": "C1", "user_id": "u1", "payment_type": "card",
            "holder": "ALICE A", "brand": "visa", "last_four": "4242", "expiry": "2030-01", "email": "a@x.test"}
    later = {**card, "id": "C2", "expiry": "2030-03"}
    assert env.setups(card, later).state == "done"
    assert env.run("card-expiry-notify", at(2030, 1, 20)).outcome == "noop"  # 11 days before 2030-01-31
    assert env.run("card-expiry-notify", at(2030, 1, 25)).counts == {"notified": 1}
    assert env.run("card-expiry-notify", at(2030, 1, 26)).outcome == "noop"
    (mail,) = _mails(env)
    assert mail[0] == "card-expiry" and "4242" in mail[2] and "01/2030" in mail[2]
    upd = {"op": "update", "type": "payment_account", "id": "C1", "expiry": "2030-02"}
    assert env.setups(upd, name="u.jsonl").state == "done"
    assert env.run("card-expiry-notify", at(2030, 2, 22)).counts == {"notified": 1}


def test_chain_runs_in_order_and_stops_at_the_first_failure(env: Env) -> None:
    _create(env, amount_type="fixed", amount=700, pay_date_type="monthly", pay_day=10)
    out = env.run("all-check-tasks", at(2030, 1, 9, 9, 0))
    assert out.outcome == "success"
    runs = env.all(select(JobRun.job, JobRun.trigger, JobRun.outcome).order_by(JobRun.id))
    assert [r[0] for r in runs] == ["all-check-tasks", "recurring-payments", "check-submit", "clear-checks",
                                    "payment-reminders"]
    assert {r[1] for r in runs[1:]} == {"chain"}
    assert [(p.amount, p.status) for p in env.payments()] == [(700, CheckStatus.PROCESSED)]

    with env.db.transaction() as s:  # make check-submit fail: its payee disappears
        from store.models.ach import PaymentPayee

        s.execute(update(PaymentPayee).values(name="GONE"))
    from daemon.scheduler import Scheduler

    res = Scheduler(env.settings, env.db, identity="t", clock=lambda: at(2030, 2, 9, 9, 0)).run("all-check-tasks")
    assert res.outcome == "failure" and "step check-submit" in res.message
    last = env.all(select(JobRun.job).order_by(JobRun.id))[-3:]
    assert [j for (j,) in last] == ["all-check-tasks", "recurring-payments", "check-submit"]  # reminders not run
    fail = _mails(env, "job-failure")
    assert len(fail) == 1 and fail[0][1] == ["ops@biller.test"]


@pytest.mark.parametrize("value", [-1, 2048, True, "64"])
def test_page_cache_option_is_checked(tmp_path: Path, db_url: str, value: object) -> None:
    from handlers.registry import validate_sections

    env = make_env(tmp_path, db_url, jobs=default_jobs(page_cache_mb=value))
    try:
        assert any("page_cache_mb must be a whole number 0-1024" in p for p in validate_sections(env.settings))
    finally:
        env.db.dispose()
