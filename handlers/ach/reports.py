"""Read side for operators: the daily summary/exception reports (payment_log) and seed 004 audit queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import and_, func, select

from formats.errors import mask
from store.models.ach import (
    CheckPayment,
    CheckPaymentHistory,
    CheckStatus,
    PaymentAccountHistory,
    PaymentLog,
    PaymentPayee,
    PaymentRefundHistory,
)
from store.models.pbs import OcrLineHistory, PbsAgreementHistory
from store.unit import UnitSession

#: columns holding bank account numbers: masked in every operator output
MASKED = frozenset({"check_account_number", "account_number", "payment_account_number"})


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time()).astimezone()
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


def daily(session: UnitSession, day: dt.date, payee: str | None = None) -> dict[str, Any]:
    """Every summary and exception report of ``day`` (optionally one payee's) plus status counts."""
    ids = set(session.scalars(select(PaymentLog.log_id).where(PaymentLog.param_name == "report_date",
                                                              PaymentLog.param_value == day.isoformat())))
    if payee is not None:
        ids &= set(session.scalars(select(PaymentLog.log_id).where(PaymentLog.param_name == "payee",
                                                                   PaymentLog.param_value == payee)))
    reports = []
    for log_id in sorted(ids):
        rows = session.execute(select(PaymentLog.param_name, PaymentLog.param_value)
                               .where(PaymentLog.log_id == log_id).order_by(PaymentLog.batch_index)).all()
        fields: dict[str, Any] = {}
        lists: dict[str, list[str]] = defaultdict(list)
        for name, value in rows:
            if name in ("payee", "returned_payment", "exception", "failed_payment", "cancelled_payment",
                        "suspended_batch"):
                lists[name].append(value or "")
            else:
                fields[name] = value
        reports.append({"log_id": log_id, **fields, **lists})
    lo, hi = local_day_bounds(day)
    q = select(CheckPayment.status, func.count(), func.coalesce(func.sum(CheckPayment.amount), 0)).where(
        CheckPayment.last_modify_time >= lo, CheckPayment.last_modify_time < hi)
    if payee is not None:
        q = q.where(CheckPayment.payee_id.in_(select(PaymentPayee.payee_id).where(PaymentPayee.name == payee)))
    by_status = {}
    for status, n, total in session.execute(q.group_by(CheckPayment.status)):
        try:
            label = CheckStatus(status).name.lower()
        except ValueError:
            label = str(status)
        by_status[label] = {"count": n, "amount": int(total)}
    return {"date": day.isoformat(), "payee": payee, "reports": reports, "status": by_status}


def _row(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in obj.__table__.columns:
        v = getattr(obj, c.name)
        if c.name in MASKED and v:
            v = mask(v)
        elif isinstance(v, dt.datetime | dt.date):
            v = v.isoformat()
        out[c.name] = v
    return out


def audit(session: UnitSession, *, payment_id: int | None = None, account: str | None = None, pid: str | None = None,
          pbs_customer: str | None = None, start: dt.date, end: dt.date) -> dict[str, list[dict[str, Any]]]:
    """Seed 004 queries: by payment id, by account number with the biller, by pid, or by PBS customer
    number (payment lines and agreements), within a date range."""
    lo, _ = local_day_bounds(start)
    _, hi = local_day_bounds(end)
    tables: list[tuple[str, Any, Any]] = []
    if payment_id is not None:
        tables.append(("check_payments_history", CheckPaymentHistory, CheckPaymentHistory.payment_id == payment_id))
    if account is not None:
        tables += [("check_payments_history", CheckPaymentHistory,
                    CheckPaymentHistory.payer_account_number == account),
                   ("payment_refunds_history", PaymentRefundHistory,
                    PaymentRefundHistory.payer_account_number == account)]
    if pid is not None:
        tables += [("check_payments_history", CheckPaymentHistory, CheckPaymentHistory.pid == pid),
                   ("payment_accounts_history", PaymentAccountHistory, PaymentAccountHistory.pid == pid)]
    if pbs_customer is not None:
        tables += [("ocr_line_history", OcrLineHistory, OcrLineHistory.customer_number == pbs_customer),
                   ("pbs_agreement_history", PbsAgreementHistory, PbsAgreementHistory.customer_number == pbs_customer)]
    out: dict[str, list[dict[str, Any]]] = {}
    for name, model, cond in tables:
        rows = session.scalars(select(model).where(and_(cond, model.time_stamp >= lo, model.time_stamp < hi))
                               .order_by(model.history_id))
        out.setdefault(name, []).extend(_row(r) for r in rows)
    return out
