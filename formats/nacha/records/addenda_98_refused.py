"""Addenda record type 98, refused NOC (C61-C69): the ODFI refuses an RDFI's NOC."""

from __future__ import annotations

from dataclasses import dataclass

from formats.errors import Issue, IssueCode
from formats.fixedwidth import Field, Kind
from formats.nacha.records._base import build, field, field_issues, parse_record, render

NAME = "Addenda98Refused"
TYPE_CODE = "7"
ADDENDA_TYPE = "98"

FIELDS: tuple[Field, ...] = (
    Field("record_type", 1, 1, Kind.ID, required=True, const="7"),
    Field("addenda_type_code", 2, 3, Kind.ID, required=True, const="98"),
    Field("refused_change_code", 4, 6, Kind.ID, required=True, note="C61-C69"),
    Field("original_trace_number", 7, 21, Kind.N, required=True),
    Field("reserved_1", 22, 27, Kind.AN),
    Field("original_rdfi_identification", 28, 35, Kind.N, required=True),
    Field("corrected_data", 36, 64, Kind.AN, required=True),
    Field("change_code", 65, 67, Kind.ID, required=True, note="the refused NOC's change code"),
    Field("trace_sequence_number", 68, 74, Kind.N, required=True),
    Field("reserved_2", 75, 79, Kind.AN),
    Field("trace_number", 80, 94, Kind.N, required=True),
)

INT_FIELDS: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Addenda98Refused:
    refused_change_code: str
    original_trace_number: str
    original_rdfi_identification: str
    corrected_data: str
    change_code: str
    trace_sequence_number: str
    trace_number: str
    reserved_1: str = ""
    reserved_2: str = ""


def check(line: str, *, lineno: int | None = None, allow_special_characters: bool = False,
          custom_codes: bool = False) -> list[Issue]:
    from formats.nacha.codes import CHANGE_CODES, REFUSED_CHANGE_CODES

    issues = field_issues(FIELDS, line, lineno=lineno, record=NAME,
                          allow_special_characters=allow_special_characters)
    for name, table in (("refused_change_code", REFUSED_CHANGE_CODES), ("change_code", CHANGE_CODES)):
        f = field(FIELDS, name)
        code = line[f.start - 1:f.end]
        if code not in table and not (custom_codes and code[:1] == "C"):
            issues.append(f.issue(IssueCode.BAD_CODE, f"unknown {name.replace('_', ' ')}", code, line=lineno,
                                  record=NAME, expected=min(table) + "-" + max(table)))
    return issues


def parse(line: str, *, lineno: int | None = None, allow_special_characters: bool = False
          ) -> Addenda98Refused:
    return parse_record(Addenda98Refused, FIELDS, line, INT_FIELDS, lineno=lineno, record=NAME,
                        allow_special_characters=allow_special_characters)


def from_line(line: str) -> Addenda98Refused:
    return build(Addenda98Refused, FIELDS, line, INT_FIELDS)


def format(rec: Addenda98Refused) -> str:
    return render(FIELDS, rec)
