"""Entry detail record (type 6): one payment, prenote, return or NOC.

Columns 40-78 mean different things per SEC code (CTX puts the addenda count and
the company name there); the table uses the PPD names and the SEC modules
interpret them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from formats.errors import Issue, IssueCode
from formats.fixedwidth import Field, Kind
from formats.nacha.records._base import build, digits_pattern, field, field_issues, parse_record, render

NAME = "EntryDetail"
TYPE_CODE = "6"

FIELDS: tuple[Field, ...] = (
    Field("record_type", 1, 1, Kind.ID, required=True, const="6"),
    Field("transaction_code", 2, 3, Kind.N, required=True, note="22 checking credit, 27 debit..."),
    Field("rdfi_identification", 4, 11, Kind.N, required=True, note="first 8 digits of RDFI routing"),
    Field("check_digit", 12, 12, Kind.N, required=True, note="ABA mod-10 check digit"),
    Field("dfi_account_number", 13, 29, Kind.AN, required=True, sensitive=True),
    Field("amount", 30, 39, Kind.N, required=True, note="cents"),
    Field("individual_identification", 40, 54, Kind.AN, note="CTX/CCD: identification number"),
    Field("individual_name", 55, 76, Kind.AN, note="CTX: 55-58 addenda count, 59-74 company name"),
    Field("discretionary_data", 77, 78, Kind.AN, note="WEB/TEL: payment type code"),
    Field("addenda_record_indicator", 79, 79, Kind.N, required=True, note="0 or 1"),
    Field("trace_number", 80, 94, Kind.N, required=True, note="ODFI (8) + sequence (7)"),
)

INT_FIELDS = frozenset({"transaction_code", "amount", "addenda_record_indicator"})

#: one C-level regex that slices and checks the whole record
PATTERN = digits_pattern(FIELDS, type_code=TYPE_CODE)


@functools.lru_cache(maxsize=64)
def fast_pattern(odfi: bytes | None, name_required: bool) -> re.Pattern[bytes]:
    """The validator's hot path for one batch: a record that matches is well-formed.

    Built from ``FIELDS``: digits where the table says N, printable ASCII elsewhere,
    a non-blank account number, addenda indicator 0, and (unless trace numbers are
    custom) a trace that starts with the batch's ODFI. Captures only what the
    validator computes with: transaction code, routing number (RDFI + check digit),
    amount and trace number. Anything that does not match takes the slow path,
    which reports the exact field.
    """
    parts: list[str] = []
    for f in FIELDS:
        if f.const is not None:
            parts.append(re.escape(f.const))
        elif f.name == "rdfi_identification":
            parts.append("([0-9]{9})")
        elif f.name == "check_digit":
            continue
        elif f.name == "dfi_account_number":
            parts.append(f"(?! {{{f.width}}})[ -~]{{{f.width}}}")
        elif f.name == "individual_name" and name_required:
            parts.append(f"(?![ 0]{{{f.width}}})[ -~]{{{f.width}}}")
        elif f.name == "addenda_record_indicator":
            parts.append("0")
        elif f.name == "trace_number" and odfi is not None:
            parts.append(f"({re.escape(odfi.decode('ascii'))}[0-9]{{7}})")
        elif f.name in ("transaction_code", "amount", "trace_number"):
            parts.append(f"([0-9]{{{f.width}}})")
        elif f.kind is Kind.N:
            parts.append(f"[0-9]{{{f.width}}}")
        else:
            parts.append(f"[ -~]{{{f.width}}}")
    return re.compile(("".join(parts) + r"\r?").encode("ascii"))


@dataclass(frozen=True, slots=True)
class EntryDetail:
    transaction_code: int
    rdfi_identification: str
    check_digit: str
    dfi_account_number: str
    amount: int
    trace_number: str
    individual_identification: str = ""
    individual_name: str = ""
    discretionary_data: str = ""
    addenda_record_indicator: int = 0

    @property
    def rdfi_routing(self) -> str:
        return self.rdfi_identification + self.check_digit


def check(line: str, *, lineno: int | None = None, allow_special_characters: bool = False,
          allow_invalid_check_digit: bool = False) -> list[Issue]:
    """Field-level problems of one entry line (codes vs batch are the batch's job)."""
    from formats.nacha.codes import TRANSACTION_CODES
    from formats.nacha.routing import check_digit

    issues = field_issues(FIELDS, line, lineno=lineno, record=NAME,
                          allow_special_characters=allow_special_characters)
    bad = {i.field for i in issues}

    def raw(name: str) -> str:
        f = field(FIELDS, name)
        return line[f.start - 1:f.end]

    def add(name: str, code: IssueCode, reason: str, expected: str) -> None:
        issues.append(field(FIELDS, name).issue(code, reason, raw(name), line=lineno, record=NAME,
                                                expected=expected))

    if "transaction_code" not in bad and int(raw("transaction_code")) not in TRANSACTION_CODES:
        add("transaction_code", IssueCode.BAD_CODE, "unknown transaction code", "e.g. 22, 27, 32, 37")
    if ("rdfi_identification" not in bad and "check_digit" not in bad and not allow_invalid_check_digit
            and check_digit(raw("rdfi_identification")) != raw("check_digit")):
        add("check_digit", IssueCode.CHECK_DIGIT, "RDFI routing number check digit is wrong",
            check_digit(raw("rdfi_identification")))
    if "rdfi_identification" not in bad and set(raw("rdfi_identification")) == {"0"}:
        add("rdfi_identification", IssueCode.ONLY_ZEROS, "RDFI identification must not be zeros", "8 digits")
    if "addenda_record_indicator" not in bad and raw("addenda_record_indicator") not in ("0", "1"):
        add("addenda_record_indicator", IssueCode.BAD_CODE, "addenda record indicator must be 0 or 1", "0 or 1")
    return issues


def parse(line: str, *, lineno: int | None = None, allow_special_characters: bool = False
          ) -> EntryDetail:
    return parse_record(EntryDetail, FIELDS, line, INT_FIELDS, lineno=lineno, record=NAME,
                        allow_special_characters=allow_special_characters)


def from_line(line: str) -> EntryDetail:
    return build(EntryDetail, FIELDS, line, INT_FIELDS)


def format(rec: EntryDetail) -> str:
    return render(FIELDS, rec)
