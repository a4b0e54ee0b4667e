"""Addenda record type 02: point-of-sale terminal data (POS, SHR, MTE).

Those SEC codes are not supported for validation; the table lets the reader parse
and describe them structurally.
"""

from __future__ import annotations

from dataclasses import dataclass

from formats.errors import Issue
from formats.fixedwidth import Field, Kind
from formats.nacha.records._base import build, field_issues, parse_record, render

NAME = "Addenda02"
TYPE_CODE = "7"
ADDENDA_TYPE = "02"

FIELDS: tuple[Field, ...] = (
    Field("record_type", 1, 1, Kind.ID, required=True, const="7"),
    Field("addenda_type_code", 2, 3, Kind.ID, required=True, const="02"),
    Field("reference_information_1", 4, 10, Kind.AN),
    Field("reference_information_2", 11, 13, Kind.AN),
    Field("terminal_identification_code", 14, 19, Kind.AN, required=True),
    Field("transaction_serial_number", 20, 25, Kind.AN, required=True),
    Field("transaction_date", 26, 29, Kind.AN, required=True, note="MMDD"),
    Field("authorization_code", 30, 35, Kind.AN, note="or card expiration date"),
    Field("terminal_location", 36, 62, Kind.AN, required=True),
    Field("terminal_city", 63, 77, Kind.AN, required=True),
    Field("terminal_state", 78, 79, Kind.AN, required=True),
    Field("trace_number", 80, 94, Kind.N, required=True),
)

INT_FIELDS: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Addenda02:
    terminal_identification_code: str
    transaction_serial_number: str
    transaction_date: str
    terminal_location: str
    terminal_city: str
    terminal_state: str
    trace_number: str
    reference_information_1: str = ""
    reference_information_2: str = ""
    authorization_code: str = ""


def check(line: str, *, lineno: int | None = None, allow_special_characters: bool = False
          ) -> list[Issue]:
    return field_issues(FIELDS, line, lineno=lineno, record=NAME,
                        allow_special_characters=allow_special_characters)


def parse(line: str, *, lineno: int | None = None, allow_special_characters: bool = False
          ) -> Addenda02:
    return parse_record(Addenda02, FIELDS, line, INT_FIELDS, lineno=lineno, record=NAME,
                        allow_special_characters=allow_special_characters)


def from_line(line: str) -> Addenda02:
    return build(Addenda02, FIELDS, line, INT_FIELDS)


def format(rec: Addenda02) -> str:
    return render(FIELDS, rec)
