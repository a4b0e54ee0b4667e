"""Streaming CDP reader: records in file order, issues collected, controls checked.

``CdpReader`` yields one typed entry per 4000 record and keeps only counters, so
memory does not grow with the file. The header is available first
(:meth:`CdpReader.read_header`) so a handler can compare the client id with the
payee's setting before applying anything. Parsing and validation run together
but never stop at the first problem: every issue of the file is reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from formats.checkfree.batch_header import BatchHeader
from formats.checkfree.codec import decode, record_name
from formats.checkfree.detail import Detail
from formats.checkfree.file_header import FileHeader
from formats.checkfree.file_trailer import FileTrailer
from formats.checkfree.inbound import Entry, interpret
from formats.checkfree.layout import Layout, Role, default_layout
from formats.checkfree.names import CdpName
from formats.errors import Issue, IssueCode, IssueList, Severity

#: guard against runaway input (a wrong file fed to the reader)
MAX_RECORDS = 5_000_000


@dataclass
class Batch:
    header: BatchHeader
    entries: list[Entry] = field(default_factory=list)


@dataclass
class CdpFile:
    """A whole file in memory: for the CLI, tests and small inbound files."""

    file_type: str | None
    header: FileHeader | None
    batches: list[Batch]
    trailer: FileTrailer | None
    issues: IssueList
    records: int
    counts: dict[str, int]
    total_amount: int

    @property
    def client_id(self) -> str | None:
        return self.header.client_id if self.header else None

    @property
    def ok(self) -> bool:
        return not self.issues.errors

    def entries(self) -> Iterator[Entry]:
        for b in self.batches:
            yield from b.entries


class CdpReader:
    """Iterate the entries of one CDP file; ``issues`` and the totals are complete after the loop.

    Parameters:
        stream: binary stream positioned at the start of the file.
        layout: the record layout (default: the shipped stand-in).
        expected_type: the type from the file name; the header must agree.
        expected_name: the parsed file name; system, FTP user and time must agree with the header.
    """

    def __init__(self, stream: IO[bytes], *, layout: Layout | None = None, expected_type: str | None = None,
                 expected_name: CdpName | None = None, max_records: int = MAX_RECORDS) -> None:
        self.layout = layout or default_layout()
        self.expected_type = expected_type or (expected_name.file_type if expected_name else None)
        self.expected_name = expected_name
        self.max_records = max_records
        self.issues = IssueList()
        self.header: FileHeader | None = None
        self.trailer: FileTrailer | None = None
        self.file_type: str | None = self.expected_type
        self.batch: BatchHeader | None = None
        self.records = 0
        self.counts: dict[str, int] = {}
        self.total_amount = 0
        self.finished = False
        self._lines = _records(stream, self.layout.record_length, self.issues)
        self._pending: tuple[int, str] | None = None
        self._header_read = False
        self._debit_ids: set[str] = set()
        self._amount_unknown = False

    # -- public -----------------------------------------------------------------------------------------

    def read_header(self) -> FileHeader | None:
        """Read up to and including the 0000 record; ``None`` when the file has none."""
        if self._header_read:
            return self.header
        self._header_read = True
        for lineno, line in self._lines:
            if not line.strip():
                continue
            code = self._code(line)
            if code != self.layout.codes[Role.HEADER]:
                self.issues.add(Issue(code=IssueCode.MISPLACED_RECORD,
                                      reason="the file must start with a 0000 record", line=lineno,
                                      record=code, columns=self.layout.record_type, value=code,
                                      expected=self.layout.codes[Role.HEADER], found=code))
                self._pending = (lineno, line)
                return None
            self._count(code)
            self._header(lineno, line)
            return self.header
        self.issues.add(Issue(code=IssueCode.EMPTY_FILE, reason="the file has no records"))
        self.finished = True
        return None

    def __iter__(self) -> Iterator[Entry]:
        for item in self.records_and_batches():
            if not isinstance(item, BatchHeader):
                yield item

    def records_and_batches(self) -> Iterator[BatchHeader | Entry]:
        """Like iterating, but also yields each 3000 batch header where it occurs."""
        self.read_header()
        if self.finished:
            return
        if self._pending is not None:
            pending, self._pending = self._pending, None
            yield from self._one(*pending)
        for lineno, line in self._lines:
            if not line.strip():
                self.issues.add(Issue(code=IssueCode.BLANK_LINE, reason="blank line skipped", line=lineno,
                                      severity=Severity.WARNING))
                continue
            if self.records >= self.max_records:
                self.issues.add(Issue(code=IssueCode.TOO_MANY_RECORDS, reason=f"more than {self.max_records} records",
                                      line=lineno))
                break
            yield from self._one(lineno, line)
        self._finish()

    # -- internals -----------------------------------------------------------------------------------------

    def _code(self, line: str) -> str:
        a, b = self.layout.record_type
        return line[a - 1:b]

    def _count(self, code: str) -> None:
        self.records += 1
        self.counts[code] = self.counts.get(code, 0) + 1

    def _one(self, lineno: int, line: str) -> Iterator[BatchHeader | Entry]:
        code = self._code(line)
        role = self.layout.role_of(code)
        self._count(code)

        def at(issue_code: IssueCode, reason: str, expected: str | None = None) -> Issue:
            return Issue(code=issue_code, reason=reason, line=lineno, record=code,
                         columns=self.layout.record_type, value=code, expected=expected,
                         found=code if expected else None)

        if self.trailer is not None:
            self.issues.add(at(IssueCode.RECORD_AFTER_TRAILER, "records after the 9999 trailer"))
            return
        if role is None:
            self.issues.add(at(IssueCode.UNKNOWN_RECORD, f"unknown record type {code!r}",
                               expected="|".join(self.layout.codes.values())))
            return
        if role is Role.HEADER:
            self.issues.add(at(IssueCode.MISPLACED_RECORD, "a second 0000 header"))
            return
        rl = self.layout.record(role, self.file_type)
        values, issues = decode(rl, line, lineno=lineno)
        self.issues.extend(issues)
        if role is Role.BATCH:
            self.batch = BatchHeader.from_values(values, lineno)
            yield self.batch
            return
        if role is Role.TRAILER:
            self.trailer = FileTrailer.from_values(values, lineno)
            return
        detail = Detail.from_values(values, lineno)
        if self.batch is None:
            self.issues.add(at(IssueCode.DETAIL_OUTSIDE_BATCH, "a 4000 record before any 3000 batch"))
        self.total_amount += detail.amount
        if any(i.field == "amount" for i in issues):
            self._amount_unknown = True
        if self.file_type == "debit":
            if detail.transaction_id and detail.transaction_id in self._debit_ids:
                f = rl.by_name("transaction_id")
                self.issues.add(Issue(code=IssueCode.DUPLICATE_TRANSACTION, reason="transaction id used twice",
                                      line=lineno, record=record_name(rl), field="transaction_id",
                                      columns=f.columns if f else None, value=detail.transaction_id))
            self._debit_ids.add(detail.transaction_id)
            if detail.amount <= 0 and not issues:
                f = rl.by_name("amount")
                self.issues.add(Issue(code=IssueCode.BAD_AMOUNT, reason="a debit must be more than zero", line=lineno,
                                      record=record_name(rl), field="amount",
                                      columns=f.columns if f else None, value=str(detail.amount)))
        entry, more = interpret(self.layout, self.file_type or "", detail)
        self.issues.extend(more)
        yield entry

    def _header(self, lineno: int, line: str) -> None:
        rl = self.layout.record(Role.HEADER, self.expected_type)
        values, issues = decode(rl, line, lineno=lineno)
        self.issues.extend(issues)
        self.header = h = FileHeader.from_values(values, lineno)
        found_type = self.layout.file_type_of(h.file_type)
        ftf = rl.by_name("file_type")
        if found_type is not None and self.expected_type is not None and found_type != self.expected_type:
            self.issues.add(Issue(code=IssueCode.TYPE_MISMATCH, reason="the header's file type differs from the name",
                                  line=lineno, record=record_name(rl), field="file_type",
                                  columns=ftf.columns if ftf else None, value=h.file_type,
                                  expected=self.layout.file_type_codes[self.expected_type],
                                  found=h.file_type))
        self.file_type = found_type or self.expected_type
        n = self.expected_name
        if n is None:
            return
        for fname, want, got in (("system", n.system, h.system), ("ftp_user", n.ftp_user, h.ftp_user),
                                 ("created", n.created, h.created)):
            f = rl.by_name(fname)
            if want != got and not any(i.field == fname for i in issues):
                self.issues.add(Issue(code=IssueCode.NAME_MISMATCH, reason=f"{fname} differs from the file name",
                                      line=lineno, record=record_name(rl), field=fname,
                                      columns=f.columns if f else None, value=str(got), expected=str(want),
                                      found=str(got)))

    def _finish(self) -> None:
        self.finished = True
        t = self.trailer
        if self.header is None:
            return
        if t is None:
            self.issues.add(Issue(code=IssueCode.MISSING_TRAILER, reason="the file has no 9999 trailer"))
            return
        if self.batch is None:
            self.issues.add(Issue(code=IssueCode.MISSING_BATCH, reason="the file has no 3000 batch header"))
        rl = self.layout.record(Role.TRAILER, self.file_type)
        details = self.counts.get(self.layout.codes[Role.DETAIL], 0)
        for fname, control, computed in (("record_count", t.record_count, self.records),
                                         ("detail_count", t.detail_count, details),
                                         ("total_amount", t.total_amount, self.total_amount)):
            f = rl.by_name(fname)
            already = any(i.line == t.line and i.field == fname for i in self.issues.issues)
            if fname == "total_amount" and self._amount_unknown:
                continue
            if control != computed and not already:
                self.issues.add(Issue(code=IssueCode.CONTROL_MISMATCH,
                                      reason=f"{fname} {control} in the trailer, {computed} in the file",
                                      line=t.line, record=record_name(rl), field=fname,
                                      columns=f.columns if f else None, value=str(control),
                                      expected=str(computed), found=str(control)))


def read_file(stream: IO[bytes], *, layout: Layout | None = None, expected_type: str | None = None,
              expected_name: CdpName | None = None) -> CdpFile:
    """Read a whole file into memory (batches with their entries)."""
    reader = CdpReader(stream, layout=layout, expected_type=expected_type, expected_name=expected_name)
    batches: list[Batch] = []
    for item in reader.records_and_batches():
        if isinstance(item, BatchHeader):
            batches.append(Batch(item))
        else:
            if not batches:
                batches.append(Batch(BatchHeader(batch_no=0, effective_date=None)))
            batches[-1].entries.append(item)
    return CdpFile(file_type=reader.file_type, header=reader.header, batches=batches, trailer=reader.trailer,
                   issues=reader.issues, records=reader.records, counts=dict(reader.counts),
                   total_amount=reader.total_amount)


def _records(stream: IO[bytes], reclen: int, issues: IssueList) -> Iterator[tuple[int, str]]:
    """(line number, record padded to ``reclen``); tolerates CRLF, LF, short lines and no line breaks."""
    limit = 2 * reclen + 2
    lineno = 0
    first = True
    while True:
        chunk = stream.readline(limit)
        if not chunk:
            return
        if first and not chunk.endswith(b"\n") and len(chunk) == limit:
            issues.add(Issue(code=IssueCode.NO_LINE_BREAKS, reason=f"no line breaks: split every {reclen} bytes",
                             line=1, severity=Severity.WARNING))
            buf = chunk
            while True:
                more = stream.read(reclen * 256)
                buf += more
                while len(buf) >= reclen or (not more and buf):
                    lineno += 1
                    yield lineno, _text(lineno, buf[:reclen], reclen, issues)
                    buf = buf[reclen:]
                if not more:
                    return
        first = False
        lineno += 1
        if not chunk.endswith(b"\n") and len(chunk) == limit:
            while True:
                rest = stream.readline(limit)
                if not rest or rest.endswith(b"\n"):
                    break
        yield lineno, _text(lineno, chunk.rstrip(b"\r\n"), reclen, issues)


def _text(lineno: int, raw: bytes, reclen: int, issues: IssueList) -> str:
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as exc:
        issues.add(Issue(code=IssueCode.NON_ASCII, reason="the record has non-ASCII bytes", line=lineno,
                         columns=(exc.start + 1, exc.start + 1), value=raw[exc.start:exc.start + 1].hex()))
        text = raw.decode("ascii", errors="replace").replace("\ufffd", "?")
    if not text.strip():
        return ""
    if len(text) > reclen:
        if text[reclen:].strip():
            issues.add(Issue(code=IssueCode.LONG_LINE, reason=f"record longer than {reclen} characters", line=lineno,
                             columns=(reclen + 1, len(text)), value=text[reclen:reclen + 20],
                             expected=str(reclen), found=str(len(text))))
        text = text[:reclen]
    elif len(text) < reclen:
        issues.add(Issue(code=IssueCode.SHORT_LINE, reason=f"record shorter than {reclen} characters, padded",
                         line=lineno, expected=str(reclen), found=str(len(text)), severity=Severity.WARNING))
        text = text.ljust(reclen)
    return text
