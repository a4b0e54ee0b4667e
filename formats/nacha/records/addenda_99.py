"""Addenda record type 99: return entry (R01-R85, R90).

Dishonored (R61, R62, R67-R70) and contested (R71-R77) returns use other layouts:
:mod:`.addenda_99_dishonored` and :mod:`.addenda_99_contested`.
"""

from __future__ import annotations

from dataclasses import dataclass

from formats.errors import Issue, IssueCode
from formats.fixedwidth import Field, Kind
from formats.nacha.records._base import build, field, field_issues, parse_record, render

NAME = "Addenda99"
TYPE_CODE = "7"
ADDENDA_TYPE = "99"

FIELDS: tuple[Field, ...] = (
    Field("record_type", 1, 1, Kind.ID, required=True, const="7"),
    Field("addenda_type_code", 2, 3, Kind.ID, required=True, const="99"),
    Field("return_reason_code", 4, 6, Kind.ID, required=True, note="Rnn"),
    Field("original_trace_number", 7, 21, Kind.N, required=True),
    Field("date_of_death", 22, 27, Kind.N, note="YYMMDD for R14/R15, else blanks"),
    Field("original_rdfi_identification", 28, 35, Kind.N, required=True),
    Field("addenda_information", 36, 79, Kind.AN),
    Field("trace_number", 80, 94, Kind.N, required=True),
)

INT_FIELDS: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Addenda99:
    return_reason_code: str
    original_trace_number: str
    original_rdfi_identification: str
    trace_number: str
    date_of_death: str = ""
    addenda_information: str = ""


def check(line: str, *, lineno: int | None = None, allow_special_characters: bool = False,
          custom_codes: bool = False) -> list[Issue]:
    from formats.nacha.codes import RETURN_CODES
    from formats.nacha.rules import check_date

    issues = field_issues(FIELDS, line, lineno=lineno, record=NAME,
                          allow_special_characters=allow_special_characters)
    bad = {i.field for i in issues}
    f = field(FIELDS, "return_reason_code")
    code = line[f.start - 1:f.end]
    if code not in RETURN_CODES and not (custom_codes and code[:1] == "R"):
        issues.append(f.issue(IssueCode.BAD_CODE, "unknown return reason code", code, line=lineno, record=NAME,
                              expected="R01-R85 or R90"))
    d = field(FIELDS, "date_of_death")
    dod = line[d.start - 1:d.end]
    if "date_of_death" not in bad and dod.strip():
        issues.extend(check_date(d, dod, lineno, NAME))
    return issues


def parse(line: str, *, lineno: int | None = None, allow_special_characters: bool = False
          ) -> Addenda99:
    return parse_record(Addenda99, FIELDS, line, INT_FIELDS, lineno=lineno, record=NAME,
                        allow_special_characters=allow_special_characters)


def from_line(line: str) -> Addenda99:
    return build(Addenda99, FIELDS, line, INT_FIELDS)


def format(rec: Addenda99) -> str:
    return render(FIELDS, rec)
