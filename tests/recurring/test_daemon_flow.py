"""End to end through the real daemon: a setups file and a bills file dropped → recurring-payments →
check-submit writes the ACH file → a return built independently for one payment dropped → statuses →
payment-reminders e-mails the returned and the processed payment to a real SMTP server, each exactly once,
also across a kill -9 between queueing and flagging and a kill -9 of the daemon before it sent."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from formats.bills import Bill, write_bills
from formats.nacha import validate
from store.models.ach import CheckPayment, CheckStatus
from store.models.core import Notification
from store.models.recurring import RecurringPayment
from tests.ach.builders import Original, Ret, build
from tests.ach.support import R1, R2, payee_settings
from tests.fixtures.smtp import SmtpSink
from tests.recurring.support import Env, at, default_jobs, recurring_config
from tests.support import REPO, DaemonProcess, wait_for, write_config

TODAY = dt.date(2026, 6, 18)


def _drop(inbox: Path, name: str, data: bytes) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    tmp = inbox / f".{name}.part"
    tmp.write_bytes(data)
    tmp.rename(inbox / name)


def _setups() -> bytes:
    recs = [
        {"op": "create", "type": "payment_account", "id": "P1", "user_id": "alice", "payee": "UTILCO",
         "payment_type": "check", "holder": "ALICE A", "routing_transit": R1, "account_number": "111111",
         "status": "active", "email": "alice@example.test"},
        {"op": "create", "type": "payment_account", "id": "P2", "user_id": "bob", "payee": "UTILCO",
         "payment_type": "check", "holder": "BOB B", "routing_transit": R2, "account_number": "222222",
         "status": "active", "email": "bob@example.test"},
        {"op": "create", "type": "recurring_payment", "id": "RP-ALICE", "user_id": "alice", "payee": "UTILCO",
         "pid": "P1", "accounts": ["ACC-1"], "email": "alice@example.test", "amount_type": "amount_due",
         "pay_date_type": "before_due", "days_before_due": 1, "start_date": "2026-06-01"},
        {"op": "create", "type": "recurring_payment", "id": "RP-BOB", "user_id": "bob", "payee": "UTILCO",
         "pid": "P2", "accounts": ["ACC-2"], "email": "bob@example.test", "amount_type": "fixed", "amount": 2500,
         "pay_date_type": "monthly", "pay_day": 20, "start_date": "2026-06-01"},
    ]
    return ("\n".join(json.dumps(r) for r in recs) + "\n").encode()


def _bills() -> bytes:
    out = io.BytesIO()
    write_bills(out, [Bill("B-ACC-1", "ACC-1", "ALICE A", dt.date(2026, 6, 15), dt.date(2026, 6, 20), 4321, 500,
                           "USD", user_id="alice"),
                      Bill("B-ACC-2", "ACC-2", "BOB B", dt.date(2026, 6, 15), dt.date(2026, 6, 30), 9999, 999, "USD",
                           user_id="bob")])
    return out.getvalue()


def _jobs_run(cfg: Path, name: str, crashpoint: str | None = None) -> int:
    env = dict(os.environ)
    env.pop("SPOOLGATE_CRASHPOINT", None)
    if crashpoint:
        env["SPOOLGATE_CRASHPOINT"] = crashpoint
    return subprocess.run([sys.executable, "-m", "daemon", "--config", str(cfg), "jobs", "run", name], cwd=REPO,
                          env=env, capture_output=True, timeout=120).returncode


def _status_mails(sink: SmtpSink) -> list[tuple[tuple[str, ...], str]]:
    return sorted((m.rcpt_tos, str(m.message["Subject"])) for m in sink.messages
                  if "Your payment" in str(m.message["Subject"]))


def test_daemon_end_to_end(tmp_path: Path, db_url: str, smtp_server: SmtpSink) -> None:
    from handlers.ach.audit import Actor
    from handlers.ach.importer import import_data
    from store.config import Settings
    from store.db import Database

    jobs = default_jobs()
    jobs["check-submit"]["options"]["days_before"] = 2
    data = recurring_config(tmp_path, db_url, jobs=jobs, smtp={"host": smtp_server.host, "port": smtp_server.port})
    cfg = write_config(tmp_path / "spoolgate.toml", data)
    env = Env(tmp_path, Settings(**data), Database(db_url))
    spool = tmp_path / "spool"
    d = DaemonProcess(cfg)
    try:
        with env.db.transaction() as s:
            import_data(s, env.settings, {"payees": [{"name": "UTILCO",
                                                      "settings": payee_settings("UTILITY CO", "1111111111")}]},
                        Actor.operator("test"))
        d.wait_ready()
        _drop(spool / "setups/in", "portal-0618.jsonl", _setups())
        _drop(spool / "bills/in", "bills-0618.xml", _bills())
        wait_for(lambda: (spool / "setups/processed/portal-0618.jsonl").exists()
                 and (spool / "bills/processed/bills-0618.xml").exists(), 30, what="setups and bills processed")

        assert env.run("recurring-payments", at(2026, 6, 18, 9, 0)).counts["scheduled"] == 2
        with env.db.transaction() as s:
            rows = {r.setup_ref: (r.bill_scheduled, r.next_pay_date, r.last_pay_date, r.curr_num_payments)
                    for r in s.scalars(select(RecurringPayment))}
        assert rows == {"RP-ALICE": ("Y", dt.date(2026, 6, 19), dt.date(2026, 6, 19), 1),
                        "RP-BOB": ("N", dt.date(2026, 7, 20), dt.date(2026, 6, 20), 1)}
        assert env.run("check-submit", at(2026, 6, 18, 10, 0)).counts["submitted"] == 2
        (ach,) = sorted((spool / "ach/out").glob("*.ach"))
        assert validate(io.BytesIO(ach.read_bytes())).ok
        orig = Original(ach.read_bytes())
        ret = build(orig, [Ret(orig.trace_of("111111", prenote=False), "R01")])
        _drop(spool / "ach/in", "returns-0619.ach", ret)
        wait_for(lambda: (spool / "ach/processed/returns-0619.ach").exists(), 30, what="return processed")
        with env.db.transaction() as s:
            st = {p.payer_id: (p.status, p.amount, p.reminded) for p in s.scalars(select(CheckPayment))}
        assert st == {"alice": (CheckStatus.RETURNED, 4321, "N"), "bob": (CheckStatus.PROCESSED, 2500, "N")}
        wait_for(lambda: len([m for m in smtp_server.messages if "scheduled" in str(m.message["Subject"])]) == 2,
                 30, what="the two scheduled-payment e-mails")

        # kill -9 between the queue insert and the reminded flag: both roll back together
        assert _jobs_run(cfg, "payment-reminders", "status-notices-queued") == -9
        with env.db.transaction() as s:
            assert s.scalars(select(Notification).where(Notification.kind.like("payment-%"))).all() == []
            assert {p.reminded for p in s.scalars(select(CheckPayment))} == {"N"}

        # kill -9 of the daemon after the notices are queued and flagged but before they are sent
        smtp_server.stop()
        assert _jobs_run(cfg, "payment-reminders") == 0
        d.kill9()
        assert _status_mails(smtp_server) == []
        smtp_server.start()
        d = DaemonProcess(cfg)
        d.wait_ready()
        wait_for(lambda: len(_status_mails(smtp_server)) == 2, 60, what="two status e-mails")
        wait_for(lambda: not env.all(select(Notification.id).where(Notification.state != "sent")), 30,
                 what="queue drained")
        assert env.run("payment-reminders", at(2026, 6, 19, 9, 0)).outcome == "noop"
    finally:
        assert d.terminate() == 0 or d.proc.returncode == -9, d.log()
        env.db.dispose()
    assert _status_mails(smtp_server) == [
        (("alice@example.test",), "Your payment of 43.21 is returned"),
        (("bob@example.test",), "Your payment of 25.00 is sent for processing")]
    part = next(m.message.get_body() for m in smtp_server.messages if "returned" in str(m.message["Subject"]))
    assert part is not None
    body = part.get_content()
    assert "Reason: R01" in body and "ACC-1" not in body
    assert len([m for m in smtp_server.messages if "scheduled" in str(m.message["Subject"])]) == 2
    assert list((spool / "setups/error").glob("*")) == [] and list((spool / "ach/error").glob("*")) == []
