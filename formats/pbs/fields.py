"""Typed decoding of Betalingsservice fields, driven by the record's field table.

Every record is 128 characters; real files strip trailing blanks, so lines are
right-padded before slicing. A :class:`FieldReader` converts one field at a time
and records an :class:`~formats.errors.Issue` (with the field's 1-based columns)
instead of guessing: a non-digit in a numeric field is an error, never 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from formats.errors import Issue, IssueCode, IssueList, Severity
from formats.fixedwidth import Field, Kind, check_numeric, format_record

#: every Betalingsservice record is 128 characters once padded
RECORD_LENGTH = 128

#: ddmmyy dates: years below this pivot are 20yy, the rest 19yy (0603 start dates reach back to 1990s)
CENTURY_PIVOT = 70


@dataclass(frozen=True, slots=True)
class Policy:
    """Validation choices, built once per channel and passed in (never a global).

    ``allow_placeholder_ids``: the Nets guide's examples print ``PPPPPPPP`` and
    ``DDDDDDDD`` in the numeric PBS-number and data-supplier fields. Real files
    never do, so by default that is an error; with this flag a field made of one
    repeated capital letter is kept as text with a warning.
    """

    allow_placeholder_ids: bool = False


STRICT = Policy()
GUIDE_EXAMPLES = Policy(allow_placeholder_ids=True)


@dataclass(frozen=True)
class Layout:
    """A record type: its name (``BS042/0236``) and field table."""

    record: str
    fields: tuple[Field, ...]
    _index: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {f.name: f for f in self.fields})

    def field(self, name: str) -> Field:
        return self._index[name]

    def format(self, values: Mapping[str, object]) -> str:
        """Exactly 128 characters; the writer strips trailing blanks itself."""
        return format_record(self.fields, values, RECORD_LENGTH)

    def reader(self, line: str, *, lineno: int | None, issues: IssueList,
               policy: Policy = STRICT) -> FieldReader:
        return FieldReader(self, line, lineno=lineno, issues=issues, policy=policy)


def pad(line: str) -> str:
    return line.ljust(RECORD_LENGTH)


def parse_ddmmyy(raw: str) -> dt.date | None:
    """``000000`` is "no date"; raises ValueError for an impossible date."""
    if raw == "000000":
        return None
    day, month, yy = int(raw[0:2]), int(raw[2:4]), int(raw[4:6])
    year = 2000 + yy if yy < CENTURY_PIVOT else 1900 + yy
    return dt.date(year, month, day)


def parse_ddmmyyyy(raw: str) -> dt.date | None:
    if raw == "00000000":
        return None
    return dt.date(int(raw[4:8]), int(raw[2:4]), int(raw[0:2]))


def ddmmyy(d: dt.date | None) -> str:
    if d is None:
        return "000000"
    if not 1900 + CENTURY_PIVOT <= d.year < 2000 + CENTURY_PIVOT:
        raise ValueError(f"{d} cannot be written as ddmmyy")
    return d.strftime("%d%m") + f"{d.year % 100:02d}"


def ddmmyyyy(d: dt.date | None) -> str:
    return "00000000" if d is None else d.strftime("%d%m%Y")


def is_placeholder(raw: str) -> bool:
    return len(raw) > 1 and raw.isascii() and raw.isupper() and len(set(raw)) == 1


class FieldReader:
    """Converts the fields of one padded line, collecting issues.

    After an error the returned value is a neutral stand-in; callers check
    :attr:`ok` and drop the record, so a stand-in never reaches the caller.
    """

    def __init__(self, layout: Layout, line: str, *, lineno: int | None, issues: IssueList,
                 policy: Policy = STRICT) -> None:
        self.layout = layout
        self.line = pad(line)
        self.lineno = lineno
        self.issues = issues
        self.policy = policy
        self.ok = True

    def raw(self, name: str) -> str:
        f = self.layout.field(name)
        return self.line[f.start - 1:f.end]

    def _error(self, issue: Issue | None) -> None:
        if issue is not None:
            self.ok = False
            self.issues.add(issue)

    def fail(self, name: str, code: IssueCode, reason: str, *, expected: str | None = None) -> None:
        f = self.layout.field(name)
        self._error(f.issue(code, reason, self.raw(name), line=self.lineno,
                            record=self.layout.record, expected=expected))

    def warn(self, name: str, code: IssueCode, reason: str, *, expected: str | None = None) -> None:
        f = self.layout.field(name)
        issue = f.issue(code, reason, self.raw(name), line=self.lineno, record=self.layout.record,
                        expected=expected)
        self.issues.add(replace(issue, severity=Severity.WARNING))

    def int(self, name: str) -> int:
        f = self.layout.field(name)
        raw = self.raw(name)
        issue = check_numeric(f, raw, line=self.lineno, record=self.layout.record)
        if issue is not None:
            self._error(issue)
            return 0
        return int(raw)

    def digits(self, name: str) -> str:
        """A numeric identifier kept as text (leading zeros are significant)."""
        f = self.layout.field(name)
        raw = self.raw(name)
        issue = check_numeric(f, raw, line=self.lineno, record=self.layout.record)
        if issue is not None:
            self._error(issue)
        return raw

    def ident(self, name: str) -> str:
        """Like :meth:`digits`, but a guide placeholder may pass under the policy."""
        raw = self.raw(name)
        if self.policy.allow_placeholder_ids and is_placeholder(raw):
            self.warn(name, IssueCode.PLACEHOLDER, f"{self.layout.field(name).name} is a placeholder")
            return raw
        return self.digits(name)

    def text(self, name: str) -> str:
        return self.raw(name).rstrip()

    def customer(self, name: str) -> str:
        """Customer numbers arrive right-aligned with leading zeros (0602 §4.5, 0603 §4.1)."""
        return self.raw(name).strip().lstrip("0")

    def const(self, name: str) -> str:
        f = self.layout.field(name)
        raw = self.raw(name)
        if f.const is not None and raw != f.const:
            self.fail(name, IssueCode.UNEXPECTED_VALUE, f"{f.name} must be {f.const!r}", expected=f.const)
        return raw

    def choice(self, name: str, allowed: frozenset[str] | tuple[str, ...]) -> str:
        raw = self.raw(name)
        if raw not in allowed:
            self.fail(name, IssueCode.UNEXPECTED_VALUE, f"{self.layout.field(name).name} is not one of "
                      f"{', '.join(sorted(allowed))}", expected="|".join(sorted(allowed)))
        return raw

    def date(self, name: str) -> dt.date | None:
        return self._date(name, parse_ddmmyy)

    def date8(self, name: str) -> dt.date | None:
        return self._date(name, parse_ddmmyyyy)

    def _date(self, name: str, conv: Callable[[str], dt.date | None]) -> dt.date | None:
        raw = self.raw(name)
        f = self.layout.field(name)
        if check_numeric(f, raw, line=self.lineno, record=self.layout.record) is not None:
            self.fail(name, IssueCode.INVALID_DATE, f"{f.name} must be a date ({len(raw)} digits)",
                      expected="ddmmyy" if len(raw) == 6 else "ddmmyyyy")
            return None
        try:
            return conv(raw)
        except ValueError:
            self.fail(name, IssueCode.INVALID_DATE, f"{f.name} is not a valid date",
                      expected="ddmmyy" if len(raw) == 6 else "ddmmyyyy")
            return None


def n(name: str, start: int, end: int, note: str = "", **kw: object) -> Field:
    return Field(name, start, end, Kind.N, note=note, **kw)  # type: ignore[arg-type]


def x(name: str, start: int, end: int, note: str = "", **kw: object) -> Field:
    return Field(name, start, end, Kind.AN, note=note, **kw)  # type: ignore[arg-type]


def const(name: str, start: int, end: int, value: str, note: str = "") -> Field:
    return Field(name, start, end, Kind.ID, required=True, const=value, note=note)
