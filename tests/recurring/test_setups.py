"""setups.load: good files applied with history rows; bad files to error/ with every problem listed,
nothing half-loaded; the seed's edit rules; card accounts without card numbers; ``spoolgate import``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from daemon.cli import main
from formats.setups import find_pan, json_schema, parse_setups
from store.models.ach import PaymentAccount, PaymentAccountHistory
from store.models.recurring import (
    PaymentReminder,
    PaymentReminderHistory,
    RecurringPayment,
    RecurringPaymentAccount,
    RecurringPaymentHistory,
)
from tests.recurring.support import Env, at, recurring_config
from tests.support import write_config

PAN = "4111 1111 1111 1111"


def rp(ref: str = "RP1", op: str = "create", **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"op": op, "type": "recurring_payment", "id": ref}
    if op == "create":
        base.update({"user_id": "u1", "payee": "UTILCO", "pid": "A1", "accounts": ["acct1", "acct2"],
                     "amount_type": "amount_due", "pay_date_type": "monthly", "pay_day": 15,
                     "start_date": "2030-01-02"})
    return {**base, **over}


def _report(env: Env, name: str) -> dict[str, Any]:
    err = env.root / "spool/setups/error" / name
    assert err.exists()
    return dict(json.loads(Path(f"{err}.error.json").read_text()))


def _count(env: Env, model: Any) -> int:
    return int(env.all(select(func.count()).select_from(model))[0][0])


def test_schema_file_matches_the_records() -> None:
    committed = (Path(__file__).resolve().parents[2] / "formats/setups/setups.schema.json").read_text()
    assert committed == json_schema()


def test_good_file_creates_everything_with_history(env: Env) -> None:
    records = [
        {"op": "create", "type": "payment_account", "id": "C1", "user_id": "u1", "payment_type": "card",
         "holder": "ALICE A", "brand": "visa", "last_four": "1111", "expiry": "2031-02", "email": "a@x.test"},
        {"op": "create", "type": "payment_account", "id": "B9", "user_id": "u9", "payment_type": "check",
         "holder": "ZED Z", "routing_transit": "011000015", "account_number": "5555123412341234",
         "payee": "UTILCO"},
        rp(),
        {"op": "create", "type": "payment_reminder", "id": "REM1", "user_id": "u1", "email": "a@x.test",
         "interval": "monthly", "start_date": "2030-01-05", "account": "acct1"},
    ]
    out = env.setups(*records)
    assert out.state == "done", out.reason
    assert out.counts == {"payment_account_create": 2, "recurring_payment_create": 1,
                          "payment_reminder_create": 1}
    with env.db.transaction() as s:
        card = s.get(PaymentAccount, "C1")
        assert card is not None
        assert (card.account_number, card.card_brand, card.card_last_four, str(card.expiration_date),
                card.account_status) == ("****1111", "visa", "1111", "2031-02-28", "active")
        bank = s.get(PaymentAccount, "B9")
        assert bank is not None and bank.account_status == "pnd_active"  # enrollment (prenote) still to come
        accts = list(s.scalars(select(RecurringPaymentAccount.payer_account_number)
                               .order_by(RecurringPaymentAccount.id)))
        assert accts == ["acct1", "acct2"]
        rem = s.scalar(select(PaymentReminder))
        assert rem is not None and (str(rem.next_reminder_date), rem.reminded) == ("2030-01-05", "N")
    assert _count(env, RecurringPaymentHistory) == 1 and _count(env, PaymentReminderHistory) == 1
    assert env.all(select(PaymentAccountHistory.pid, PaymentAccountHistory.audit_operation)
                   .where(PaymentAccountHistory.pid.in_(["C1", "B9"])).order_by(PaymentAccountHistory.pid)) == [
        ("B9", 1001), ("C1", 1001)]


def test_bad_file_to_error_with_every_problem_and_nothing_loaded(env: Env) -> None:
    assert env.setups(rp("OLD", amount_type="fixed", amount=1000)).state == "done"
    lines = [
        json.dumps(rp("RP1", pid="NOPE")),  # unknown payment account
        json.dumps(rp("RP2", start_date="2030-05-01", end_date="2030-04-01")),  # end before start
        json.dumps(rp("RP3", pay_day=32)),  # day 32
        json.dumps(rp("OLD", op="update", amount_type="amount_due")),  # amount type change
        json.dumps({"op": "create", "type": "payment_account", "id": "C2", "user_id": "u1", "payment_type": "card",
                    "holder": "ALICE A", "brand": "visa", "last_four": "1111", "expiry": "2031-02",
                    "nick_name": f"card {PAN}"}),  # a PAN
        json.dumps(rp("RP4", payee="NOBODY")),
        "{not json",
        json.dumps(rp("RP5", amount="12.34")),  # never a bad number turned into 0
        json.dumps({"op": "cancel", "type": "recurring_payment", "id": "GHOST"}),
        json.dumps(rp("RP6", pay_date_type="weekly", pay_day=8)),
    ]
    out = env.drop("setups", "bad.jsonl", ("\n".join(lines) + "\n").encode())
    assert out.state == "error"
    report = _report(env, "bad.jsonl")
    got = {(i["line"], i["code"], i["field"]) for i in report["issues"]}
    assert got == {(1, "unknown_account", "pid"), (2, "end_before_start", "end_date"),
                   (3, "day_out_of_range", "pay_day"), (4, "immutable_field", "amount_type"),
                   (5, "card_number", "nick_name"), (6, "unknown_payee", "payee"), (7, "bad_json", None),
                   (8, "invalid_field", "amount"), (9, "unknown_setup", "id"), (10, "day_out_of_range", "pay_day")}
    assert report["issue_count"] == 10 and report["code"] == "setups_invalid"
    assert PAN.replace(" ", "") not in json.dumps(report) and "************1111" in json.dumps(report)
    # nothing half-loaded: only the earlier file's setup exists, unchanged
    assert env.all(select(RecurringPayment.setup_ref, RecurringPayment.amount_type)) == [("OLD", "fixed")]
    assert env.all(select(PaymentAccount.pid).where(PaymentAccount.pid == "C2")) == []


def test_edit_rules(env: Env) -> None:
    assert env.setups(rp("RP1", pay_date_type="before_due", pay_day=None, days_before_due=2)).state == "done"
    bad = env.setups(rp("RP1", op="update", pay_date_type="monthly", pay_day=3), name="b1.jsonl")
    assert bad.state == "error" and "pay date type cannot change" in str(bad.reason)
    ok = env.setups(rp("RP1", op="update", amount_type="min_due", start_date="2030-02-01"), name="ok.jsonl")
    assert ok.state == "done", ok.reason  # amount due ↔ minimum due is allowed; the start date before any payment
    with env.db.transaction() as s:  # once the first payment is made, the start date is locked
        row = s.scalar(select(RecurringPayment))
        assert row is not None
        row.curr_num_payments = 1
    locked = env.setups(rp("RP1", op="update", start_date="2030-03-01"), name="b2.jsonl")
    assert locked.state == "error"
    assert _report(env, "b2.jsonl")["issues"][0]["code"] == "start_date_locked"
    assert env.setups({"op": "cancel", "type": "recurring_payment", "id": "RP1"}, name="c.jsonl").state == "done"
    assert env.all(select(RecurringPaymentHistory.audit_operation).order_by(RecurringPaymentHistory.history_id)) == [
        (1001,), (1002,), (1003,)]
    assert env.setups(rp("RP1", op="update", amount=5), name="b3.jsonl").state == "error"  # cancelled


def test_monthly_update_moves_next_pay_date(env: Env) -> None:
    assert env.setups(rp("RP1", amount_type="fixed", amount=100)).state == "done"
    assert env.row()["next_pay_date"].isoformat() == "2030-01-15"
    assert env.setups(rp("RP1", op="update", pay_date_type="weekly", pay_day=1), name="u.jsonl").state == "done"
    assert env.row()["next_pay_date"].isoformat() == "2030-01-06"  # the first Sunday from 2030-01-02


@pytest.mark.parametrize("text,found", [
    ("4111111111111111", True), ("4111-1111-1111-1111", True), ("378282246310005", True),
    ("4111111111111112", False), ("123456789012", False), ("41111111111111110000", False)])
def test_pan_detection(text: str, found: bool) -> None:
    assert (find_pan(f"x {text} y") is not None) is found


def test_bank_account_number_is_not_taken_for_a_pan() -> None:
    rec = {"op": "create", "type": "payment_account", "id": "B1", "user_id": "u", "payment_type": "check",
           "holder": "H", "routing_transit": "011000015", "account_number": "4111111111111111"}
    records, issues = parse_setups(json.dumps(rec).encode())
    assert issues == [] and len(records) == 1


def test_spoolgate_import_accepts_setup_records(tmp_path: Path, env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path / "spoolgate.toml", recurring_config(tmp_path, env.settings.database_url))
    good = tmp_path / "setups.jsonl"
    good.write_text(json.dumps(rp()) + "\n")
    assert main(["--config", str(cfg), "import", str(good)]) == 0
    assert "recurring_payment_create" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(rp("RP9", pay_day=32)) + "\n" + json.dumps(rp("RP1")) + "\n")
    assert main(["--config", str(cfg), "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "line 1" in err and "pay_day" in err and "line 2" in err and "already exists" in err
    assert env.all(select(RecurringPayment.setup_ref)) == [("RP1",)]
    assert at(2030, 1, 1)  # the module's clock helper stays importable for the other tests
