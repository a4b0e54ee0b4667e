"""Parse and check a setup file (JSON Lines) without touching the database.

Every line is checked and every problem kept, so the error report lists them
all; the caller applies nothing when there is one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from formats.errors import Issue, IssueCode, mask
from formats.nacha.routing import is_valid
from formats.setups.pan import find_pan
from formats.setups.records import MODELS, AccountRecord, CancelRecord, RecurringRecord, ReminderRecord, SetupRecord

FAR_FUTURE = dt.date(3000, 1, 1)

PAY_DAY_RANGE = {"weekly": (1, 7), "monthly": (1, 31), "quarterly": (1, 31)}
CREATE_REQUIRED = {
    "recurring_payment": ("user_id", "payee", "pid", "accounts", "amount_type", "pay_date_type"),
    "payment_reminder": ("user_id", "email", "interval", "start_date"),
    "payment_account": ("user_id", "payment_type", "holder"),
}


def _issue(code: IssueCode, reason: str, line: int, rec: str | None, field: str | None = None,
           value: str | None = None) -> Issue:
    return Issue(code=code, reason=reason, line=line, record=rec, field=field, value=value)


def _strings(obj: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _strings(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _strings(v, f"{path}[{i}]")
    elif isinstance(obj, (str, int)) and not isinstance(obj, bool):
        yield path, str(obj)


def _pan_issues(obj: dict[str, Any], line: int, rec: str | None) -> list[Issue]:
    """Bank account numbers (up to 17 digits) are exempt: a NACHA DFI account may pass Luhn by chance."""
    bank = obj.get("type") == "payment_account" and obj.get("payment_type") != "card"
    out = []
    for path, text in _strings(obj):
        if bank and path == "account_number":
            continue
        pan = find_pan(text)
        if pan:
            out.append(_issue(IssueCode.CARD_NUMBER, "looks like a full card number (Luhn-valid 13-19 digits): "
                              "setup files carry the last four digits only", line, rec, path, mask(pan)))
    return out


def _check(r: SetupRecord, line: int, rec: str) -> list[Issue]:
    out: list[Issue] = []

    def add(code: IssueCode, reason: str, field: str | None = None) -> None:
        out.append(_issue(code, reason, line, rec, field))

    if isinstance(r, CancelRecord):
        return out
    if r.op == "create":
        for f in CREATE_REQUIRED[r.type]:
            if getattr(r, f) is None:
                add(IssueCode.MISSING_FIELD, f"{f} is required to create a {r.type}", f)
    start, end = getattr(r, "start_date", None), getattr(r, "end_date", None)
    if start is not None and end is not None and end < start:
        add(IssueCode.END_BEFORE_START, f"end date {end} is before start date {start}", "end_date")
    if isinstance(r, RecurringRecord):
        if r.pay_date_type is not None:
            if r.pay_date_type == "before_due":
                if r.op == "create" and r.days_before_due is None:
                    add(IssueCode.MISSING_FIELD, "days_before_due is required when pay_date_type is before_due",
                        "days_before_due")
                if r.pay_day is not None:
                    add(IssueCode.INVALID_FIELD, "pay_day is not used with pay_date_type before_due", "pay_day")
            elif r.pay_day is None and r.op == "create":
                add(IssueCode.MISSING_FIELD, f"pay_day is required when pay_date_type is {r.pay_date_type}",
                    "pay_day")
        if r.pay_day is not None and r.pay_date_type in PAY_DAY_RANGE:
            lo, hi = PAY_DAY_RANGE[r.pay_date_type]
            if not lo <= r.pay_day <= hi:
                add(IssueCode.DAY_OUT_OF_RANGE, f"pay_day {r.pay_day} is outside {lo}-{hi} for "
                    f"{r.pay_date_type} payments", "pay_day")
        elif r.pay_day is not None and r.pay_date_type is None and not 1 <= r.pay_day <= 31:
            add(IssueCode.DAY_OUT_OF_RANGE, f"pay_day {r.pay_day} is not a day 1-31", "pay_day")
        if r.amount_type == "fixed":
            if r.op == "create" and r.amount is None:
                add(IssueCode.AMOUNT_RULE, "amount is required when amount_type is fixed", "amount")
            if r.amount_limit is not None:
                add(IssueCode.AMOUNT_RULE, "amount_limit applies to amount_due and min_due only", "amount_limit")
        if r.amount_limit is not None and r.amount is None:
            add(IssueCode.AMOUNT_RULE, f"amount_limit {r.amount_limit} needs the limit in amount", "amount")
    if isinstance(r, AccountRecord):
        card_fields = [f for f in ("brand", "last_four", "expiry") if getattr(r, f) is not None]
        bank_fields = [f for f in ("routing_transit", "account_number", "account_type") if getattr(r, f) is not None]
        if r.payment_type == "card":
            if bank_fields:
                add(IssueCode.ACCOUNT_FIELDS, f"a card account has no {', '.join(bank_fields)}", bank_fields[0])
            if r.op == "create":
                for f in ("brand", "last_four", "expiry"):
                    if getattr(r, f) is None:
                        add(IssueCode.MISSING_FIELD, f"{f} is required for a card account", f)
        elif r.payment_type == "check":
            if card_fields:
                add(IssueCode.ACCOUNT_FIELDS, f"a bank account has no {', '.join(card_fields)}", card_fields[0])
            if r.op == "create":
                for f in ("routing_transit", "account_number"):
                    if getattr(r, f) is None:
                        add(IssueCode.MISSING_FIELD, f"{f} is required for a bank account", f)
        if r.routing_transit is not None and not is_valid(r.routing_transit):
            add(IssueCode.INVALID_FIELD, "routing number check digit is wrong", "routing_transit")
    return out


def parse_setups(data: bytes) -> tuple[list[tuple[int, SetupRecord]], list[Issue]]:
    """(line number, record) for every valid line, and every problem of the file."""
    records: list[tuple[int, SetupRecord]] = []
    issues: list[Issue] = []
    seen: dict[tuple[str, str], int] = {}
    for n, raw in enumerate(data.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            issues.append(_issue(IssueCode.BAD_ENCODING, f"not UTF-8 at byte {exc.start + 1}", n, None))
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            pan = find_pan(text)
            if pan:
                issues.append(_issue(IssueCode.CARD_NUMBER, "looks like a full card number (Luhn-valid 13-19 "
                                     "digits)", n, None, None, mask(pan)))
            issues.append(_issue(IssueCode.BAD_JSON, f"not a JSON object: {exc.msg} at column {exc.colno}", n,
                                 None))
            continue
        if not isinstance(obj, dict):
            issues.append(_issue(IssueCode.NOT_OBJECT, "each line must be one JSON object", n, None))
            continue
        rec = f"{obj.get('type', '?')} {obj.get('id', '?')}"
        issues.extend(_pan_issues(obj, n, rec))
        model: Any = CancelRecord if obj.get("op") == "cancel" else MODELS.get(str(obj.get("type")))
        if model is None:
            issues.append(_issue(IssueCode.UNKNOWN_TYPE, f"unknown record type {obj.get('type')!r} (expected "
                                 f"{', '.join(MODELS)})", n, rec, "type"))
            continue
        try:
            r: SetupRecord = model.model_validate(obj)
        except ValidationError as exc:
            for e in exc.errors():
                loc = ".".join(str(x) for x in e["loc"])
                code = IssueCode.MISSING_FIELD if e["type"] == "missing" else IssueCode.INVALID_FIELD
                issues.append(_issue(code, e["msg"], n, rec, loc or None))
            continue
        key = (r.type, r.id)
        if key in seen:
            issues.append(_issue(IssueCode.DUPLICATE_ID, f"{r.type} {r.id} also on line {seen[key]}", n, rec, "id"))
        seen.setdefault(key, n)
        issues.extend(_check(r, n, rec))
        records.append((n, r))
    if not records and not issues:
        issues.append(_issue(IssueCode.EMPTY_FILE, "no records", 1, None))
    return records, issues


__all__ = ["FAR_FUTURE", "IssueCode", "ReminderRecord", "parse_setups"]
