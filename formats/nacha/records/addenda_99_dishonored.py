"""Addenda record type 99, dishonored return (R61, R62, R67-R70): the ODFI refuses a return."""

from __future__ import annotations

from dataclasses import dataclass

from formats.errors import Issue, IssueCode
from formats.fixedwidth import Field, Kind
from formats.nacha.records._base import build, field, field_issues, parse_record, render

NAME = "Addenda99Dishonored"
TYPE_CODE = "7"
ADDENDA_TYPE = "99"

FIELDS: tuple[Field, ...] = (
    Field("record_type", 1, 1, Kind.ID, required=True, const="7"),
    Field("addenda_type_code", 2, 3, Kind.ID, required=True, const="99"),
    Field("dishonored_return_reason_code", 4, 6, Kind.ID, required=True),
    Field("original_trace_number", 7, 21, Kind.N, required=True),
    Field("reserved_1", 22, 27, Kind.AN),
    Field("original_rdfi_identification", 28, 35, Kind.N, required=True),
    Field("reserved_2", 36, 38, Kind.AN),
    Field("return_trace_number", 39, 53, Kind.N, required=True),
    Field("return_settlement_date", 54, 56, Kind.AN, note="Julian day"),
    Field("return_reason_code", 57, 58, Kind.N, required=True, note="without the R"),
    Field("addenda_information", 59, 79, Kind.AN),
    Field("trace_number", 80, 94, Kind.N, required=True),
)

INT_FIELDS: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Addenda99Dishonored:
    dishonored_return_reason_code: str
    original_trace_number: str
    original_rdfi_identification: str
    return_trace_number: str
    return_reason_code: str
    trace_number: str
    return_settlement_date: str = ""
    addenda_information: str = ""
    reserved_1: str = ""
    reserved_2: str = ""


def check(line: str, *, lineno: int | None = None, allow_special_characters: bool = False,
          custom_codes: bool = False) -> list[Issue]:
    from formats.nacha.codes import DISHONORED_CODES
    from formats.nacha.rules import blank_dates, check_julian

    issues = field_issues(FIELDS, line, lineno=lineno, record=NAME,
                          allow_special_characters=allow_special_characters)
    f = field(FIELDS, "dishonored_return_reason_code")
    code = line[f.start - 1:f.end]
    if code not in DISHONORED_CODES and not custom_codes:
        issues.append(f.issue(IssueCode.BAD_CODE, "not a dishonored return code", code, line=lineno,
                              record=NAME, expected="R61, R62, R67-R70"))
    s = field(FIELDS, "return_settlement_date")
    issues.extend(check_julian(s, line[s.start - 1:s.end], lineno, NAME))
    issues.extend(blank_dates(FIELDS, ("return_settlement_date",), line, lineno, NAME))
    return issues


def parse(line: str, *, lineno: int | None = None, allow_special_characters: bool = False
          ) -> Addenda99Dishonored:
    return parse_record(Addenda99Dishonored, FIELDS, line, INT_FIELDS, lineno=lineno, record=NAME,
                        allow_special_characters=allow_special_characters)


def from_line(line: str) -> Addenda99Dishonored:
    return build(Addenda99Dishonored, FIELDS, line, INT_FIELDS)


def format(rec: Addenda99Dishonored) -> str:
    return render(FIELDS, rec)
