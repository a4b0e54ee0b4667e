"""A recurring-payments spool on a fresh database: payees and accounts, setup files, bills, jobs at a chosen
local time (injected clock), and the columns the seed's tables show."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from daemon.pipeline import Outcome, Pipeline
from daemon.scheduler import RunSummary, Scheduler
from handlers.ach.audit import Actor
from handlers.ach.importer import import_data
from store.config import Settings
from store.db import Database
from store.models.ach import CheckPayment
from store.models.bills import Bill
from store.models.recurring import PaymentBillSummary, RecurringPayment
from tests.ach.support import R1, R2, payee_settings

SEED_COLUMNS = ("bill_scheduled", "status", "last_process_time", "last_pay_date", "next_pay_date", "bill",
                "curr_num_payments")


def at(y: int, m: int, d: int, hh: int = 23, mm: int = 59) -> dt.datetime:
    """A local wall-clock time as the aware UTC instant the scheduler's clock gives."""
    return dt.datetime(y, m, d, hh, mm).astimezone().astimezone(dt.UTC)


def recurring_config(root: Path, db_url: str, *, jobs: dict[str, Any] | None = None, **over: Any) -> dict[str, Any]:
    chan = {"completeness": "quiet", "quiet_ms": 200, "dated": False}
    cfg: dict[str, Any] = {
        "base_dir": str(root), "spool_root": str(root / "spool"), "state_dir": str(root / "state"),
        "database_url": db_url, "workers": 2, "scan_interval_s": 0.5, "tick_ms": 20, "lease_s": 30,
        "transient_retry_s": 30.0, "watchdog_interval_s": 0.5, "shutdown_timeout_s": 20.0,
        "channels": {
            "setups": {"inbox": "setups/in", "work": "setups/work", "processed": "setups/processed",
                       "error": "setups/error", **chan,
                       "routes": [{"pattern": "*.jsonl", "handler": "setups.load", "options": {}}]},
            "bills": {"inbox": "bills/in", "work": "bills/work", "processed": "bills/processed",
                      "error": "bills/error", **chan,
                      "routes": [{"pattern": "*.xml", "handler": "bills.load",
                                  "options": {"loaded_status": "PUBLISHED"}}]},
            "ach": {"inbox": "ach/in", "work": "ach/work", "processed": "ach/processed", "error": "ach/error",
                    **chan, "routes": [{"pattern": "*", "handler": "ach.returns", "options": {}}]},
        },
        "outbound": {"ach_out": {"folder": "ach/out", "signal": "summary"},
                     "acks": {"folder": "acks/out", "signal": "summary"}},
        "jobs": jobs if jobs is not None else default_jobs(),
    }
    cfg.update(over)
    return cfg


def default_jobs(**recurring_options: Any) -> dict[str, Any]:
    return {
        "recurring-payments": {"kind": "recurring.payments", "every": "1 day", "at": "05:00", "enabled": False,
                               "options": recurring_options},
        "check-submit": {"kind": "ach.check-submit", "every": "1 day", "at": "06:00", "enabled": False,
                         "options": {"payee": "UTILCO"}},
        "clear-checks": {"kind": "ach.clear-checks", "every": "1 day", "at": "06:30", "enabled": False,
                         "options": {"payee": "UTILCO"}},
        "payment-reminders": {"kind": "recurring.reminders", "every": "1 day", "at": "07:00", "enabled": False,
                              "options": {}},
        "notify-enroll": {"kind": "recurring.notify-enroll", "every": "1 day", "at": "07:30", "enabled": False},
        "card-expiry-notify": {"kind": "recurring.card-expiry", "every": "1 day", "at": "08:00", "enabled": False},
        "all-check-tasks": {"kind": "chain", "every": "1 day", "at": "05:00", "enabled": False,
                            "recipients": ["ops@biller.test"],
                            "options": {"steps": ["recurring-payments", "check-submit", "clear-checks",
                                                  "payment-reminders"]}},
    }


BASE_IMPORT: dict[str, Any] = {
    "payees": [{"name": "UTILCO", "settings": payee_settings("UTILITY CO", "1111111111")}],
    "accounts": [
        {"pid": "A1", "user_id": "u1", "ddn": "UTILCO", "account_holder_name": "ALICE A", "account_number": "100001",
         "routing_transit": R1, "account_status": "active"},
        {"pid": "A2", "user_id": "u2", "ddn": "UTILCO", "account_holder_name": "BOB B", "account_number": "200002",
         "routing_transit": R2, "account_status": "active"},
    ],
}


def setup_line(**rec: Any) -> str:
    return json.dumps(rec)


@dataclass
class Env:
    root: Path
    settings: Settings
    db: Database

    def import_base(self) -> None:
        with self.db.transaction() as s:
            import_data(s, self.settings, BASE_IMPORT, Actor.operator("test-import"))

    def drop(self, channel: str, name: str, data: bytes) -> Outcome:
        inbox = self.settings.channels[channel].inbox
        inbox.mkdir(parents=True, exist_ok=True)
        (inbox / name).write_bytes(data)
        pipe = Pipeline(self.settings, self.db)
        fid = pipe.claim(channel, inbox / name)
        assert fid is not None
        return pipe.process(fid)

    def setups(self, *records: dict[str, Any], name: str = "setups.jsonl") -> Outcome:
        return self.drop("setups", name, "\n".join(json.dumps(r) for r in records).encode() + b"\n")

    def bill(self, doc_id: str, account: str, doc_date: dt.date, due: dt.date, amount: int,
             minimum: int | None = None) -> None:
        with self.db.transaction() as s:
            s.add(Bill(bill_id=doc_id, account_number=account, user_id="u1", payer_name="ALICE A",
                       document_date=doc_date, due_date=due, amount_due=amount,
                       minimum_amount_due=amount // 10 if minimum is None else minimum, currency="USD",
                       status="PUBLISHED"))

    def run(self, job: str, when: dt.datetime) -> RunSummary:
        out = Scheduler(self.settings, self.db, identity="test", clock=lambda: when).run(job)
        assert out.outcome != "failure", out.message
        return out

    def row(self, ref: str = "RP1") -> dict[str, Any]:
        with self.db.transaction() as s:
            r = s.scalar(select(RecurringPayment).where(RecurringPayment.setup_ref == ref))
            assert r is not None
            doc = s.scalar(select(PaymentBillSummary.doc_id).where(PaymentBillSummary.bill_id == r.bill_id)) \
                if r.bill_id is not None else None
            return {"bill_scheduled": r.bill_scheduled, "status": r.status,
                    "last_process_time": r.last_process_time.astimezone().replace(tzinfo=None),
                    "last_pay_date": r.last_pay_date, "next_pay_date": r.next_pay_date, "bill": doc,
                    "curr_num_payments": r.curr_num_payments, "payment_id": r.payment_id,
                    "max_num_payments": r.max_num_payments, "end_date": r.end_date}

    def cols(self, ref: str = "RP1") -> tuple[Any, ...]:
        r = self.row(ref)
        return tuple(r[c] for c in SEED_COLUMNS)

    def payments(self) -> list[CheckPayment]:
        with self.db.transaction() as s:
            return list(s.scalars(select(CheckPayment).order_by(CheckPayment.payment_id)))

    def all(self, stmt: Any) -> list[Any]:
        with self.db.transaction() as s:
            return list(s.execute(stmt).all())


def make_env(root: Path, db_url: str, **over: Any) -> Env:
    return Env(root, Settings(**recurring_config(root, db_url, **over)), Database(db_url))
