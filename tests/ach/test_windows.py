"""Same-day ACH: per-payee submission windows and cut-offs, effective and descriptive dates, the limit."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from daemon.scheduler import Scheduler
from formats.nacha import parse
from handlers.ach.settings import AchSettings, PayeeSettings
from handlers.ach.windows import Window, entry_dates, next_window
from store.calendars import calendar
from store.models.ach import CheckPayment, CheckStatus, PaymentLog
from store.models.core import OutboundFile
from tests.ach.conftest import Env
from tests.ach.support import R1, R2, payee_settings

ET = ZoneInfo("America/New_York")
FED = calendar("us-fed")
D = dt.date
WINDOWS = (Window("sd1", dt.time(10, 30), True, dt.time(13)), Window("sd2", dt.time(14, 45), True, dt.time(17)),
           Window("sd3", dt.time(16, 45), True, dt.time(18)), Window("nd", dt.time(17, 30)))
WINDOW_CONFIG = [{"name": "sd1", "cutoff": "10:30", "same_day": True, "settlement": "13:00"},
                 {"name": "sd2", "cutoff": "14:45", "same_day": True, "settlement": "17:00"},
                 {"name": "sd3", "cutoff": "16:45", "same_day": True, "settlement": "18:00"},
                 {"name": "nd", "cutoff": "17:30"}]


def et(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm), ET).astimezone(dt.UTC)


@pytest.mark.parametrize(("now", "window", "day", "missed"), [
    (et(D(2026, 6, 17), 9), "sd1", D(2026, 6, 17), None),
    (et(D(2026, 6, 17), 10, 30), "sd2", D(2026, 6, 17), "sd1"),  # at the cut-off is too late
    (et(D(2026, 6, 17), 16, 50), "nd", D(2026, 6, 17), "sd3"),
    (et(D(2026, 6, 18), 18), "sd1", D(2026, 6, 22), "nd"),  # Friday June 19 is Juneteenth
    (et(D(2026, 6, 20), 9), "sd1", D(2026, 6, 22), None),  # a Saturday
    (et(D(2026, 1, 16), 17, 45), "sd1", D(2026, 1, 20), "nd"),  # Friday before Martin Luther King Jr. Day
])
def test_next_window(now: dt.datetime, window: str, day: dt.date, missed: str | None) -> None:
    choice = next_window(WINDOWS, "America/New_York", now, FED)
    assert choice is not None
    assert (choice.window.name, choice.day, choice.missed.name if choice.missed else None) == (window, day, missed)
    assert choice.cutoff_at.tzinfo is not None and choice.cutoff_at > now
    if missed:
        assert f"written after the {missed} cut-off" in choice.note
    assert next_window((), "America/New_York", now, FED) is None


def test_cut_offs_follow_daylight_saving_time() -> None:
    winter = next_window(WINDOWS, "America/New_York", dt.datetime(2026, 1, 14, 15, 0, tzinfo=dt.UTC), FED)
    summer = next_window(WINDOWS, "America/New_York", dt.datetime(2026, 7, 15, 15, 0, tzinfo=dt.UTC), FED)
    assert winter is not None and summer is not None
    assert winter.window.name == "sd1"  # 10:00 EST
    assert summer.window.name == "sd2"  # 11:00 EDT


def test_entry_dates() -> None:
    sd1 = next_window(WINDOWS, "America/New_York", et(D(2026, 6, 17), 9), FED)
    nd = next_window(WINDOWS, "America/New_York", et(D(2026, 6, 17), 17), FED)
    assert sd1 is not None and nd is not None
    wed, thu = D(2026, 6, 17), D(2026, 6, 18)
    same = entry_dates(sd1, wed, True, 5000, 100_000_000, FED, True)
    assert (same.effective, same.descriptive, same.same_day, same.downgraded) == (wed, "SD1300", True, None)
    over = entry_dates(sd1, wed, True, 100_000_001, 100_000_000, FED, True)
    assert (over.effective, over.descriptive, over.same_day) == (thu, "", False)
    assert over.downgraded is not None and "exceeds the same-day limit 100000000" in over.downgraded
    late = entry_dates(nd, wed, True, 5000, 100_000_000, FED, True)
    assert (late.effective, late.descriptive) == (thu, "") and "not a same-day window" in str(late.downgraded)
    plain = entry_dates(sd1, D(2026, 6, 1), False, 5000, 100_000_000, FED, True)
    assert (plain.effective, plain.descriptive, plain.downgraded) == (thu, "", None)
    future = entry_dates(sd1, D(2026, 6, 24), True, 5000, 100_000_000, FED, True)
    assert (future.effective, future.descriptive) == (D(2026, 6, 24), "")
    nd_thu = next_window(WINDOWS, "America/New_York", et(D(2026, 6, 18), 17), FED)
    assert nd_thu is not None and nd_thu.day == D(2026, 6, 18)
    assert entry_dates(nd_thu, D(2026, 6, 18), False, 1, 1, FED, True).effective == D(2026, 6, 22)  # Juneteenth


def test_window_settings_are_validated() -> None:
    base = payee_settings("UTILITY CO", "1111111111")
    ps = PayeeSettings(**base, windows=WINDOW_CONFIG)
    assert ps.submission_windows() == WINDOWS and ps.same_day_limit == 100_000_000
    with pytest.raises(ValueError, match="unique"):
        PayeeSettings(**base, windows=[WINDOW_CONFIG[0], WINDOW_CONFIG[0]])
    with pytest.raises(ValueError, match="time zone"):
        PayeeSettings(**base, window_timezone="Mars/Olympus")
    # a config override ([ach.payees.NAME]) is checked by check-config, not first by check-submit
    assert AchSettings(payees={"UTILCO": {"windows": WINDOW_CONFIG}}).payees["UTILCO"]["windows"] == WINDOW_CONFIG
    with pytest.raises(ValueError, match="payee UTILCO"):
        AchSettings(payees={"UTILCO": {"windows": [{"name": "late", "cutoff": "27:30"}]}})


def _doc(pay: dt.date, limit: int = 100_000_000) -> dict:
    settings = payee_settings("UTILITY CO", "1111111111", windows=WINDOW_CONFIG, same_day_limit=limit)
    acct = {"user_id": "u", "ddn": "UTILCO", "account_status": "active"}
    return {
        "payees": [{"name": "UTILCO", "settings": settings},
                   {"name": "WATERCO", "settings": payee_settings("WATER CO", "2222222222")}],  # no windows
        "accounts": [{**acct, "pid": "A1", "account_holder_name": "ALICE A", "account_number": "100001",
                      "routing_transit": R1},
                     {**acct, "pid": "A2", "account_holder_name": "BOB B", "account_number": "200002",
                      "routing_transit": R2}],
        "payments": [
            {"external_id": "W1", "payee": "UTILCO", "payer_id": "alice", "pid": "A1", "pay_date": str(pay),
             "amount": 12345,
             "same_day": True},
            {"external_id": "W2", "payee": "UTILCO", "payer_id": "bob", "pid": "A2", "pay_date": str(pay),
             "amount": 150_000_000,
             "same_day": True},
            {"external_id": "W3", "payee": "UTILCO", "payer_id": "carol", "pid": "A2", "pay_date": str(pay),
             "amount": 700},
            {"external_id": "W4", "payee": "WATERCO", "payer_id": "dave", "pay_date": str(pay), "amount": 900,
             "same_day": True,
             "routing_transit": R1, "check_account_number": "400004", "account_name": "DAVE D",
             "account_type": "checking"},
        ],
    }


def _run(env: Env, when: dt.datetime):
    return Scheduler(env.settings, env.db, identity="test", clock=lambda: when).run("nightly")


def _report(env: Env) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in env.all(select(PaymentLog.param_name, PaymentLog.param_value)):
        out.setdefault(name, []).append(value)
    return out


def test_check_submit_writes_same_day_batches_in_the_open_window(env: Env) -> None:
    wed = D(2026, 6, 17)
    env.import_(_doc(wed))
    run = _run(env, et(wed, 9, 15))
    assert run.outcome == "success", run.message
    assert run.counts["submitted"] == 4 and run.counts["same_day"] == 1
    [f] = env.out_files()
    ach = parse(f.read_bytes())
    batches = {(b.header.effective_entry_date, b.header.company_descriptive_date.strip()): b for b in ach.batches
               if b.header.company_name.strip() == "UTILITY CO"}
    assert set(batches) == {("260617", "SD1300"), ("260618", "")}
    water = [b for b in ach.batches if b.header.company_name.strip() == "WATER CO"]
    assert [(b.header.effective_entry_date, b.header.company_descriptive_date.strip()) for b in water] == [
        ("260618", "")]  # a payee without windows never goes same-day
    [same] = batches["260617", "SD1300"].entries
    assert same.detail.amount == 12345
    assert sorted(e.detail.amount for e in batches["260618", ""].entries) == [700, 150_000_000]
    pays = {p.payer_id: p for p in env.payments().values()}
    assert pays["alice"].txn_start_date == wed and pays["bob"].txn_start_date == D(2026, 6, 18)
    assert all(p.status == CheckStatus.PROCESSED for p in pays.values())
    report = _report(env)
    assert report["window"] == ["window sd1 (same-day, cut-off 2026-06-17 10:30 EDT)"]
    assert report["same_day_submitted"] == ["1"]
    [down] = report["same_day_downgraded"]
    assert down.startswith(f"{pays['bob'].payment_id}|") and "same-day limit" in down
    summary = env.scalar(select(OutboundFile.summary))
    assert summary["windows"] == {"UTILCO": "window sd1 (same-day, cut-off 2026-06-17 10:30 EDT)"}


def test_a_file_written_after_the_cut_off_goes_to_the_next_window_and_says_so(env: Env) -> None:
    wed = D(2026, 6, 17)
    env.import_(_doc(wed))
    assert _run(env, et(wed, 17, 40)).outcome == "success"
    [f] = env.out_files()
    ach = parse(f.read_bytes())
    # Next window: Thursday's sd1; due Wednesday, so same-day on Thursday
    dates = sorted((b.header.effective_entry_date, b.header.company_descriptive_date.strip()) for b in ach.batches
                   if b.header.company_name.strip() == "UTILITY CO")
    assert dates == [("260618", "SD1300"), ("260622", "")]
    report = _report(env)
    assert report["window"] == ["written after the nd cut-off 17:30 of 2026-06-17: goes to window sd1 (same-day, "
                                "cut-off 2026-06-18 10:30 EDT)"]
    with env.db.transaction() as s:
        assert s.scalar(select(CheckPayment.same_day).where(CheckPayment.payer_id == "alice")) is True
