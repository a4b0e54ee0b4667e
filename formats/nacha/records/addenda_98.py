"""Addenda record type 98: Notification of Change (batch SEC ``COR``), codes C01-C14.

The corrected data (36-64) is split by change code in :mod:`formats.nacha.returns`.
Refused NOCs (C61-C69) have their own layout in :mod:`.addenda_98_refused`.
"""

from __future__ import annotations

from dataclasses import dataclass

from formats.errors import Issue, IssueCode
from formats.fixedwidth import Field, Kind
from formats.nacha.records._base import build, field, field_issues, parse_record, render

NAME = "Addenda98"
TYPE_CODE = "7"
ADDENDA_TYPE = "98"

FIELDS: tuple[Field, ...] = (
    Field("record_type", 1, 1, Kind.ID, required=True, const="7"),
    Field("addenda_type_code", 2, 3, Kind.ID, required=True, const="98"),
    Field("change_code", 4, 6, Kind.ID, required=True, note="Cnn"),
    Field("original_trace_number", 7, 21, Kind.N, required=True),
    Field("reserved_1", 22, 27, Kind.AN),
    Field("original_rdfi_identification", 28, 35, Kind.N, required=True),
    Field("corrected_data", 36, 64, Kind.AN, required=True),
    Field("reserved_2", 65, 79, Kind.AN, note="65-70 used for IAT corrections"),
    Field("trace_number", 80, 94, Kind.N, required=True),
)

INT_FIELDS: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Addenda98:
    change_code: str
    original_trace_number: str
    original_rdfi_identification: str
    corrected_data: str
    trace_number: str
    reserved_1: str = ""
    reserved_2: str = ""


def check(line: str, *, lineno: int | None = None, allow_special_characters: bool = False,
          custom_codes: bool = False) -> list[Issue]:
    from formats.nacha.codes import CHANGE_CODES

    issues = field_issues(FIELDS, line, lineno=lineno, record=NAME,
                          allow_special_characters=allow_special_characters)
    f = field(FIELDS, "change_code")
    code = line[f.start - 1:f.end]
    if code not in CHANGE_CODES and not (custom_codes and code[:1] == "C"):
        issues.append(f.issue(IssueCode.BAD_CODE, "unknown change code", code, line=lineno, record=NAME,
                              expected="C01-C14"))
    return issues


def parse(line: str, *, lineno: int | None = None, allow_special_characters: bool = False
          ) -> Addenda98:
    return parse_record(Addenda98, FIELDS, line, INT_FIELDS, lineno=lineno, record=NAME,
                        allow_special_characters=allow_special_characters)


def from_line(line: str) -> Addenda98:
    return build(Addenda98, FIELDS, line, INT_FIELDS)


def format(rec: Addenda98) -> str:
    return render(FIELDS, rec)
