"""NACHA writer: typed payments in, a balanced file out (PPD, CCD, WEB, TEL, CTX, prenotes).

:class:`AchWriter` streams to a binary file object, one batch at a time, so
100,000 payments never sit in memory. Controls (counts, entry hash, totals, block
count) are computed while writing; the last block is padded with 9-filler to a
multiple of 10 records. Trace numbers are the ODFI's first 8 digits plus a 7-digit
sequence taken from the caller's counter, so the caller can persist it::

    with AchWriter(out, spec, next_sequence=counter) as w:
        w.write_batch(batch, payments)

:func:`write` groups ``(BatchSpec, Payment)`` pairs by batch (one batch per
company and effective date) for small files; :func:`dumps` renders an already
typed :class:`~formats.nacha.model.AchFile` as it is (``dumps(parse(x)) == x``).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

from formats.errors import FormatError, IssueCode
from formats.fixedwidth import FieldOverflow
from formats.nacha import codes
from formats.nacha.model import AchFile
from formats.nacha.records import (
    addenda_02,
    addenda_05,
    addenda_98,
    addenda_98_refused,
    addenda_99,
    addenda_99_contested,
    addenda_99_dishonored,
    batch_control,
    batch_header,
    entry_detail,
    file_control,
    file_header,
)
from formats.nacha.records.addenda_05 import Addenda05
from formats.nacha.records.batch_control import BatchControl
from formats.nacha.records.batch_header import BatchHeader
from formats.nacha.records.entry_detail import EntryDetail
from formats.nacha.records.file_control import FileControl
from formats.nacha.records.file_header import FileHeader
from formats.nacha.routing import check_digit, is_valid
from formats.nacha.sec import RULES

BLOCKING_FACTOR = 10
FILLER = "9" * 94
MAX_AMOUNT = 99_999_999_99  #: cents: the 10-digit entry amount field
MAX_SEQUENCE = 9_999_999
#: the prenote code for each live transaction code
PRENOTE_OF = {22: 23, 27: 28, 32: 33, 37: 38, 42: 43, 47: 48, 52: 53}

Counter = Callable[[], int] | Iterator[int]


def _bad(reason: str, **where: object) -> FormatError:
    return FormatError.single(IssueCode.BAD_PAYMENT, reason, **where)


def immediate_destination(value: str) -> str:
    """Seed 001: exactly 10 characters and starting with a blank (blank + routing number)."""
    v = value.strip()
    if not (len(v) == 9 and is_valid(v)) or (len(value) == 10 and value[0] != " "):
        raise _bad(f"immediate destination must be a valid 9-digit routing number, got {value!r}",
                   field="immediate_destination", columns=(4, 13), value=value)
    return " " + v


def immediate_origin(value: str) -> str:
    """Seed 001: 10 characters; a 9-digit routing number gets the leading blank, shorter
    values are padded with trailing blanks."""
    if len(value) == 9 and value.isdigit():
        return " " + value
    if not value.strip() or len(value) > 10:
        raise _bad(f"immediate origin must be 1-10 characters, got {value!r}", field="immediate_origin",
                   columns=(14, 23), value=value)
    return value.ljust(10)


@dataclass(frozen=True, slots=True)
class FileSpec:
    """What goes into the file header: who sends the file to whom, and when."""

    immediate_destination: str
    immediate_origin: str
    created: dt.datetime
    file_id_modifier: str = "A"
    immediate_destination_name: str = ""
    immediate_origin_name: str = ""
    reference_code: str = ""


@dataclass(frozen=True, slots=True)
class BatchSpec:
    """One batch: a company, an SEC code and an effective date."""

    company_name: str
    company_identification: str
    standard_entry_class: str
    company_entry_description: str
    effective_entry_date: dt.date
    odfi_routing: str  #: 8 or 9 digits; the first 8 start every trace number
    company_discretionary_data: str = ""
    company_descriptive_date: str = ""
    #: 200 mixed, 220 credits only, 225 debits only (streaming cannot know in advance)
    service_class_code: int = codes.SERVICE_CLASS_MIXED


@dataclass(frozen=True, slots=True)
class Payment:
    """One entry. ``name`` is the individual name (CTX: the receiving company, 16 characters).

    ``addenda`` are payment-related information lines (80 characters each):
    PPD/CCD/WEB at most one, CTX up to 9,999, TEL none.
    """

    transaction_code: int
    routing_number: str
    account_number: str
    amount: int
    name: str
    identification: str = ""
    discretionary_data: str = ""
    addenda: tuple[str, ...] = ()

    @classmethod
    def prenote(cls, transaction_code: int, routing_number: str, account_number: str, name: str,
                identification: str = "") -> Payment:
        """A zero-amount prenote for the account a live code would debit or credit."""
        code = PRENOTE_OF.get(transaction_code, transaction_code)
        if code not in codes.PRENOTE_CODES:
            raise _bad(f"no prenote code for transaction code {transaction_code}")
        return cls(code, routing_number, account_number, 0, name, identification)


def _next(counter: Counter) -> int:
    value = counter() if callable(counter) else next(counter)
    if not isinstance(value, int) or not 1 <= value <= MAX_SEQUENCE:
        raise _bad(f"trace sequence must be 1..{MAX_SEQUENCE}, got {value!r}", field="trace_number")
    return value


class ByteSink(Protocol):
    """Where a writer's lines go: a binary file, or anything that takes bytes."""

    def write(self, data: bytes, /) -> object: ...


class AchWriter:
    """Streams one file to ``out``; :meth:`close` writes the file control and the 9-fill."""

    def __init__(self, out: ByteSink, spec: FileSpec, *, next_sequence: Counter,
                 line_ending: bytes = b"\n") -> None:
        if spec.file_id_modifier == "" or len(spec.file_id_modifier) != 1 or not (
                spec.file_id_modifier.isascii() and spec.file_id_modifier.isalnum()
                and not spec.file_id_modifier.islower()):
            raise _bad("file ID modifier must be one of A-Z, 0-9", field="file_id_modifier")
        self._out = out
        self._eol = line_ending
        self._next_sequence = next_sequence
        self._records = 0
        self._batches = 0
        self._count = 0
        self._hash = 0
        self._debit = 0
        self._credit = 0
        self._batch_number = 0
        self._closed = False
        header = FileHeader(
            immediate_destination=immediate_destination(spec.immediate_destination),
            immediate_origin=immediate_origin(spec.immediate_origin),
            file_creation_date=spec.created.strftime("%y%m%d"),
            file_creation_time=spec.created.strftime("%H%M"),
            file_id_modifier=spec.file_id_modifier,
            immediate_destination_name=spec.immediate_destination_name,
            immediate_origin_name=spec.immediate_origin_name,
            reference_code=spec.reference_code,
        )
        self._emit(file_header.format(header))

    def __enter__(self) -> AchWriter:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        if et is None:
            self.close()

    def _emit(self, line: str) -> None:
        self._out.write(line.encode("ascii") + self._eol)
        self._records += 1

    def write_batch(self, batch: BatchSpec, payments: Iterable[Payment], *,
                    traces: list[str] | None = None) -> list[str]:
        """Write one batch; returns the trace numbers given to the payments, in order.

        ``traces``: the list to append them to as the entries are written (a caller that feeds
        ``payments`` lazily sees the traces of the entries before the one it is asked for)."""
        rule = RULES.get(batch.standard_entry_class)
        if rule is None or rule.notification_of_change:
            raise _bad(f"cannot write SEC code {batch.standard_entry_class}",
                       field="standard_entry_class", value=batch.standard_entry_class)
        odfi = batch.odfi_routing[:8]
        if len(odfi) != 8 or not odfi.isdigit():
            raise _bad("ODFI routing number must have 8 or 9 digits", field="odfi_identification",
                       value=batch.odfi_routing)
        self._batch_number += 1
        try:
            header = BatchHeader(
                service_class_code=batch.service_class_code, company_name=batch.company_name,
                company_identification=batch.company_identification,
                standard_entry_class=batch.standard_entry_class,
                company_entry_description=batch.company_entry_description,
                effective_entry_date=batch.effective_entry_date.strftime("%y%m%d"),
                odfi_identification=odfi, batch_number=self._batch_number,
                company_discretionary_data=batch.company_discretionary_data,
                company_descriptive_date=batch.company_descriptive_date)
            self._emit(batch_header.format(header))
        except FieldOverflow as exc:
            raise _bad(str(exc), record=batch_header.NAME) from None
        count = ehash = debit = credit = 0
        if traces is None:
            traces = []
        for p in payments:
            tx = p.transaction_code
            if tx not in codes.TRANSACTION_CODES or tx in codes.RETURN_NOC_CODES or not rule.allows(tx):
                raise _bad(f"{rule.code} cannot carry transaction code {tx}", field="transaction_code")
            if (batch.service_class_code == codes.SERVICE_CLASS_CREDITS and tx not in codes.CREDIT_CODES) or (
                    batch.service_class_code == codes.SERVICE_CLASS_DEBITS and tx not in codes.DEBIT_CODES):
                raise _bad(f"service class {batch.service_class_code} cannot carry code {tx}",
                           field="transaction_code")
            if not 0 <= p.amount <= MAX_AMOUNT or isinstance(p.amount, bool):
                raise _bad(f"amount must be 0..{MAX_AMOUNT} cents", field="amount", columns=(30, 39))
            if p.amount and tx in codes.ZERO_AMOUNT_CODES:
                raise _bad("prenote and zero-dollar entries carry a zero amount", field="amount")
            if not is_valid(p.routing_number):
                raise _bad("RDFI routing number is not a valid 9-digit routing number",
                           field="rdfi_identification", value=p.routing_number)
            if not p.account_number.strip():
                raise _bad("account number is mandatory", field="dfi_account_number")
            if rule.name_required and not p.name.strip(" 0"):
                raise _bad(f"{rule.code} entries need the receiver's name", field="individual_name")
            if len(p.addenda) > rule.max_addenda_05:
                raise _bad(f"{rule.code} allows {rule.max_addenda_05} addenda per entry", field="addenda")
            trace = f"{odfi}{_next(self._next_sequence):07d}"
            name = p.name
            if rule.counted_addenda:
                if len(p.name) > 16:
                    raise _bad("CTX receiving company name is at most 16 characters", field="individual_name")
                name = f"{len(p.addenda):04d}{p.name.ljust(16)}"
            try:
                entry = EntryDetail(transaction_code=tx, rdfi_identification=p.routing_number[:8],
                                    check_digit=p.routing_number[8], dfi_account_number=p.account_number,
                                    amount=p.amount, trace_number=trace,
                                    individual_identification=p.identification, individual_name=name,
                                    discretionary_data=p.discretionary_data,
                                    addenda_record_indicator=1 if p.addenda else 0)
                self._emit(entry_detail.format(entry))
                for seq, info in enumerate(p.addenda, 1):
                    self._emit(addenda_05.format(Addenda05(info, seq, trace[-7:])))
            except (FieldOverflow, UnicodeEncodeError) as exc:
                raise _bad(str(exc), record=entry_detail.NAME, value=trace) from None
            count += 1 + len(p.addenda)
            ehash += int(p.routing_number[:8])
            if tx in codes.DEBIT_CODES:
                debit += p.amount
            else:
                credit += p.amount
            traces.append(trace)
        self._emit(batch_control.format(BatchControl(
            service_class_code=batch.service_class_code, entry_addenda_count=count,
            entry_hash=ehash % 10**10, total_debit_amount=debit, total_credit_amount=credit,
            company_identification=batch.company_identification, odfi_identification=odfi,
            batch_number=self._batch_number)))
        self._batches += 1
        self._count += count
        self._hash += ehash
        self._debit += debit
        self._credit += credit
        return traces

    def close(self) -> FileControl:
        """Write the file control and pad the last block with 9-filler records."""
        if self._closed:
            raise RuntimeError("writer already closed")
        self._closed = True
        total = self._records + 1
        blocks = -(-total // BLOCKING_FACTOR)
        control = FileControl(batch_count=self._batches, block_count=blocks,
                              entry_addenda_count=self._count, entry_hash=self._hash % 10**10,
                              total_debit_amount=self._debit, total_credit_amount=self._credit)
        self._emit(file_control.format(control))
        for _ in range(blocks * BLOCKING_FACTOR - total):
            self._emit(FILLER)
        return control


def service_class_for(payments: Iterable[Payment]) -> int:
    """220 when every entry is a credit, 225 when every entry is a debit, else 200."""
    txs = {p.transaction_code for p in payments}
    if txs and txs <= codes.CREDIT_CODES:
        return codes.SERVICE_CLASS_CREDITS
    if txs and txs <= codes.DEBIT_CODES:
        return codes.SERVICE_CLASS_DEBITS
    return codes.SERVICE_CLASS_MIXED


def write(spec: FileSpec, items: Iterable[tuple[BatchSpec, Payment]], *, next_sequence: Counter,
          line_ending: bytes = b"\n", exact_service_class: bool = True) -> bytes:
    """A whole file in memory: one batch per distinct :class:`BatchSpec` (company, effective
    date, SEC...), batches in order of first appearance."""
    groups: dict[BatchSpec, list[Payment]] = {}
    for batch, payment in items:
        groups.setdefault(batch, []).append(payment)
    out = io.BytesIO()
    with AchWriter(out, spec, next_sequence=next_sequence, line_ending=line_ending) as w:
        for batch, payments in groups.items():
            if exact_service_class and batch.service_class_code == codes.SERVICE_CLASS_MIXED:
                from dataclasses import replace

                batch = replace(batch, service_class_code=service_class_for(payments))
            w.write_batch(batch, payments)
    return out.getvalue()


_ADDENDA_FORMAT = {
    "Addenda02": addenda_02.format, "Addenda05": addenda_05.format, "Addenda98": addenda_98.format,
    "Addenda98Refused": addenda_98_refused.format, "Addenda99": addenda_99.format,
    "Addenda99Dishonored": addenda_99_dishonored.format, "Addenda99Contested": addenda_99_contested.format,
}


def dumps(ach: AchFile, *, line_ending: bytes = b"\n") -> bytes:
    """Render a typed file exactly as it is (no recomputation), padded to full blocks."""
    lines: list[str] = []
    if ach.header is not None:
        lines.append(file_header.format(ach.header))
    for b in ach.batches:
        lines.append(batch_header.format(b.header))
        for e in b.entries:
            lines.append(entry_detail.format(e.detail))
            lines.extend(_ADDENDA_FORMAT[type(a).__name__](a) for a in e.addenda)  # type: ignore[operator]
        if b.control is not None:
            lines.append(batch_control.format(b.control))
    if ach.control is not None:
        lines.append(file_control.format(ach.control))
    lines.extend([FILLER] * (-len(lines) % BLOCKING_FACTOR))
    return b"".join(line.encode("utf-8") + line_ending for line in lines)


__all__ = ["AchWriter", "BatchSpec", "FileSpec", "Payment", "check_digit", "dumps",
           "immediate_destination", "immediate_origin", "service_class_for", "write"]
