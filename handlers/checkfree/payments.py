"""Status changes of CheckFree check payments, each with its seed 004 history row.

CheckFree payments live in the ACH channel's ``check_payments`` table (payee
gateway ``checkfree``); every change writes a ``check_payments_history`` row
with all base columns and the audit columns in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import inspect as sa_inspect

from store.db import utcnow
from store.models.ach import (
    AUDIT_OK,
    AuditOp,
    CheckPayment,
    CheckPaymentHistory,
    PaymentAccount,
    PaymentAccountHistory,
)

if TYPE_CHECKING:
    from store.unit import UnitSession

GATEWAY = "checkfree"

_BASE_COLUMNS = tuple(c.key for c in sa_inspect(CheckPayment).column_attrs)


def audit(session: UnitSession, payment: CheckPayment, *, job_id: int, job_name: str, reason: str | None,
          operation: int = AuditOp.UPDATE, now: dt.datetime | None = None) -> CheckPaymentHistory:
    row = CheckPaymentHistory(**{k: getattr(payment, k) for k in _BASE_COLUMNS},
                              audit_operation=int(operation), audit_status=AUDIT_OK,
                              audit_reason=(reason or "")[:255] or None, job_id=job_id, job_name=job_name[:80],
                              time_stamp=now or utcnow())
    session.add(row)
    return row


def set_status(session: UnitSession, payment: CheckPayment, status: int, *, job_id: int, job_name: str,
               reason: str | None = None, error: str | None = None, now: dt.datetime | None = None) -> None:
    when = now or utcnow()
    payment.status = int(status)
    payment.last_modify_time = when
    if error is not None:
        payment.txn_err_msg = error[:255]
    session.flush()
    audit(session, payment, job_id=job_id, job_name=job_name, reason=reason, now=when)


def _account_audit(session: UnitSession, account: PaymentAccount, *, job_id: int, job_name: str,
                   reason: str | None, now: dt.datetime) -> None:
    cols = tuple(c.key for c in sa_inspect(PaymentAccount).column_attrs)
    session.add(PaymentAccountHistory(**{k: getattr(account, k) for k in cols},
                                      audit_operation=int(AuditOp.UPDATE), audit_status=AUDIT_OK,
                                      audit_reason=(reason or "")[:255] or None, job_id=job_id,
                                      job_name=job_name[:80], time_stamp=now))


def noc_changes(code: str, corrected: str) -> dict[str, str]:
    """What a NACHA change code corrects, from the corrected data (addenda 98 pos 36-64 layout)."""
    c = corrected.ljust(29)

    def txn_type(two: str) -> str:
        return "savings" if two.strip() in ("32", "37", "38") else "checking"

    if code == "C01":
        return {"account_number": c[0:17].strip()}
    if code == "C02":
        return {"routing_transit": c[0:9].strip()}
    if code == "C03":
        return {"routing_transit": c[0:9].strip(), "account_number": c[12:29].strip()}
    if code == "C05":
        return {"account_type": txn_type(c[0:2])}
    if code == "C06":
        return {"account_number": c[0:17].strip(), "account_type": txn_type(c[20:22])}
    if code == "C07":
        return {"routing_transit": c[0:9].strip(), "account_number": c[9:26].strip(),
                "account_type": txn_type(c[26:28])}
    return {}


def apply_noc(session: UnitSession, payment: CheckPayment, code: str, corrected: str, *, update_account: bool,
              job_id: int, job_name: str, now: dt.datetime | None = None) -> bool:
    """Seed 001 "NOC Returns": txn_message ``CODE::NEW::OLD``, account fields corrected per code.

    Returns True when a payment account was found (and updated when ``update_account``).
    """
    from sqlalchemy import select

    when = now or utcnow()
    account = session.get(PaymentAccount, payment.pid) if payment.pid else None
    if account is None:
        account = session.scalar(select(PaymentAccount).where(
            PaymentAccount.user_id == payment.payer_id,
            PaymentAccount.account_number == payment.check_account_number))
    if account is None:
        return False
    changes = noc_changes(code, corrected)
    old = "".join(str(getattr(account, k) or "") for k in changes) if changes else ""
    new = corrected.strip()
    account.txn_message = f"{code}::{new}::{old}"[:255]
    account.txn_date = when
    account.notify_status = "N"
    if update_account:
        for k, v in changes.items():
            if v:
                setattr(account, k, v)
    session.flush()
    _account_audit(session, account, job_id=job_id, job_name=job_name, reason=f"NOC {code}", now=when)
    return True
