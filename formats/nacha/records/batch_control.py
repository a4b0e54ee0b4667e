"""Batch control record (type 8): counts, entry hash and totals of one batch."""

from __future__ import annotations

from dataclasses import dataclass

from formats.errors import Issue
from formats.fixedwidth import Field, Kind
from formats.nacha.records._base import build, field_issues, parse_record, render

NAME = "BatchControl"
TYPE_CODE = "8"

FIELDS: tuple[Field, ...] = (
    Field("record_type", 1, 1, Kind.ID, required=True, const="8"),
    Field("service_class_code", 2, 4, Kind.N, required=True),
    Field("entry_addenda_count", 5, 10, Kind.N, required=True),
    Field("entry_hash", 11, 20, Kind.N, required=True,
          note="sum of RDFI identifications, last 10 digits"),
    Field("total_debit_amount", 21, 32, Kind.N, required=True, note="cents"),
    Field("total_credit_amount", 33, 44, Kind.N, required=True, note="cents"),
    Field("company_identification", 45, 54, Kind.AN),
    Field("message_authentication_code", 55, 73, Kind.AN),
    Field("reserved", 74, 79, Kind.AN),
    Field("odfi_identification", 80, 87, Kind.N, required=True),
    Field("batch_number", 88, 94, Kind.N, required=True),
)

INT_FIELDS = frozenset({"service_class_code", "entry_addenda_count", "entry_hash",
                        "total_debit_amount", "total_credit_amount", "batch_number"})


@dataclass(frozen=True, slots=True)
class BatchControl:
    service_class_code: int
    entry_addenda_count: int
    entry_hash: int
    total_debit_amount: int
    total_credit_amount: int
    company_identification: str
    odfi_identification: str
    batch_number: int
    message_authentication_code: str = ""
    reserved: str = ""


def check(line: str, *, lineno: int | None = None, allow_special_characters: bool = False
          ) -> list[Issue]:
    """Field-level problems; agreement with the header and entries is the batch's job."""
    return field_issues(FIELDS, line, lineno=lineno, record=NAME,
                        allow_special_characters=allow_special_characters)


def parse(line: str, *, lineno: int | None = None, allow_special_characters: bool = False
          ) -> BatchControl:
    return parse_record(BatchControl, FIELDS, line, INT_FIELDS, lineno=lineno, record=NAME,
                        allow_special_characters=allow_special_characters)


def from_line(line: str) -> BatchControl:
    return build(BatchControl, FIELDS, line, INT_FIELDS)


def format(rec: BatchControl) -> str:
    return render(FIELDS, rec)
