"""Small value checks shared by several record modules (dates, times, codes)."""

from __future__ import annotations

import datetime as dt

from formats.errors import Issue, IssueCode
from formats.fixedwidth import Field


def parse_yymmdd(raw: str) -> dt.date | None:
    if len(raw) != 6 or not raw.isdigit() or not raw.isascii():
        return None
    try:
        return dt.date(2000 + int(raw[:2]), int(raw[2:4]), int(raw[4:]))
    except ValueError:
        return None


def check_date(f: Field, raw: str, lineno: int | None, record: str) -> list[Issue]:
    if parse_yymmdd(raw) is None:
        return [f.issue(IssueCode.BAD_DATE, f"{f.name} is not a valid YYMMDD date", raw, line=lineno,
                        record=record, expected="YYMMDD")]
    return []


def check_time(f: Field, raw: str, lineno: int | None, record: str) -> list[Issue]:
    if not (raw.isdigit() and raw.isascii() and int(raw[:2]) < 24 and int(raw[2:]) < 60):
        return [f.issue(IssueCode.BAD_TIME, f"{f.name} is not a valid HHMM time", raw, line=lineno,
                        record=record, expected="HHMM")]
    return []


def check_julian(f: Field, raw: str, lineno: int | None, record: str) -> list[Issue]:
    """Settlement dates are 3-digit days of the year, inserted by the ACH operator."""
    if not raw.strip():
        return []
    if raw.isdigit() and raw.isascii() and 0 <= int(raw) <= 366:
        return []
    return [f.issue(IssueCode.BAD_DATE, f"{f.name} must be a day of the year (001-366) or blank", raw,
                    line=lineno, record=record, expected="001-366 or blanks")]


def blank_dates(fields: tuple[Field, ...], names: tuple[str, ...], line: str, lineno: int | None,
                record: str) -> list[Issue]:
    """``blank_date`` issues for date fields a dishonored/contested return leaves blank: an error
    under a strict policy, a warning where the policy allows blank return dates (banks send them)."""
    out = []
    for f in fields:
        if f.name in names and not line[f.start - 1:f.end].strip():
            out.append(f.issue(IssueCode.BLANK_DATE, f"{f.name} is blank", line[f.start - 1:f.end], line=lineno,
                               record=record, expected="a date"))
    return out


def only_zeros(raw: str) -> bool:
    s = raw.strip()
    return bool(s) and set(s) == {"0"}
