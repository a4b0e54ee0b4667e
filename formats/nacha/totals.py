"""Control-record arithmetic: what a batch or file control must say, given what was read.

Counts, entry hashes (sums of RDFI identifications, last 10 digits) and debit/credit
totals are summed while streaming; a control field that disagrees is a
``control_mismatch`` issue on that field's columns. A field that already failed its own
check (``bad``) is not compared again.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from formats.errors import Issue, IssueCode
from formats.fixedwidth import Field
from formats.nacha.records import batch_control, file_control

HASH_MODULUS = 10**10
BLOCKING_FACTOR = 10

_BATCH_FIELDS = {f.name: f for f in batch_control.FIELDS}
_FILE_FIELDS = {f.name: f for f in file_control.FIELDS}


@dataclass(slots=True)
class Totals:
    """Entry and addenda count, entry hash and amounts (cents) of a batch or a file."""

    count: int = 0
    hash: int = 0
    debit: int = 0
    credit: int = 0

    def add(self, other: Totals) -> None:
        self.count += other.count
        self.hash += other.hash
        self.debit += other.debit
        self.credit += other.credit


@dataclass(frozen=True, slots=True)
class BatchExpected:
    """What the batch header promised, for the fields the control repeats (None: unreadable)."""

    service_class: int | None
    company_id: str
    odfi: str
    number: int | None


def block_count(records: int) -> int:
    """10-record blocks needed for ``records`` records (9-fill not included)."""
    return -(-records // BLOCKING_FACTOR)


def _mismatch(f: Field, line: str, shown: str, *, lineno: int, record: str, expected: object) -> Issue:
    raw = f.cut(line)
    return f.issue(IssueCode.CONTROL_MISMATCH, f"{f.name} {raw} does not agree with {shown}", raw, line=lineno,
                   record=record, expected=str(expected))


def batch_control_issues(line: str, lineno: int, totals: Totals, header: BatchExpected | None, *,
                         bad: Collection[str | None]) -> list[Issue]:
    """Mismatches of a batch control; ``header`` None: only the count is verifiable (SEC not supported)."""
    out: list[Issue] = []

    def agree(name: str, calculated: int | str | None, shown: str) -> None:
        f = _BATCH_FIELDS[name]
        if name in bad or calculated is None:
            return
        raw = f.cut(line)
        found: int | str = int(raw) if name in batch_control.INT_FIELDS else raw.strip()
        if found != calculated:
            out.append(_mismatch(f, line, shown, lineno=lineno, record=batch_control.NAME, expected=calculated))

    agree("entry_addenda_count", totals.count, "the batch's entries and addenda")
    if header is not None:
        agree("service_class_code", header.service_class, "the batch header")
        agree("entry_hash", totals.hash % HASH_MODULUS, "the sum of RDFI identifications")
        agree("total_debit_amount", totals.debit, "the batch's debit entries")
        agree("total_credit_amount", totals.credit, "the batch's credit entries")
        agree("company_identification", header.company_id.strip(), "the batch header")
        agree("odfi_identification", header.odfi, "the batch header")
        agree("batch_number", header.number, "the batch header")
    return out


def file_control_issues(line: str, lineno: int, *, batches: int, records: int, totals: Totals,
                        verifiable: bool, bad: Collection[str | None]) -> list[Issue]:
    """Mismatches of the file control; amounts and hash only if every batch could be summed."""
    out: list[Issue] = []

    def agree(name: str, calculated: int, shown: str) -> None:
        f = _FILE_FIELDS[name]
        if name not in bad and int(f.cut(line)) != calculated:
            out.append(_mismatch(f, line, shown, lineno=lineno, record=file_control.NAME, expected=calculated))

    agree("batch_count", batches, "the number of batches")
    agree("block_count", block_count(records), "the number of 10-record blocks")
    agree("entry_addenda_count", totals.count, "the file's entries and addenda")
    if verifiable:
        agree("entry_hash", totals.hash % HASH_MODULUS, "the sum of the batches' entry hashes")
        agree("total_debit_amount", totals.debit, "the batches' debit totals")
        agree("total_credit_amount", totals.credit, "the batches' credit totals")
    return out
