"""File control record (type 9): counts, entry hash and totals of the whole file."""

from __future__ import annotations

from dataclasses import dataclass

from formats.errors import Issue
from formats.fixedwidth import Field, Kind
from formats.nacha.records._base import build, field_issues, parse_record, render

NAME = "FileControl"
TYPE_CODE = "9"

FIELDS: tuple[Field, ...] = (
    Field("record_type", 1, 1, Kind.ID, required=True, const="9"),
    Field("batch_count", 2, 7, Kind.N, required=True),
    Field("block_count", 8, 13, Kind.N, required=True, note="10-record blocks incl. 9-fill"),
    Field("entry_addenda_count", 14, 21, Kind.N, required=True),
    Field("entry_hash", 22, 31, Kind.N, required=True, note="sum of batch hashes, last 10 digits"),
    Field("total_debit_amount", 32, 43, Kind.N, required=True, note="cents"),
    Field("total_credit_amount", 44, 55, Kind.N, required=True, note="cents"),
    Field("reserved", 56, 94, Kind.AN),
)

INT_FIELDS = frozenset({"batch_count", "block_count", "entry_addenda_count", "entry_hash",
                        "total_debit_amount", "total_credit_amount"})

#: a block-padding record: 94 nines
FILLER = "9" * 94


@dataclass(frozen=True, slots=True)
class FileControl:
    batch_count: int
    block_count: int
    entry_addenda_count: int
    entry_hash: int
    total_debit_amount: int
    total_credit_amount: int
    reserved: str = ""


def check(line: str, *, lineno: int | None = None, allow_special_characters: bool = False
          ) -> list[Issue]:
    return field_issues(FIELDS, line, lineno=lineno, record=NAME,
                        allow_special_characters=allow_special_characters)


def parse(line: str, *, lineno: int | None = None, allow_special_characters: bool = False
          ) -> FileControl:
    return parse_record(FileControl, FIELDS, line, INT_FIELDS, lineno=lineno, record=NAME,
                        allow_special_characters=allow_special_characters)


def from_line(line: str) -> FileControl:
    return build(FileControl, FIELDS, line, INT_FIELDS)


def format(rec: FileControl) -> str:
    return render(FIELDS, rec)
