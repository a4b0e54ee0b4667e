"""CDP writer: the outbound ``debit`` file, and any file type for tests and simulators.

The writer tabulates the 9999 controls itself (the only step that computes
data) and streams: payments may be a generator. Every record is encoded through
the layout and checked; if any payment is bad the writer still goes through the
rest and then raises one :class:`FormatError` with every issue, so the caller
(which writes to a temporary name) discards the file and reports all problems.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import IO

from formats.checkfree.batch_header import BatchHeader, Payee
from formats.checkfree.codec import Value, encode, record_name
from formats.checkfree.detail import ACTION_ADD, Detail
from formats.checkfree.file_header import FileHeader
from formats.checkfree.file_trailer import FileTrailer
from formats.checkfree.layout import Layout, Role, default_layout
from formats.checkfree.names import build_name
from formats.errors import FormatError, Issue, IssueCode, IssueList

CRLF = b"\r\n"


@dataclass(frozen=True, slots=True)
class DebitPayment:
    """One scheduled check payment going to CheckFree (action code ADD)."""

    transaction_id: str
    account_number: str  #: the biller account being paid
    amount: int  #: cents, > 0
    payment_date: date
    routing_number: str
    bank_account: str
    account_type: str  #: C checking, S savings
    payer_name: str = ""
    reference: str = ""

    def to_detail(self) -> Detail:
        return Detail(transaction_id=self.transaction_id, amount=self.amount,
                      account_number=self.account_number, reference=self.reference,
                      payment_date=self.payment_date,
                      routing_number=self.routing_number, bank_account=self.bank_account,
                      account_type=self.account_type, payer_name=self.payer_name, action_code=ACTION_ADD)


@dataclass(frozen=True, slots=True)
class DebitBatch:
    effective_date: date
    payments: Iterable[DebitPayment]


@dataclass(frozen=True, slots=True)
class DebitHeader:
    """The gateway settings that go into every debit file (seed 001 "CheckFree Gateway Parameters")."""

    system: str  #: "test" or "prod" (file transmission mode)
    ftp_user: str
    created: datetime
    file_seq: int
    client_id: str
    sender_id: str
    payee: Payee

    @property
    def file_name(self) -> str:
        return build_name(self.system, self.ftp_user, "debit", self.created)


@dataclass(frozen=True, slots=True)
class Controls:
    record_count: int
    detail_count: int
    total_amount: int


def write_debit(out: IO[bytes], header: DebitHeader, batches: Iterable[DebitBatch], *,
                layout: Layout | None = None, line_ending: bytes = CRLF) -> Controls:
    """Write a debit file; no batches gives the empty file (0000, one 3000, 9999)."""
    layout = layout or default_layout()
    fh = FileHeader(file_type=layout.file_type_codes["debit"], system=header.system, ftp_user=header.ftp_user,
                    created=header.created, file_seq=header.file_seq, client_id=header.client_id,
                    sender_id=header.sender_id)

    def typed() -> Iterable[tuple[BatchHeader, Iterable[Detail]]]:
        any_batch = False
        for no, b in enumerate(batches, start=1):
            any_batch = True
            yield (BatchHeader(batch_no=no, effective_date=b.effective_date, payee_number=header.payee.number,
                               payee=header.payee), (p.to_detail() for p in b.payments))
        if not any_batch:
            yield (BatchHeader(batch_no=1, effective_date=header.created.date(),
                               payee_number=header.payee.number, payee=header.payee), ())

    return write_file(out, "debit", fh, typed(), layout=layout, line_ending=line_ending)


def write_file(out: IO[bytes], file_type: str, header: FileHeader,
               batches: Iterable[tuple[BatchHeader, Iterable[Detail]]], *, layout: Layout | None = None,
               line_ending: bytes = CRLF) -> Controls:
    """Write any CDP file type from typed records; the trailer is tabulated here."""
    layout = layout or default_layout()
    issues = IssueList()
    records = details = total = 0
    seen: set[str] = set()
    n = 0

    def emit(role: Role, values: dict[str, Value], extra: tuple[Issue, ...] = ()) -> bool:
        nonlocal records, n
        rl = layout.record(role, file_type)
        line, found = encode(rl, values, layout.record_length)
        n += 1
        issues.extend(_located([*found, *extra], n))
        if found or extra:
            return False
        out.write(line.encode("ascii") + line_ending)
        records += 1
        return True

    emit(Role.HEADER, header.to_values())
    for bh, entries in batches:
        emit(Role.BATCH, bh.to_values())
        for d in entries:
            values = d.to_values()
            extra: list[Issue] = []
            rl = layout.record(Role.DETAIL, file_type)
            if file_type == "debit":
                if d.amount <= 0:
                    extra.append(Issue(code=IssueCode.BAD_AMOUNT, reason="a debit must be more than zero",
                                       record=record_name(rl), field="amount", value=str(d.amount)))
                if d.transaction_id and d.transaction_id in seen:
                    extra.append(Issue(code=IssueCode.DUPLICATE_TRANSACTION, reason="transaction id used twice",
                                       record=record_name(rl), field="transaction_id", value=d.transaction_id))
                seen.add(d.transaction_id)
            if emit(Role.DETAIL, values, tuple(extra)):
                details += 1
                total += d.amount
    trailer = FileTrailer(record_count=records + 1, detail_count=details, total_amount=total)
    emit(Role.TRAILER, trailer.to_values())
    issues.raise_if_errors(f"{file_type} file")
    return Controls(record_count=records, detail_count=details, total_amount=total)


def _located(found: list[Issue], n: int) -> list[Issue]:
    """Encoding issues carry the record's line number in the file being written."""
    return [replace(i, line=n) for i in found]


__all__ = ["CRLF", "Controls", "DebitBatch", "DebitHeader", "DebitPayment", "FormatError", "write_debit",
           "write_file"]
