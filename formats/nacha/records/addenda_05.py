"""Addenda record type 05: payment-related information (PPD/CCD/WEB: one, CTX: up to 9,999)."""

from __future__ import annotations

from dataclasses import dataclass

from formats.errors import Issue
from formats.fixedwidth import Field, Kind
from formats.nacha.records._base import build, field_issues, parse_record, render

NAME = "Addenda05"
TYPE_CODE = "7"
ADDENDA_TYPE = "05"

FIELDS: tuple[Field, ...] = (
    Field("record_type", 1, 1, Kind.ID, required=True, const="7"),
    Field("addenda_type_code", 2, 3, Kind.ID, required=True, const="05"),
    Field("payment_related_information", 4, 83, Kind.AN),
    Field("addenda_sequence_number", 84, 87, Kind.N, required=True, note="1, 2, ... per entry"),
    Field("entry_detail_sequence_number", 88, 94, Kind.N, required=True,
          note="last 7 digits of the entry's trace number"),
)

INT_FIELDS = frozenset({"addenda_sequence_number"})


@dataclass(frozen=True, slots=True)
class Addenda05:
    payment_related_information: str
    addenda_sequence_number: int
    entry_detail_sequence_number: str


def check(line: str, *, lineno: int | None = None, allow_special_characters: bool = False
          ) -> list[Issue]:
    return field_issues(FIELDS, line, lineno=lineno, record=NAME,
                        allow_special_characters=allow_special_characters)


def parse(line: str, *, lineno: int | None = None, allow_special_characters: bool = False
          ) -> Addenda05:
    return parse_record(Addenda05, FIELDS, line, INT_FIELDS, lineno=lineno, record=NAME,
                        allow_special_characters=allow_special_characters)


def from_line(line: str) -> Addenda05:
    return build(Addenda05, FIELDS, line, INT_FIELDS)


def format(rec: Addenda05) -> str:
    return render(FIELDS, rec)
