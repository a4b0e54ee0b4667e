"""File header record (type 1): who sends the file to whom, and when."""

from __future__ import annotations

from dataclasses import dataclass

from formats.errors import Issue, IssueCode
from formats.fixedwidth import Field, Kind
from formats.nacha.records._base import build, field, field_issues, parse_record, render

NAME = "FileHeader"
TYPE_CODE = "1"

FIELDS: tuple[Field, ...] = (
    Field("record_type", 1, 1, Kind.ID, required=True, const="1"),
    Field("priority_code", 2, 3, Kind.N, required=True, note="always 01"),
    Field("immediate_destination", 4, 13, Kind.AN, required=True,
          note="blank + 9-digit routing number of the receiving point"),
    Field("immediate_origin", 14, 23, Kind.AN, required=True,
          note="10 characters assigned by the ODFI: blank + routing number, or a company number"),
    Field("file_creation_date", 24, 29, Kind.N, required=True, note="YYMMDD"),
    Field("file_creation_time", 30, 33, Kind.N, note="HHMM, optional"),
    Field("file_id_modifier", 34, 34, Kind.ID, required=True, note="A-Z, 0-9"),
    Field("record_size", 35, 37, Kind.N, required=True, const="094"),
    Field("blocking_factor", 38, 39, Kind.N, required=True, const="10"),
    Field("format_code", 40, 40, Kind.N, required=True, const="1"),
    Field("immediate_destination_name", 41, 63, Kind.AN),
    Field("immediate_origin_name", 64, 86, Kind.AN),
    Field("reference_code", 87, 94, Kind.AN),
)

INT_FIELDS: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class FileHeader:
    immediate_destination: str
    immediate_origin: str
    file_creation_date: str
    file_creation_time: str
    file_id_modifier: str
    immediate_destination_name: str = ""
    immediate_origin_name: str = ""
    reference_code: str = ""
    priority_code: str = "01"


def check(line: str, *, lineno: int | None = None, bypass_destination: bool = False,
          bypass_origin: bool = False, allow_special_characters: bool = False) -> list[Issue]:
    """Every problem of one file header line; never raises."""
    from formats.nacha.routing import check_routing_field
    from formats.nacha.rules import check_date, check_time, only_zeros

    issues = field_issues(FIELDS, line, lineno=lineno, record=NAME,
                          allow_special_characters=allow_special_characters)
    bad = {i.field for i in issues}

    def raw(name: str) -> str:
        f = field(FIELDS, name)
        return line[f.start - 1:f.end]

    if "priority_code" not in bad and raw("priority_code") != "01":
        issues.append(field(FIELDS, "priority_code").issue(
            IssueCode.BAD_CODE, "priority code must be 01", raw("priority_code"), line=lineno, record=NAME,
            expected="01"))
    if "immediate_destination" not in bad and not bypass_destination:
        issues.extend(check_routing_field(field(FIELDS, "immediate_destination"),
                                          raw("immediate_destination"), lineno, NAME))
    if "immediate_origin" not in bad and not bypass_origin and only_zeros(raw("immediate_origin")):
        issues.append(field(FIELDS, "immediate_origin").issue(
            IssueCode.ONLY_ZEROS, "immediate origin must not be zeros", raw("immediate_origin"), line=lineno,
            record=NAME, expected="the originator's routing or company number"))
    if "file_creation_date" not in bad:
        issues.extend(check_date(field(FIELDS, "file_creation_date"), raw("file_creation_date"),
                                 lineno, NAME))
    if "file_creation_time" not in bad and raw("file_creation_time").strip():
        issues.extend(check_time(field(FIELDS, "file_creation_time"), raw("file_creation_time"),
                                 lineno, NAME))
    mod = raw("file_id_modifier")
    if "file_id_modifier" not in bad and not (mod.isascii() and (mod.isupper() or mod.isdigit())):
        issues.append(field(FIELDS, "file_id_modifier").issue(
            IssueCode.BAD_CODE, "file ID modifier must be A-Z or 0-9", mod, line=lineno, record=NAME,
            expected="A-Z or 0-9"))
    return issues


def parse(line: str, *, lineno: int | None = None, allow_special_characters: bool = False
          ) -> FileHeader:
    return parse_record(FileHeader, FIELDS, line, INT_FIELDS, lineno=lineno, record=NAME,
                        allow_special_characters=allow_special_characters)


def from_line(line: str) -> FileHeader:
    """Typed record from a line that already passed :func:`check` (no second check)."""
    return build(FileHeader, FIELDS, line, INT_FIELDS)


def format(rec: FileHeader) -> str:
    return render(FIELDS, rec)
