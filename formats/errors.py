"""Typed format errors, collected per file.

A format never raises anything but :class:`FormatError`; it carries every
:class:`Issue` found, so an operator gets all problems of a file in one report.
Values of sensitive fields are masked before they are stored in an issue.
"""

from __future__ import annotations

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
#: ``key=value``, ``key: value``, ``'key': 'value'``, ``"key": "value"`` (also ``key__12`` SQL parameter names)
_KEYED = re.compile(rf"""(?P<q>['"]?)(?P<key>{_KEY})(?P=q)(?P<sep>\s*[=:]\s*)"""
                    rf"""(?P<val>'[^'\n]*'|"[^"\n]*"|[^\s,;(){{}}\[\]'"]+)""")
_SQL_PARAMS = re.compile(r"\[parameters: [^\n]*\]")
#: a NACHA trace number (ODFI routing prefix + sequence, 15 digits) named as such, e.g. ``return_trace_0910...``
_TRACE = re.compile(r"(?i)trace(?:_?n(?:o|umber))?[_\- =:#]?(\d{15})(?!\d)")
_DIGITS = re.compile(r"\d+")


def _base_key(key: str) -> str:
    """``account_number__998`` and ``account_number_1`` (SQL bind names) are ``account_number``."""
    return re.sub(r"_+\d+$", "", key.lower())


def _is_date_like(run: str) -> bool:
    """YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS with a real calendar date: dates in file names stay readable."""
    import datetime as dt

    if len(run) not in (8, 12, 14) or not run.startswith(("19", "20")):
        return False
    try:
        dt.datetime.strptime(run, "%Y%m%d%H%M%S"[: {8: 6, 12: 10, 14: 14}[len(run)]])
    except ValueError:
        return False
    return True


def _mask_value(key: str, value: str) -> str:
    quote = value[0] if value[:1] in ("'", '"') and value[-1:] == value[:1] and len(value) > 1 else ""
    inner = value[1:-1] if quote else value
    masked = mask(inner) if key in ACCOUNT_FIELDS else ("***" if inner else inner)
    return f"{quote}{masked}{quote}"


def mask_sensitive(text: str, min_digits: int = 8) -> str:
    """Mask what may identify an account or a payer in free text (log lines, tracebacks, reports).

    Values of fields known to be account numbers or names are masked whatever their form; SQL
    parameter dumps are dropped. Elsewhere, a run of ``min_digits`` or more digits is masked unless it
    is a calendar date/timestamp or the unquoted number of a count, amount or id field: account
    numbers are strings, counts are numbers.
    """
    text = _SQL_PARAMS.sub("[parameters: hidden]", text)
    keep: list[tuple[int, int]] = []

    def keyed(m: re.Match[str]) -> str:
        key = _base_key(m.group("key"))
        val = m.group("val")
        if key in ACCOUNT_FIELDS or key in NAME_FIELDS:
            return m.group(0)[: m.start("val") - m.start(0)] + _mask_value(key, val)
        # a count field, or ``'entries': 12345678`` in a printed dict: numbers, where accounts are strings
        if (key in NUMBER_FIELDS and val.replace(".", "", 1).isdigit()) or (m.group("q") and val.isdigit()):
            keep.append((m.start("val"), m.end("val")))
        return m.group(0)

    text = _KEYED.sub(lambda m: keyed(m) if _base_key(m.group("key")) in ACCOUNT_FIELDS + NAME_FIELDS
                      else m.group(0), text)
    for m in _KEYED.finditer(text):
        keyed(m)
    keep.extend((m.start(1), m.end(1)) for m in _TRACE.finditer(text))

    def digits(m: re.Match[str]) -> str:
        run = m.group(0)
        if len(run) < min_digits or _is_date_like(run):
            return run
        if any(a <= m.start() and m.end() <= b for a, b in keep):
            return run
        start, end = m.start(), m.end()
        if (text[max(0, start - 2):start - 1].isdigit() and text[start - 1:start] == ".") \
                or (text[end:end + 1] == "." and text[end + 1:end + 2].isdigit()):
            return run  # an amount or a duration: 12345678.90
        return mask(run)

    return _DIGITS.sub(digits, text)


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
