"""Addenda record type 99, contested dishonored return (R71-R77): the RDFI contests."""

from __future__ import annotations

from dataclasses import dataclass

from formats.errors import Issue, IssueCode
from formats.fixedwidth import Field, Kind
from formats.nacha.records._base import build, field, field_issues, parse_record, render

NAME = "Addenda99Contested"
TYPE_CODE = "7"
ADDENDA_TYPE = "99"

FIELDS: tuple[Field, ...] = (
    Field("record_type", 1, 1, Kind.ID, required=True, const="7"),
    Field("addenda_type_code", 2, 3, Kind.ID, required=True, const="99"),
    Field("contested_return_code", 4, 6, Kind.ID, required=True),
    Field("original_trace_number", 7, 21, Kind.N, required=True),
    Field("date_original_entry_returned", 22, 27, Kind.N, note="YYMMDD; blank only under a tolerant policy"),
    Field("original_rdfi_identification", 28, 35, Kind.N, required=True),
    Field("original_settlement_date", 36, 38, Kind.AN, note="Julian day"),
    Field("return_trace_number", 39, 53, Kind.N, required=True),
    Field("return_settlement_date", 54, 56, Kind.AN, note="Julian day"),
    Field("return_reason_code", 57, 58, Kind.N, required=True, note="without the R"),
    Field("dishonored_return_trace_number", 59, 73, Kind.N, required=True),
    Field("dishonored_return_settlement_date", 74, 76, Kind.AN, note="Julian day"),
    Field("dishonored_return_reason_code", 77, 78, Kind.N, required=True, note="without the R"),
    Field("reserved", 79, 79, Kind.AN),
    Field("trace_number", 80, 94, Kind.N, required=True),
)

INT_FIELDS: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Addenda99Contested:
    contested_return_code: str
    original_trace_number: str
    date_original_entry_returned: str
    original_rdfi_identification: str
    return_trace_number: str
    return_reason_code: str
    dishonored_return_trace_number: str
    dishonored_return_reason_code: str
    trace_number: str
    original_settlement_date: str = ""
    return_settlement_date: str = ""
    dishonored_return_settlement_date: str = ""


#: date fields banks leave blank on contested returns (``blank_date`` issues)
DATE_FIELDS = ("date_original_entry_returned", "original_settlement_date", "return_settlement_date",
               "dishonored_return_settlement_date")


def check(line: str, *, lineno: int | None = None, allow_special_characters: bool = False,
          custom_codes: bool = False) -> list[Issue]:
    from formats.nacha.codes import CONTESTED_CODES
    from formats.nacha.rules import blank_dates, check_date, check_julian

    issues = field_issues(FIELDS, line, lineno=lineno, record=NAME,
                          allow_special_characters=allow_special_characters)
    bad = {i.field for i in issues}
    f = field(FIELDS, "contested_return_code")
    code = line[f.start - 1:f.end]
    if code not in CONTESTED_CODES and not custom_codes:
        issues.append(f.issue(IssueCode.BAD_CODE, "not a contested dishonored return code", code, line=lineno,
                              record=NAME, expected="R71-R77"))
    d = field(FIELDS, "date_original_entry_returned")
    if d.name not in bad and line[d.start - 1:d.end].strip():
        issues.extend(check_date(d, line[d.start - 1:d.end], lineno, NAME))
    issues.extend(blank_dates(FIELDS, DATE_FIELDS, line, lineno, NAME))
    for name in ("original_settlement_date", "return_settlement_date",
                 "dishonored_return_settlement_date"):
        s = field(FIELDS, name)
        issues.extend(check_julian(s, line[s.start - 1:s.end], lineno, NAME))
    return issues


def parse(line: str, *, lineno: int | None = None, allow_special_characters: bool = False
          ) -> Addenda99Contested:
    return parse_record(Addenda99Contested, FIELDS, line, INT_FIELDS, lineno=lineno, record=NAME,
                        allow_special_characters=allow_special_characters)


def from_line(line: str) -> Addenda99Contested:
    return build(Addenda99Contested, FIELDS, line, INT_FIELDS)


def format(rec: Addenda99Contested) -> str:
    return render(FIELDS, rec)
