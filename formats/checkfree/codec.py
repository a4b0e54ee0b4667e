"""Field values <-> fixed-width text, driven by a :class:`RecordLayout`.

Decoding never guesses: a non-digit in a numeric field is an issue, never 0.
The same table gives the columns reported in every issue.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import date, datetime

from formats.checkfree.layout import FieldType, RecordLayout
from formats.errors import Issue, IssueCode
from formats.fixedwidth import Field, check_numeric

Value = str | int | date | datetime | None

_DATE = "%Y%m%d"
_DATETIME = "%Y%m%d%H%M%S"


def record_name(rl: RecordLayout) -> str:
    return f"{rl.code} {rl.role}"


def aba_ok(routing: str) -> bool:
    """ABA routing check digit: weights 3, 7, 1 over nine digits, sum divisible by 10."""
    if len(routing) != 9 or not routing.isdigit():
        return False
    weights = (3, 7, 1) * 3
    return sum(int(d) * w for d, w in zip(routing, weights, strict=True)) % 10 == 0


def decode(rl: RecordLayout, line: str, *, lineno: int | None) -> tuple[dict[str, Value], list[Issue]]:
    """Slice and convert every field of ``line`` (already padded to the record length)."""
    values: dict[str, Value] = {}
    issues: list[Issue] = []
    rec = record_name(rl)
    for f in rl.fields:
        raw = line[f.start - 1:f.end]
        value, issue = _decode_field(rl, f, raw, lineno=lineno, rec=rec)
        values[f.name] = value
        if issue is not None:
            issues.append(issue)
    return values, issues


def _decode_field(rl: RecordLayout, f: Field, raw: str, *, lineno: int | None,
                  rec: str) -> tuple[Value, Issue | None]:
    ftype = rl.field_types[f.name]
    blank = not raw.strip()
    if f.const is not None:
        if raw != f.const:
            return None, f.issue(IssueCode.BAD_CONSTANT, f"{f.name} must be {f.const}", raw, line=lineno, record=rec,
                                 expected=f.const)
        return raw, None
    if ftype is FieldType.X:
        text = raw.strip()
        if not text:
            if f.required:
                return "", f.issue(IssueCode.MISSING, f"{f.name} is required", raw, line=lineno, record=rec)
            return "", None
        allowed = rl.values.get(f.name)
        if allowed is not None and text not in allowed:
            return text, f.issue(IssueCode.BAD_CODE, f"{f.name} must be one of {', '.join(sorted(allowed))}", raw,
                                 line=lineno, record=rec, expected="|".join(sorted(allowed)))
        return text, None
    zero_or_blank = blank or set(raw) == {"0"}
    if ftype in (FieldType.DATE, FieldType.DATETIME) and zero_or_blank and not f.required:
        return None, None
    if blank:
        if f.required:
            return None, f.issue(IssueCode.MISSING, f"{f.name} is required", raw, line=lineno, record=rec,
                                 expected=f"{f.width} digits")
        return None, None
    bad = check_numeric(f, raw, line=lineno, record=rec)
    if bad is not None:
        return None, bad
    if ftype is FieldType.DATE:
        try:
            return datetime.strptime(raw, _DATE).date(), None
        except ValueError:
            return None, f.issue(IssueCode.BAD_DATE, f"{f.name} is not a valid date", raw, line=lineno, record=rec,
                                 expected="CCYYMMDD")
    if ftype is FieldType.DATETIME:
        try:
            return datetime.strptime(raw, _DATETIME), None
        except ValueError:
            return None, f.issue(IssueCode.BAD_DATE, f"{f.name} is not a valid date and time", raw, line=lineno,
                                 record=rec, expected="CCYYMMDDHHMMSS")
    if rl.checks.get(f.name) == "aba" and not aba_ok(raw):
        return raw, f.issue(IssueCode.BAD_CHECK_DIGIT, f"{f.name} fails the ABA check digit", raw, line=lineno,
                            record=rec)
    if ftype is FieldType.AMOUNT or f.name not in rl.checks:
        return int(raw), None
    return raw, None


def ascii_fold(text: str) -> str:
    """Names and addresses may carry accents; the records are ASCII."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def encode(rl: RecordLayout, values: Mapping[str, Value], length: int) -> tuple[str, list[Issue]]:
    """Render one record; issues instead of a line that would not read back the same."""
    out = [" "] * length
    issues: list[Issue] = []
    rec = record_name(rl)
    for f in rl.fields:
        text, issue = _encode_field(rl, f, values.get(f.name), rec)
        if issue is not None:
            issues.append(issue)
            continue
        out[f.start - 1:f.end] = text
    return "".join(out), issues


def _encode_field(rl: RecordLayout, f: Field, value: Value, rec: str) -> tuple[str, Issue | None]:
    ftype = rl.field_types[f.name]

    def bad(code: IssueCode, reason: str, shown: object) -> tuple[str, Issue]:
        return "", f.issue(code, reason, str(shown), line=None, record=rec)

    if f.const is not None:
        return f.const, None
    if ftype is FieldType.X:
        # Text is left-aligned and blank-filled, so surrounding blanks cannot survive a round trip.
        text = "" if value is None else str(value).strip()
        if f.name in rl.truncate:
            text = ascii_fold(text)[: f.width].rstrip()
        if not text.isascii() or not text.isprintable():
            return bad(IssueCode.NON_ASCII, f"{f.name} must be printable ASCII", text)
        if len(text) > f.width:
            return bad(IssueCode.TOO_LONG, f"{f.name} longer than {f.width} characters", text)
        if not text.strip() and f.required:
            return bad(IssueCode.MISSING, f"{f.name} is required", text)
        allowed = rl.values.get(f.name)
        if text.strip() and allowed is not None and text.strip() not in allowed:
            return bad(IssueCode.BAD_CODE, f"{f.name} must be one of {', '.join(sorted(allowed))}", text)
        return text.ljust(f.width), None
    if value is None:
        if f.required:
            return bad(IssueCode.MISSING, f"{f.name} is required", "")
        return "0" * f.width, None
    if ftype is FieldType.DATE:
        if not isinstance(value, date):
            return bad(IssueCode.BAD_DATE, f"{f.name} must be a date", value)
        return value.strftime(_DATE), None
    if ftype is FieldType.DATETIME:
        if not isinstance(value, datetime):
            return bad(IssueCode.BAD_DATE, f"{f.name} must be a date and time", value)
        return value.strftime(_DATETIME), None
    if isinstance(value, bool) or not isinstance(value, int | str):
        return bad(IssueCode.NON_NUMERIC, f"{f.name} must be a number", value)
    text = str(value)
    if not (text.isdigit() and text.isascii()):
        return bad(IssueCode.NON_NUMERIC, f"{f.name} must be a non-negative number", value)
    if len(text) > f.width:
        return bad(IssueCode.TOO_LONG, f"{f.name} does not fit {f.width} digits", value)
    text = text.rjust(f.width, "0")
    if rl.checks.get(f.name) == "aba" and not aba_ok(text):
        return bad(IssueCode.BAD_CHECK_DIGIT, f"{f.name} fails the ABA check digit", text)
    return text, None
