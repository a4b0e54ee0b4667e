"""Batch header record (type 5): originator, SEC code and effective date of a batch."""

from __future__ import annotations

from dataclasses import dataclass

from formats.errors import Issue, IssueCode
from formats.fixedwidth import Field, Kind
from formats.nacha.records._base import build, field, field_issues, parse_record, render

NAME = "BatchHeader"
TYPE_CODE = "5"

FIELDS: tuple[Field, ...] = (
    Field("record_type", 1, 1, Kind.ID, required=True, const="5"),
    Field("service_class_code", 2, 4, Kind.N, required=True, note="200 mixed, 220 credits, 225 debits"),
    Field("company_name", 5, 20, Kind.AN, required=True),
    Field("company_discretionary_data", 21, 40, Kind.AN),
    Field("company_identification", 41, 50, Kind.AN, required=True),
    Field("standard_entry_class", 51, 53, Kind.ID, required=True, note="PPD, CCD, WEB, TEL, CTX, COR..."),
    Field("company_entry_description", 54, 63, Kind.AN, required=True),
    Field("company_descriptive_date", 64, 69, Kind.AN),
    Field("effective_entry_date", 70, 75, Kind.N, note="YYMMDD; not checked as a date: returns carry 000000"),
    Field("settlement_date", 76, 78, Kind.AN, note="Julian day, inserted by the ACH operator"),
    Field("originator_status_code", 79, 79, Kind.ID, required=True),
    Field("odfi_identification", 80, 87, Kind.N, required=True, note="first 8 digits of ODFI routing"),
    Field("batch_number", 88, 94, Kind.N, required=True),
)

INT_FIELDS = frozenset({"service_class_code", "batch_number"})

SERVICE_CLASSES = frozenset({200, 220, 225, 280})


@dataclass(frozen=True, slots=True)
class BatchHeader:
    service_class_code: int
    company_name: str
    company_identification: str
    standard_entry_class: str
    company_entry_description: str
    effective_entry_date: str
    odfi_identification: str
    batch_number: int
    company_discretionary_data: str = ""
    company_descriptive_date: str = ""
    settlement_date: str = ""
    originator_status_code: str = "1"


def check(line: str, *, lineno: int | None = None, allow_special_characters: bool = False
          ) -> list[Issue]:
    """Every field-level problem of one batch header line; SEC support is the batch's job."""
    from formats.nacha.rules import check_julian, only_zeros

    issues = field_issues(FIELDS, line, lineno=lineno, record=NAME,
                          allow_special_characters=allow_special_characters)
    bad = {i.field for i in issues}

    def raw(name: str) -> str:
        f = field(FIELDS, name)
        return line[f.start - 1:f.end]

    def add(name: str, code: IssueCode, reason: str, expected: str) -> None:
        issues.append(field(FIELDS, name).issue(code, reason, raw(name), line=lineno, record=NAME,
                                                expected=expected))

    if "service_class_code" not in bad and int(raw("service_class_code")) not in SERVICE_CLASSES:
        add("service_class_code", IssueCode.BAD_CODE, "unknown service class code", "200, 220, 225 or 280")
    for name in ("company_name", "company_entry_description", "company_identification"):
        if name not in bad and only_zeros(raw(name)):
            add(name, IssueCode.ONLY_ZEROS, f"{name} must not be all zeros", "a name")
    sec = raw("standard_entry_class")
    if "standard_entry_class" not in bad and not (sec.isalpha() and sec.isupper() and sec.isascii()):
        add("standard_entry_class", IssueCode.BAD_CODE, "SEC code must be 3 capital letters", "e.g. PPD")
    if "settlement_date" not in bad:
        issues.extend(check_julian(field(FIELDS, "settlement_date"), raw("settlement_date"), lineno, NAME))
    if "originator_status_code" not in bad and raw("originator_status_code") not in ("0", "1", "2"):
        add("originator_status_code", IssueCode.BAD_CODE, "originator status code must be 0, 1 or 2", "0, 1 or 2")
    if "odfi_identification" not in bad and only_zeros(raw("odfi_identification")):
        add("odfi_identification", IssueCode.ONLY_ZEROS, "ODFI identification must not be zeros", "8 digits")
    return issues


def parse(line: str, *, lineno: int | None = None, allow_special_characters: bool = False
          ) -> BatchHeader:
    return parse_record(BatchHeader, FIELDS, line, INT_FIELDS, lineno=lineno, record=NAME,
                        allow_special_characters=allow_special_characters)


def from_line(line: str) -> BatchHeader:
    return build(BatchHeader, FIELDS, line, INT_FIELDS)


def format(rec: BatchHeader) -> str:
    return render(FIELDS, rec)
