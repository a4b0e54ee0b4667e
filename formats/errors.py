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


def mask_digit_runs(text: str, min_digits: int = 6) -> str:
    """Mask every run of ``min_digits`` or more digits: account numbers hide in free text
    (log lines, tracebacks quoting data) where no field tells us what they are."""
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
