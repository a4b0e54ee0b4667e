"""Typed format errors, collected per file.

A format never raises anything but :class:`FormatError`; it carries every
:class:`Issue` found, so an operator gets all problems of a file in one report.
Values of sensitive fields are masked before they are stored in an issue.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


def mask(value: str, keep: int = 4) -> str:
    """Mask all but the last ``keep`` non-blank characters (account numbers)."""
    stripped = value.strip()
    if len(stripped) <= keep:
        return "*" * len(stripped)
    return "*" * (len(stripped) - keep) + stripped[-keep:]


#: field names that hold account numbers (formats' field tables, ledger columns, SQL parameters)
ACCOUNT_FIELDS = ("account_number", "dfi_account_number", "check_account_number", "payer_account_number",
                  "payment_account_number", "account", "iban", "customer_number", "debtor_account", "bank_account")
#: field names that hold a person's or company's name from a payment record
NAME_FIELDS = ("account_holder_name", "account_name", "individual_name", "receiving_company_name", "payer_name",
               "debtor_name", "payer")
#: field names whose unquoted numeric value is a count, an amount or an id, never an account number
NUMBER_FIELDS = ("records", "count", "counts", "entries", "batches", "lines", "items", "files", "bytes", "size",
                 "id", "file_id", "run", "run_id", "attempt", "attempts", "duration", "total", "debit", "credit",
                 "amount", "received", "returned_amount", "submitted", "returns", "nocs", "ocr_lines", "trace",
                 "trace_number", "txn_number", "log_id", "ledger_id")

_KEY = r"[A-Za-z_][A-Za-z0-9_]*"
_SENSITIVE = "|".join(sorted(ACCOUNT_FIELDS + NAME_FIELDS, key=len, reverse=True))
#: a sensitive field with its value: ``key=value``, ``key: value``, ``'key': 'value'``, ``"key": "value"``
#: (also ``account_number__998``, SQL bind parameter names)
_SENSITIVE_KEYED = re.compile(rf"""(?i)(?<![A-Za-z0-9])(?P<q>['"]?)(?P<key>(?:{_SENSITIVE})(?:_+\d+)?)(?P=q)"""
                              rf"""(?P<sep>\s*[=:]\s*)(?P<val>'[^'\n]*'|"[^"\n]*"|[^\s,;(){{}}\[\]'"]+)""")
#: what precedes a number that is a field's value: ``key=``, ``key: ``, ``'key': ``
_KEY_BEFORE = re.compile(rf"""(?P<q>['"]?)(?P<key>{_KEY})(?P=q)\s*[=:]\s*$""")
_SQL_PARAMS = re.compile(r"\[parameters: [^\n]*\]")
#: a NACHA trace number (ODFI routing prefix + sequence, 15 digits) named as such, e.g. ``return_trace_0910...``
_TRACE_BEFORE = re.compile(r"(?i)trace(?:_?n(?:o|umber))?[_\- =:#]?$")


def _base_key(key: str) -> str:
    """``account_number__998`` and ``account_number_1`` (SQL bind names) are ``account_number``."""
    return re.sub(r"_+\d+$", "", key.lower())


def _is_date_like(run: str) -> bool:
    """YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS with a real calendar date: dates in file names stay readable."""
    if len(run) not in (8, 12, 14) or not run.startswith(("19", "20")):
        return False
    try:
        dt.datetime.strptime(run, "%Y%m%d%H%M%S"[: {8: 6, 12: 10, 14: 14}[len(run)]])
    except ValueError:
        return False
    return True


def _mask_value(m: re.Match[str]) -> str:
    key, value = _base_key(m.group("key")), m.group("val")
    quote = value[0] if value[:1] in ("'", '"') and value[-1:] == value[:1] and len(value) > 1 else ""
    inner = value[1:-1] if quote else value
    masked = mask(inner) if key in ACCOUNT_FIELDS else ("***" if inner else inner)
    return f"{m.group(0)[: m.start('val') - m.start(0)]}{quote}{masked}{quote}"


def mask_sensitive(text: str, min_digits: int = 8) -> str:
    """Mask what may identify an account or a payer in free text (log lines, tracebacks, reports).

    Values of fields known to be account numbers or names are masked whatever their form; SQL
    parameter dumps are dropped. Elsewhere, a run of ``min_digits`` or more digits is masked unless it
    is a calendar date/timestamp, a trace number named as such, an amount (``12345678.90``) or the
    unquoted number of a field (``records=12345678``, ``'entries': 123456789``): account numbers are
    strings, counts are numbers.
    """
    if "[parameters: " in text:
        text = _SQL_PARAMS.sub("[parameters: hidden]", text)
    text = _SENSITIVE_KEYED.sub(_mask_value, text)

    def digits(m: re.Match[str]) -> str:
        run = m.group(0)
        if _is_date_like(run):
            return run
        start, end = m.start(), m.end()
        before = text[max(0, start - 48):start]
        if (before[-2:-1].isdigit() and before[-1:] == ".") \
                or (text[end:end + 1] == "." and text[end + 1:end + 2].isdigit()):
            return run  # an amount or a duration: 12345678.90
        if len(run) == 15 and _TRACE_BEFORE.search(before):
            return run
        k = _KEY_BEFORE.search(before)
        if k is not None and (k.group("q") or _base_key(k.group("key")) in NUMBER_FIELDS):
            return run
        return mask(run)

    return re.sub(rf"(?<!\d)\d{{{min_digits},}}(?!\d)", digits, text)


def mask_digit_runs(text: str, min_digits: int = 6) -> str:
    """Mask every run of ``min_digits`` or more digits (error reports' tracebacks, where nothing is known
    about the text); log lines use :func:`mask_sensitive`, which keeps dates and counts readable."""
    return re.sub(rf"\d{{{min_digits},}}", lambda m: mask(m.group(0)), text)


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in a file, located as precisely as the format allows.

    ``columns`` are 1-based and inclusive, as the record layouts print them.
    ``code`` is a stable machine-readable reason (tests assert on it);
    ``reason`` is the human sentence.
    """

    code: str
    reason: str
    line: int | None = None
    record: str | None = None
    field: str | None = None
    columns: tuple[int, int] | None = None
    value: str | None = None
    expected: str | None = None
    found: str | None = None
    severity: Severity = Severity.ERROR

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["columns"] = list(self.columns) if self.columns else None
        d["severity"] = str(self.severity)
        return d

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.record:
            where.append(self.record)
        if self.field:
            where.append(self.field)
        if self.columns:
            where.append(f"columns {self.columns[0]}-{self.columns[1]}")
        loc = ", ".join(where)
        extra = ""
        if self.expected is not None or self.found is not None:
            extra = f" (expected {self.expected!r}, found {self.found!r})"
        return f"{loc}: {self.reason}{extra}" if loc else f"{self.reason}{extra}"


@dataclass
class IssueList:
    """Collects issues while a file is read; warnings never fail a file."""

    issues: list[Issue] = field(default_factory=list)
    max_errors: int = 1000

    def add(self, issue: Issue) -> None:
        if len(self.issues) < self.max_errors:
            self.issues.append(issue)

    def extend(self, issues: Iterable[Issue]) -> None:
        for i in issues:
            self.add(i)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.WARNING]

    def raise_if_errors(self, what: str = "file") -> None:
        errs = self.errors
        if errs:
            raise FormatError(f"{what} is invalid: {errs[0]}", errs, self.warnings)


class FormatError(Exception):
    """The only exception a format raises for bad input."""

    def __init__(self, message: str, issues: list[Issue] | None = None,
                 warnings: list[Issue] | None = None) -> None:
        super().__init__(message)
        self.issues: list[Issue] = list(issues or [])
        self.warnings: list[Issue] = list(warnings or [])

    @classmethod
    def single(cls, code: str, reason: str, **where: Any) -> FormatError:
        issue = Issue(code=code, reason=reason, **where)
        return cls(str(issue), [issue])

    @property
    def first(self) -> Issue | None:
        return self.issues[0] if self.issues else None
