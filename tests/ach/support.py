"""ACH test data: a spool config with an ``ach`` channel, payees, accounts and payments to import."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from formats.nacha.routing import check_digit

DEST, ORIGIN = "091000019", "071000013"
DEST_NAME, ORIGIN_NAME = "FED RESERVE", "SPOOLGATE BILLER"


def routing(first8: str) -> str:
    return first8 + check_digit(first8)


R1, R2, R3 = routing("01100001"), routing("02100002"), routing("11100002")


def payee_settings(company: str, company_id: str, **over: Any) -> dict[str, Any]:
    s: dict[str, Any] = {
        "immediate_destination": DEST, "immediate_destination_name": DEST_NAME,
        "immediate_origin": ORIGIN, "immediate_origin_name": ORIGIN_NAME,
        "company_id": company_id, "company_name": company, "company_entry_description": "UTILITY",
        "odfi": "09100001", "sec_code": "PPD",
    }
    s.update(over)
    return s


def ach_config(root: Path, db_url: str, *, jobs: dict[str, Any] | None = None, ach: dict[str, Any] | None = None,
               **over: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "base_dir": str(root), "spool_root": str(root / "spool"), "state_dir": str(root / "state"),
        "database_url": db_url, "workers": 2, "scan_interval_s": 0.5, "tick_ms": 20, "lease_s": 30,
        "transient_retry_s": 30.0, "watchdog_interval_s": 0.5, "shutdown_timeout_s": 20.0,
        "channels": {"ach": {
            "inbox": "ach/in", "work": "ach/work", "processed": "ach/processed", "error": "ach/error",
            "completeness": "quiet", "quiet_ms": 200, "dated": False,
            "routes": [{"pattern": "*", "handler": "ach.returns", "options": {}}],
        }},
        "outbound": {"ach_out": {"folder": "ach/out", "signal": "summary"},
                     "acks": {"folder": "acks/out", "signal": "summary"}},
        "jobs": jobs if jobs is not None else default_jobs(),
        "ach": ach or {},
    }
    cfg.update(over)
    return cfg


def default_jobs() -> dict[str, Any]:
    opts = {"payee": "UTILCO", "extra_payees": ["WATERCO"]}
    return {
        "nightly": {"kind": "ach.check-submit", "every": "1 day", "at": "23:59", "options": dict(opts)},
        "enroll": {"kind": "ach.submit-enroll", "every": "1 day", "at": "22:00", "options": dict(opts)},
        "confirm": {"kind": "ach.confirm-enroll", "every": "1 day", "at": "21:00", "options": dict(opts)},
        "clear": {"kind": "ach.clear-checks", "every": "1 day", "at": "20:00", "options": dict(opts)},
    }


def import_doc(pay_date: dt.date) -> dict[str, Any]:
    """Two payees in one file, five accounts, payments in every account state (external ids P1...)."""
    doc: dict[str, Any] = {
        "payees": [
            {"name": "UTILCO", "settings": payee_settings("UTILITY CO", "1111111111")},
            {"name": "WATERCO", "settings": payee_settings("WATER CO", "2222222222")},
        ],
        "accounts": [
            {"pid": "A1", "user_id": "alice", "ddn": "UTILCO", "account_holder_name": "ALICE A",
             "account_number": "100001", "routing_transit": R1, "account_status": "active"},
            {"pid": "A2", "user_id": "bob", "ddn": "UTILCO", "account_holder_name": "BOB B",
             "account_number": "200002", "account_type": "saving", "routing_transit": R2,
             "account_status": "active"},
            {"pid": "A3", "user_id": "carol", "ddn": "UTILCO", "account_holder_name": "CAROL C",
             "account_number": "300003", "routing_transit": R3},
            {"pid": "A4", "user_id": "dave", "ddn": "WATERCO", "account_holder_name": "DAVE D",
             "account_number": "400004", "routing_transit": R1},
            {"pid": "A5", "user_id": "erin", "ddn": "WATERCO", "account_holder_name": "ERIN E",
             "account_number": "500005", "routing_transit": R2, "account_status": "inactive"},
        ],
        "payments": [
            {"payee": "UTILCO", "payer_id": "alice", "pid": "A1", "pay_date": str(pay_date), "amount": 12345,
             "payer_account_number": "ACCT-ALICE"},
            {"payee": "UTILCO", "payer_id": "bob", "pid": "A2", "pay_date": str(pay_date), "amount": 5000},
            {"payee": "UTILCO", "payer_id": "alice", "pid": "A1", "pay_date": str(pay_date), "amount": 0},
            {"payee": "UTILCO", "payer_id": "frank", "pay_date": str(pay_date), "amount": 777,
             "routing_transit": R3, "check_account_number": "600006", "account_name": "FRANK F",
             "account_type": "checking"},
            {"payee": "UTILCO", "payer_id": "carol", "pid": "A3", "pay_date": str(pay_date), "amount": 999},
            {"payee": "WATERCO", "payer_id": "erin", "pid": "A5", "pay_date": str(pay_date), "amount": 4200},
            {"payee": "WATERCO", "payer_id": "dave", "pid": "A4", "pay_date": str(pay_date), "amount": 3100},
            {"payee": "UTILCO", "payer_id": "alice", "pid": "A1",
             "pay_date": str(pay_date + dt.timedelta(days=30)), "amount": 100},
        ],
    }
    for i, payment in enumerate(doc["payments"], 1):
        payment["external_id"] = f"P{i}"
    return doc
