"""Streaming NACHA reader: records in, typed records and every issue out, bounded memory.

:class:`AchReader` reads a binary stream in 1 MiB chunks and never keeps more than
one batch's bookkeeping and one pending entry, so a 1,000,000-entry return file
can be applied entry by entry::

    reader = AchReader(stream, policy)
    for batch_header, entry in reader.entries():
        apply(batch_header, entry)          # entry.return_result / entry.noc_result
    reader.raise_if_errors()                # FormatError with every issue of the file

It accepts what banks really send (LF, CRLF, CR, no line breaks at all, short or
blank-padded lines, blank lines, a UTF-8 BOM, missing 9-fill), each tolerance
counted once as a warning, and enforces record order. Validation happens while
reading: the same pass checks fields, SEC rules and control totals.

Entry records of supported SEC codes go through a fast path: one precompiled
regex slices and checks every field in C; anything unusual falls back to the
record module's ``check``, which names the exact field and columns.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import BinaryIO

from formats.errors import FormatError, Issue, IssueCode, IssueList, Severity
from formats.nacha import codes
from formats.nacha.model import AchFile, Addenda, Batch, Entry
from formats.nacha.policy import DEFAULT, ValidationPolicy
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
from formats.nacha.records._base import RECORD_LENGTH
from formats.nacha.records.batch_control import BatchControl
from formats.nacha.records.batch_header import BatchHeader
from formats.nacha.records.file_control import FileControl
from formats.nacha.records.file_header import FileHeader
from formats.nacha.routing import is_valid
from formats.nacha.sec import RULES, SecRule

CHUNK_BYTES = 1 << 20
#: a "line" longer than this has no line breaks: split it every 94 bytes
MAX_LINE_BYTES = 1 << 16
#: routing numbers remembered as valid (bounded, so memory does not grow with the file)
ROUTING_CACHE_SIZE = 50_000
BOM = b"\xef\xbb\xbf"
#: leading bytes of compressed containers banks send by mistake: named, never read as records
COMPRESSED = {b"\x1f\x8b": "gzip-compressed", b"PK\x03\x04": "zip archive", b"BZh": "bzip2-compressed"}
FILLER = b"9" * RECORD_LENGTH
HASH_MODULUS = 10**10
_BLANK_ACCOUNT = b" " * 17
_FIELDS_ENTRY_DETAIL = {f.name: f for f in entry_detail.FIELDS}
_FIELDS_BATCH_CONTROL = {f.name: f for f in batch_control.FIELDS}
_FIELDS_FILE_CONTROL = {f.name: f for f in file_control.FIELDS}
#: IAT batch headers carry a foreign exchange indicator in 21-22
_IAT_FOREIGN_EXCHANGE = frozenset({"FV", "VF", "FF"})

Record = FileHeader | BatchHeader | Entry | BatchControl | FileControl


@dataclass
class Summary:
    """What a file contains, counted while streaming (amounts in cents)."""

    batches: int = 0
    entries: int = 0
    addenda: int = 0
    debit_total: int = 0
    credit_total: int = 0
    returns: int = 0
    nocs: int = 0


@dataclass
class _Tolerance:
    reason: str
    line: int | None
    count: int = 0


@dataclass
class _BatchState:
    line: int
    sec: str
    rule: SecRule | None
    service_class: int | None
    company_id: str
    odfi: bytes
    number: int | None
    header: BatchHeader | None
    #: fast path: transaction code bytes -> is a debit (codes with zero amounts take the slow path)
    fast_tx: dict[bytes, bool] | None
    count: int = 0
    hash: int = 0
    debit: int = 0
    credit: int = 0
    last_trace: bytes = b""


@dataclass
class _EntryState:
    line: int
    trace: str
    detail: entry_detail.EntryDetail | None
    ctx_count: int | None = None
    n05: int = 0
    n98: int = 0
    n99: int = 0
    other: int = 0
    addenda: list[Addenda] = field(default_factory=list)


def _fast_tx_map(rule: SecRule, service_class: int | None) -> dict[bytes, bool]:
    return {b"%02d" % tx: tx in codes.DEBIT_CODES for tx in codes.TRANSACTION_CODES
            if rule.allows(tx) and _class_allows(service_class, tx) and tx not in codes.ZERO_AMOUNT_CODES}


def _class_allows(service_class: int | None, tx: int) -> bool:
    if service_class == codes.SERVICE_CLASS_CREDITS:
        return tx in codes.CREDIT_CODES
    if service_class == codes.SERVICE_CLASS_DEBITS:
        return tx in codes.DEBIT_CODES
    return True


class AchReader:
    """One pass over one file. Iterate it for ``(line, record)``; issues are complete after.

    With ``typed=False`` nothing is yielded: the pass only validates and counts
    (the ``spoolgate ach validate`` path).
    """

    def __init__(self, stream: BinaryIO, policy: ValidationPolicy = DEFAULT, *, typed: bool = True,
                 max_errors: int = 1000) -> None:
        self._stream = stream
        self.policy = policy
        self.typed = typed
        self.summary = Summary()
        self.issues = IssueList(max_errors=max_errors)
        self.error_count = 0
        self._tolerated: dict[IssueCode, _Tolerance] = {}
        self._routing_ok: set[bytes] = set()
        self._any_record = False
        self._header_seen = False
        self._control_seen = False
        self._filler_seen = False
        self._after_end_reported = False
        self._batch: _BatchState | None = None
        self._entry: _EntryState | None = None
        self._last_batch_number: int | None = None
        self._records = 0
        self._filler = 0
        self._f_count = 0
        self._f_hash = 0
        self._f_debit = 0
        self._f_credit = 0
        self._f_unverifiable = False
        self._done = False
        self._compressed = False
        self.file_header: FileHeader | None = None
        self.file_control: FileControl | None = None

    # ------------------------------------------------------------------ results

    @property
    def errors(self) -> list[Issue]:
        return self.issues.errors

    @property
    def warnings(self) -> list[Issue]:
        out = []
        for code, t in self._tolerated.items():
            reason = t.reason if t.count == 1 else f"{t.reason} ({t.count} times)"
            out.append(Issue(code=code, reason=reason, line=t.line, severity=Severity.WARNING))
        return out

    @property
    def ok(self) -> bool:
        return self._done and self.error_count == 0

    def raise_if_errors(self) -> None:
        if self.error_count:
            errs = self.errors
            raise FormatError(f"ACH file is invalid ({self.error_count} errors): {errs[0]}", errs,
                              self.warnings)

    def __iter__(self) -> Iterator[tuple[int, Record]]:
        return self._run()

    def entries(self) -> Iterator[tuple[BatchHeader, Entry]]:
        """Entries with their batch header, streamed (the header is that of the open batch)."""
        current: BatchHeader | None = None
        for _, rec in self:
            if isinstance(rec, BatchHeader):
                current = rec
            elif isinstance(rec, Entry) and current is not None:
                yield current, rec

    def validate(self) -> AchReader:
        """Run the whole pass without building records; returns self for chaining."""
        self.typed = False
        for _ in self._run():
            pass
        return self

    # ------------------------------------------------------------------ issues

    def _err(self, issue: Issue) -> None:
        self.error_count += 1
        self.issues.add(issue)

    def _errs(self, issues: list[Issue]) -> None:
        for i in issues:
            self._err(i)

    def _error(self, code: IssueCode, reason: str, line: int | None, record: str | None = None, *,
               field_name: str | None = None, columns: tuple[int, int] | None = None,
               value: str | None = None, expected: str | None = None, found: str | None = None) -> None:
        self._err(Issue(code=code, reason=reason, line=line, record=record, field=field_name,
                        columns=columns, value=value, expected=expected, found=found))

    def _tolerate(self, code: IssueCode, reason: str, line: int | None) -> None:
        t = self._tolerated.get(code)
        if t is None:
            t = self._tolerated[code] = _Tolerance(reason, line)
        t.count += 1

    # ------------------------------------------------------------------ lines

    def _chunks(self) -> Iterator[list[bytes]]:
        """Lists of raw records (EOL removed except a CR before LF), read in 1 MiB chunks."""
        read = self._stream.read
        data: bytes = read(CHUNK_BYTES)
        if data.startswith(BOM):
            data = data[len(BOM):]
            self._tolerate(IssueCode.BOM, "UTF-8 byte-order mark ignored", 1)
        if not data:
            return
        for magic, what in COMPRESSED.items():
            if data.startswith(magic):
                self._compressed = True
                self._error(IssueCode.COMPRESSED, f"{what}: decompress first", 1, columns=(1, len(magic)),
                            value=data[:len(magic)].hex(), expected="NACHA text records", found=what)
                return
        nl = data.find(b"\n")
        cr = data.find(b"\r")
        first_len = nl - 1 if 0 < nl == cr + 1 else nl
        if nl >= 0 and (cr < 0 or cr >= nl - 1) and not (
                first_len > RECORD_LENGTH and first_len % RECORD_LENGTH == 0):
            sep = b"\n"
            if cr >= 0:
                self._tolerate(IssueCode.CRLF, "CRLF line endings", None)
        elif cr >= 0 and (nl < 0 or cr < nl) and not (cr > RECORD_LENGTH and cr % RECORD_LENGTH == 0):
            sep = b"\r"
            self._tolerate(IssueCode.CR, "CR line endings", None)
        else:
            sep = b""
            if len(data) > RECORD_LENGTH + 2:
                self._tolerate(IssueCode.NO_LINE_BREAKS, "no line breaks: records split every 94 bytes", None)
        carry = b""
        while data:
            buf = carry + data if carry else data
            if sep:
                parts = buf.split(sep)
                carry = parts.pop()
                if len(carry) > MAX_LINE_BYTES:
                    self._tolerate(IssueCode.NO_LINE_BREAKS, "no line breaks: records split every 94 bytes", None)
                    n = len(carry) // RECORD_LENGTH * RECORD_LENGTH
                    parts.extend(carry[i:i + RECORD_LENGTH] for i in range(0, n, RECORD_LENGTH))
                    carry = carry[n:]
                yield parts
            else:
                buf = buf.replace(b"\r", b"").replace(b"\n", b"") if b"\n" in buf or b"\r" in buf else buf
                n = len(buf) // RECORD_LENGTH * RECORD_LENGTH
                yield [buf[i:i + RECORD_LENGTH] for i in range(0, n, RECORD_LENGTH)]
                carry = buf[n:]
            data = read(CHUNK_BYTES)
        if carry:
            yield [carry]

    def _text(self, lineno: int, raw: bytes) -> str | None:
        """One record as exactly 94 characters, or None for a blank line."""
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            if self.policy.allow_special_characters:
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    text = raw.decode("cp1252", errors="replace")
            else:
                text = raw.decode("latin-1")
        if len(text) == RECORD_LENGTH:
            return text
        if not text.strip():
            self._tolerate(IssueCode.BLANK_LINE, "blank line skipped", lineno)
            return None
        if len(text) < RECORD_LENGTH:
            self._tolerate(IssueCode.SHORT_LINE, "short line padded with blanks to 94 characters", lineno)
            return text.ljust(RECORD_LENGTH)
        if not text[RECORD_LENGTH:].strip():
            self._tolerate(IssueCode.LONG_LINE, "trailing blanks after column 94 trimmed", lineno)
        else:
            self._error(IssueCode.RECORD_LENGTH, "record is longer than 94 characters", lineno,
                        columns=(RECORD_LENGTH + 1, len(text)), value=text[RECORD_LENGTH:][:20],
                        expected="94", found=str(len(text)))
        return text[:RECORD_LENGTH]

    # ------------------------------------------------------------------ the pass

    def _run(self) -> Iterator[tuple[int, Record]]:
        if self._done:
            raise RuntimeError("an AchReader reads its stream once")
        routing_ok = self._routing_ok
        learn = self._learn_routing if not self.policy.allow_invalid_check_digit else (lambda _rt: True)
        custom_trace = self.policy.custom_trace_numbers
        typed = self.typed
        from_line = entry_detail.from_line
        lineno = 0
        d_debit = d_credit = d_hash = d_n = 0
        last_trace = b""
        fast = None
        fast_tx: dict[bytes, bool] = {}
        for lines in self._chunks():
            for raw in lines:
                lineno += 1
                if fast is not None:
                    m = fast(raw)
                    if m is not None:
                        tx, rt, amt, trace = m.groups()
                        debit = fast_tx.get(tx)
                        if (debit is not None and (custom_trace or trace > last_trace)
                                and (rt in routing_ok or learn(rt))):
                            if debit:
                                d_debit += int(amt)
                            else:
                                d_credit += int(amt)
                            d_hash += int(rt) // 10
                            d_n += 1
                            last_trace = trace
                            if typed:
                                yield lineno, Entry(from_line(raw[:RECORD_LENGTH].decode()), (), lineno)
                            continue
                # slow path: hand the fast path's running totals to the batch first
                b = self._batch
                if b is not None:
                    if d_n:
                        b.debit += d_debit
                        b.credit += d_credit
                        b.hash += d_hash
                        b.count += d_n
                        s = self.summary
                        s.entries += d_n
                        s.debit_total += d_debit
                        s.credit_total += d_credit
                        self._records += d_n
                        d_debit = d_credit = d_hash = d_n = 0
                    b.last_trace = last_trace
                out = self._record(lineno, raw)
                if out is not None and typed:
                    yield from out
                b = self._batch
                if b is not None and self._entry is None and b.fast_tx is not None:
                    fast_tx = b.fast_tx
                    last_trace = b.last_trace
                    fast = entry_detail.fast_pattern(
                        None if custom_trace else b.odfi,
                        bool(b.rule and b.rule.name_required and not self.policy.allow_empty_individual_name),
                    ).fullmatch
                else:
                    fast = None
        b = self._batch
        if b is not None and d_n:
            b.debit += d_debit
            b.credit += d_credit
            b.hash += d_hash
            b.count += d_n
            self.summary.entries += d_n
            self.summary.debit_total += d_debit
            self.summary.credit_total += d_credit
            self._records += d_n
        if self._compressed:
            self._done = True
            return
        out = self._finish(lineno)
        if typed:
            yield from out
        self._done = True

    def _learn_routing(self, routing: bytes) -> bool:
        if not is_valid(routing.decode("ascii")):
            return False
        if len(self._routing_ok) >= ROUTING_CACHE_SIZE:
            self._routing_ok.clear()
        self._routing_ok.add(routing)
        return True

    def _record(self, lineno: int, raw: bytes) -> list[tuple[int, Record]] | None:
        text = self._text(lineno, raw)
        if text is None:
            return None
        rt = text[0]
        if text == "9" * RECORD_LENGTH:
            self._filler_record(lineno)
            return None
        if self._control_seen or self._filler_seen:
            if not self._after_end_reported:
                self._after_end_reported = True
                self._error(IssueCode.AFTER_FILE_CONTROL, "records after the file control record", lineno,
                            expected="only 9-filler records")
            return None
        if not self._any_record and rt != "1" and not self.policy.allow_missing_file_header:
            self._error(IssueCode.MISSING_FILE_HEADER, "file does not start with a file header record", lineno,
                        expected="record type 1", found=rt)
        self._any_record = True
        out: list[tuple[int, Record]] = []
        if rt == "6":
            self._close_entry(out)
            self._entry_record(lineno, text, out)
        elif rt == "7":
            self._addenda_record(lineno, text)
        elif rt == "5":
            self._close_entry(out)
            self._batch_header(lineno, text, out)
        elif rt == "8":
            self._close_entry(out)
            self._batch_control(lineno, text, out)
        elif rt == "1":
            self._file_header(lineno, text, out)
        elif rt == "9":
            self._close_entry(out)
            self._file_control(lineno, text, out)
        else:
            self._error(IssueCode.UNKNOWN_RECORD_TYPE, "unknown record type", lineno, columns=(1, 1), value=rt,
                        expected="1, 5, 6, 7, 8 or 9", found=rt)
        return out

    # ------------------------------------------------------------------ record handlers

    def _file_header(self, lineno: int, text: str, out: list[tuple[int, Record]]) -> None:
        self._records += 1
        if self._header_seen or self._records > 1:
            self._error(IssueCode.MISPLACED_FILE_HEADER, "file header record is not the first record", lineno,
                        file_header.NAME)
            return
        self._header_seen = True
        p = self.policy
        issues = file_header.check(text, lineno=lineno, bypass_destination=p.bypass_destination_validation,
                                   bypass_origin=p.bypass_origin_validation,
                                   allow_special_characters=p.allow_special_characters)
        self._errs(issues)
        if not any(i.code is IssueCode.NON_NUMERIC for i in issues):
            self.file_header = file_header.from_line(text)
            out.append((lineno, self.file_header))

    def _batch_header(self, lineno: int, text: str, out: list[tuple[int, Record]]) -> None:
        self._records += 1
        if self._batch is not None:
            self._missing_batch_control(lineno)
        p = self.policy
        sec = text[50:53]
        rule = RULES.get(sec)
        if rule is not None and text[20:22] in _IAT_FOREIGN_EXCHANGE:
            rule = None  # an IAT-layout batch (e.g. IAT NOCs under SEC COR)
        if rule is None:
            # other SEC codes lay the header out differently: only the SEC code is reported
            sec_field = batch_header.FIELDS[5]
            known = sec in codes.KNOWN_SEC
            reason = f"SEC code {sec} not supported" if known else f"unknown SEC code {sec}"
            if known and sec in RULES:
                reason = f"SEC code {sec} with the IAT batch layout not supported"
            self._err(sec_field.issue(IssueCode.UNSUPPORTED_SEC if known else IssueCode.UNKNOWN_SEC, reason, sec,
                                      line=lineno, record=batch_header.NAME,
                                      expected=", ".join(sorted(codes.SUPPORTED_SEC))))
            issues = [i for i in batch_header.check(text, lineno=lineno, allow_special_characters=True)
                      if i.field in ("record_type", "service_class_code", "batch_number")]
        else:
            issues = batch_header.check(text, lineno=lineno,
                                        allow_special_characters=p.allow_special_characters)
        self._errs(issues)
        bad = {i.field for i in issues}
        service_class = int(text[1:4]) if "service_class_code" not in bad else None
        number = int(text[87:94]) if "batch_number" not in bad else None
        if number is not None and not p.allow_unordered_batch_numbers:
            if self._last_batch_number is not None and number <= self._last_batch_number:
                self._err(batch_header.FIELDS[-1].issue(
                    IssueCode.BATCH_NUMBER_ORDER, "batch numbers must ascend", text[87:94], line=lineno,
                    record=batch_header.NAME, expected=f"> {self._last_batch_number:07d}"))
            self._last_batch_number = number
        header = None
        if not bad.intersection({"service_class_code", "batch_number"}):
            header = batch_header.from_line(text)
            out.append((lineno, header))
        fast = None
        if (rule is not None and not rule.counted_addenda and not rule.notification_of_change
                and "odfi_identification" not in bad):
            fast = _fast_tx_map(rule, service_class)
        self._batch = _BatchState(lineno, sec, rule, service_class, text[40:50],
                                  text[79:87].encode("utf-8"), number, header, fast)
        self.summary.batches += 1

    def _entry_record(self, lineno: int, text: str, out: list[tuple[int, Record]]) -> None:
        self._records += 1
        b = self._batch
        if b is None:
            self._error(IssueCode.ENTRY_OUTSIDE_BATCH, "entry detail record outside a batch", lineno,
                        entry_detail.NAME, expected="a batch header before it")
            return
        b.count += 1
        self.summary.entries += 1
        rule = b.rule
        if rule is None:
            return
        p = self.policy
        issues = entry_detail.check(text, lineno=lineno, allow_special_characters=p.allow_special_characters,
                                    allow_invalid_check_digit=p.allow_invalid_check_digit)
        bad = {i.field for i in issues}
        F = {f.name: f for f in entry_detail.FIELDS}

        def add(name: str, code: IssueCode, reason: str, expected: str) -> None:
            f = F[name]
            issues.append(f.issue(code, reason, text[f.start - 1:f.end], line=lineno,
                                  record=entry_detail.NAME, expected=expected))

        tx = int(text[1:3]) if "transaction_code" not in bad else None
        amount = int(text[29:39]) if "amount" not in bad else None
        if tx is not None and tx in codes.TRANSACTION_CODES:
            if not rule.allows(tx):
                add("transaction_code", IssueCode.SEC_TRANSACTION_CODE,
                    f"{b.sec} does not allow transaction code {tx:02d}",
                    "a return/NOC code" if rule.notification_of_change
                    else ("debit codes" if not rule.credits else "credit codes"))
            elif not _class_allows(b.service_class, tx):
                add("transaction_code", IssueCode.SERVICE_CLASS_MISMATCH,
                    f"service class {b.service_class} does not allow transaction code {tx:02d}",
                    "credits only" if b.service_class == codes.SERVICE_CLASS_CREDITS else "debits only")
            if amount:
                if tx in codes.PRENOTE_CODES:
                    add("amount", IssueCode.PRENOTE_AMOUNT, "prenote amount must be zero", "0000000000")
                elif tx in codes.ZERO_DOLLAR_CODES:
                    add("amount", IssueCode.ZERO_DOLLAR_AMOUNT, "zero-dollar entry amount must be zero", "0000000000")
                elif rule.notification_of_change:
                    add("amount", IssueCode.COR_AMOUNT, "COR entry amount must be zero", "0000000000")
            if amount is not None:
                if tx in codes.DEBIT_CODES:
                    b.debit += amount
                    self.summary.debit_total += amount
                else:
                    b.credit += amount
                    self.summary.credit_total += amount
        if "rdfi_identification" not in bad:
            b.hash += int(text[3:11])
        name = text[54:76]
        if rule.name_required:
            if not name.strip():
                if not p.allow_empty_individual_name:
                    add("individual_name", IssueCode.MISSING, f"{b.sec} individual name is mandatory", "a name")
            elif not name.strip(" 0"):
                add("individual_name", IssueCode.ONLY_ZEROS, f"{b.sec} individual name must not be all zeros",
                    "a name")
        ctx_count = None
        if rule.counted_addenda:
            raw_count = text[54:58]
            if raw_count.isdigit() and raw_count.isascii():
                ctx_count = int(raw_count)
            else:
                issues.append(Issue(code=IssueCode.NON_NUMERIC, reason="CTX number of addenda records must be numeric",
                                    line=lineno, record=entry_detail.NAME, field="number_of_addenda_records",
                                    columns=(55, 58), value=raw_count, expected="4 digits", found=raw_count))
        trace = text[79:94]
        if "trace_number" not in bad and not p.custom_trace_numbers:
            tb = trace.encode("ascii")
            if tb <= b.last_trace:
                add("trace_number", IssueCode.TRACE_ORDER, "trace numbers must ascend within a batch",
                    f"> {b.last_trace.decode('utf-8', 'replace')}")
            if tb[:8] != b.odfi:
                add("trace_number", IssueCode.TRACE_ODFI, "trace number must start with the batch's ODFI",
                    b.odfi.decode("utf-8", "replace") + "...")
            b.last_trace = max(b.last_trace, tb)
        indicator = text[78]
        detail = None
        if self.typed and not bad.intersection(entry_detail.INT_FIELDS):
            detail = entry_detail.from_line(text)
        if rule.notification_of_change and indicator != "1":
            add("addenda_record_indicator", IssueCode.COR_ADDENDA, "COR entries carry one addenda 98", "1")
        self._errs(issues)
        if indicator == "1":
            self._entry = _EntryState(lineno, trace, detail, ctx_count)
        elif detail is not None:
            out.append((lineno, Entry(detail, (), lineno)))
        if ctx_count and indicator != "1":
            self._error(IssueCode.CTX_ADDENDA_COUNT, "CTX entry counts addenda but its indicator is 0", lineno,
                        entry_detail.NAME, field_name="addenda_record_indicator", columns=(79, 79),
                        value=indicator, expected="1")

    def _addenda_record(self, lineno: int, text: str) -> None:
        self._records += 1
        b = self._batch
        if b is None:
            self._error(IssueCode.ADDENDA_OUTSIDE_BATCH, "addenda record outside a batch", lineno, "Addenda")
            return
        b.count += 1
        self.summary.addenda += 1
        if b.rule is None:
            return
        e = self._entry
        if e is None:
            self._error(IssueCode.ADDENDA_OUTSIDE_ENTRY,
                        "addenda record without an entry whose addenda indicator is 1", lineno, "Addenda",
                        field_name="record_type", columns=(1, 3), value=text[:3])
            return
        p = self.policy
        kind = text[1:3]
        rule = b.rule
        special = p.allow_special_characters
        custom = p.custom_return_codes
        module: ModuleType
        if kind == "05":
            module = addenda_05
            issues = addenda_05.check(text, lineno=lineno, allow_special_characters=special)
            e.n05 += 1
            if e.n05 > rule.max_addenda_05:
                issues.append(Issue(code=IssueCode.TOO_MANY_ADDENDA,
                                    reason=f"{b.sec} allows {rule.max_addenda_05} addenda 05 per entry",
                                    line=lineno, record=addenda_05.NAME, field="addenda_type_code",
                                    columns=(2, 3), value=kind, expected=str(rule.max_addenda_05)))
            seq = text[83:87]
            if seq.isdigit() and int(seq) != e.n05:
                issues.append(Issue(code=IssueCode.ADDENDA_SEQUENCE, reason="addenda sequence number out of order",
                                    line=lineno, record=addenda_05.NAME, field="addenda_sequence_number",
                                    columns=(84, 87), value=seq, expected=f"{e.n05:04d}", found=seq))
            if text[87:94] != e.trace[-7:]:
                issues.append(Issue(code=IssueCode.ADDENDA_ENTRY_SEQUENCE,
                                    reason="entry detail sequence number must be the entry's trace sequence",
                                    line=lineno, record=addenda_05.NAME, field="entry_detail_sequence_number",
                                    columns=(88, 94), value=text[87:94], expected=e.trace[-7:],
                                    found=text[87:94]))
        elif kind == "98":
            code = text[3:6]
            if code in codes.REFUSED_CHANGE_CODES:
                module = addenda_98_refused
                issues = addenda_98_refused.check(text, lineno=lineno, allow_special_characters=special,
                                                  custom_codes=custom)
            else:
                module = addenda_98
                issues = addenda_98.check(text, lineno=lineno, allow_special_characters=special,
                                          custom_codes=custom)
            e.n98 += 1
            self.summary.nocs += 1
            if not rule.notification_of_change:
                issues.append(Issue(code=IssueCode.NOC_OUTSIDE_COR, reason="addenda 98 only in COR batches",
                                    line=lineno, record=addenda_98.NAME, field="addenda_type_code",
                                    columns=(2, 3), value=kind, expected="COR batch", found=b.sec))
            issues.extend(self._addenda_trace(lineno, text, e, module.NAME))
        elif kind == "99":
            code = text[3:6]
            if code in codes.DISHONORED_CODES:
                module = addenda_99_dishonored
            elif code in codes.CONTESTED_CODES:
                module = addenda_99_contested
            else:
                module = addenda_99
            issues = module.check(text, lineno=lineno, allow_special_characters=special,
                                  custom_codes=custom)
            if p.allow_blank_return_dates and any(i.code is IssueCode.BLANK_DATE for i in issues):
                self._tolerate(IssueCode.BLANK_DATE, "dishonored/contested return with blank date field(s), allowed "
                               "by the policy", lineno)
                issues = [i for i in issues if i.code is not IssueCode.BLANK_DATE]
            e.n99 += 1
            self.summary.returns += 1
            issues.extend(self._addenda_trace(lineno, text, e, module.NAME))
        elif kind == "02":
            module = addenda_02
            issues = [Issue(code=IssueCode.SEC_ADDENDA, reason=f"{b.sec} does not allow addenda 02", line=lineno,
                            record=addenda_02.NAME, field="addenda_type_code", columns=(2, 3), value=kind,
                            expected="05, 98 or 99", found=kind)]
            e.other += 1
        else:
            self._error(IssueCode.UNKNOWN_ADDENDA_TYPE, "unknown addenda type code", lineno, "Addenda",
                        field_name="addenda_type_code", columns=(2, 3), value=kind,
                        expected="02, 05, 98 or 99", found=kind)
            e.other += 1
            return
        if e.n98 + e.n99 > 1:
            issues.append(Issue(code=IssueCode.TOO_MANY_ADDENDA, reason="an entry carries one return or NOC addenda",
                                line=lineno, record=module.NAME, field="addenda_type_code",
                                columns=(2, 3), value=kind, expected="1"))
        self._errs(issues)
        if self.typed and not any(i.code is IssueCode.NON_NUMERIC for i in issues):
            e.addenda.append(module.from_line(text))

    def _addenda_trace(self, lineno: int, text: str, e: _EntryState, record: str) -> list[Issue]:
        """Rules say the addenda repeats the entry's trace; real NOCs (moov's corpus) do not always."""
        if text[79:94] != e.trace:
            self._tolerate(IssueCode.ADDENDA_TRACE, f"{record} trace number differs from its entry's", lineno)
        return []

    def _close_entry(self, out: list[tuple[int, Record]]) -> None:
        e = self._entry
        if e is None:
            return
        self._entry = None
        b = self._batch
        rule = b.rule if b is not None else None
        n = e.n05 + e.n98 + e.n99 + e.other
        where = {"line": e.line, "record": entry_detail.NAME, "field": "addenda_record_indicator",
                 "columns": (79, 79)}
        if n == 0:
            self._err(Issue(code=IssueCode.MISSING_ADDENDA,
                            reason="addenda record indicator is 1 but no addenda follows", value="1",
                            expected="an addenda record", **where))  # type: ignore[arg-type]
        if rule is not None and rule.notification_of_change and e.n98 != 1:
            self._err(Issue(code=IssueCode.COR_ADDENDA, reason="COR entries carry exactly one addenda 98",
                            value=str(e.n98), expected="1", found=str(e.n98), **where))  # type: ignore[arg-type]
        if rule is not None and rule.counted_addenda and e.ctx_count is not None and e.ctx_count != e.n05:
            self._err(Issue(code=IssueCode.CTX_ADDENDA_COUNT, reason="CTX number of addenda records does not match",
                            line=e.line, record=entry_detail.NAME, field="number_of_addenda_records",
                            columns=(55, 58), value=f"{e.ctx_count:04d}", expected=f"{e.n05:04d}",
                            found=f"{e.ctx_count:04d}"))
        if e.detail is not None:
            out.append((e.line, Entry(e.detail, tuple(e.addenda), e.line)))

    def _missing_batch_control(self, lineno: int) -> None:
        b = self._batch
        assert b is not None
        self._error(IssueCode.MISSING_BATCH_CONTROL, "batch has no batch control record", lineno, batch_control.NAME,
                    expected=f"batch control for the batch at line {b.line}")
        self._end_batch(b)

    def _end_batch(self, b: _BatchState) -> None:
        self._f_count += b.count
        self._f_hash += b.hash
        self._f_debit += b.debit
        self._f_credit += b.credit
        if b.rule is None:
            self._f_unverifiable = True
        self._batch = None

    def _batch_control(self, lineno: int, text: str, out: list[tuple[int, Record]]) -> None:
        self._records += 1
        b = self._batch
        issues = batch_control.check(text, lineno=lineno,
                                     allow_special_characters=self.policy.allow_special_characters)
        self._errs(issues)
        if b is None:
            self._error(IssueCode.BATCH_CONTROL_OUTSIDE_BATCH, "batch control record without a batch header",
                        lineno, batch_control.NAME)
            return
        bad = {i.field for i in issues}
        F = {f.name: f for f in batch_control.FIELDS}

        def agree(name: str, calculated: object, shown: str) -> None:
            f = F[name]
            raw = text[f.start - 1:f.end]
            if name in bad or calculated is None:
                return
            found: object = int(raw) if name in batch_control.INT_FIELDS else raw.strip()
            if found != calculated:
                self._err(f.issue(IssueCode.CONTROL_MISMATCH, f"{name} {raw} does not agree with {shown}", raw,
                                  line=lineno, record=batch_control.NAME, expected=str(calculated)))

        agree("entry_addenda_count", b.count, "the batch's entries and addenda")
        if b.rule is not None:
            agree("service_class_code", b.service_class, "the batch header")
            agree("entry_hash", b.hash % HASH_MODULUS, "the sum of RDFI identifications")
            agree("total_debit_amount", b.debit, "the batch's debit entries")
            agree("total_credit_amount", b.credit, "the batch's credit entries")
            agree("company_identification", b.company_id.strip(), "the batch header")
            agree("odfi_identification", b.odfi.decode("utf-8", "replace"), "the batch header")
            agree("batch_number", b.number, "the batch header")
        if not bad.intersection(batch_control.INT_FIELDS | {"odfi_identification"}):
            out.append((lineno, batch_control.from_line(text)))
        self._end_batch(b)

    def _file_control(self, lineno: int, text: str, out: list[tuple[int, Record]]) -> None:
        self._records += 1
        if self._batch is not None:
            self._missing_batch_control(lineno)
        self._control_seen = True
        issues = file_control.check(text, lineno=lineno,
                                    allow_special_characters=self.policy.allow_special_characters)
        self._errs(issues)
        bad = {i.field for i in issues}
        F = {f.name: f for f in file_control.FIELDS}

        def agree(name: str, calculated: int, shown: str) -> None:
            f = F[name]
            raw = text[f.start - 1:f.end]
            if name not in bad and int(raw) != calculated:
                self._err(f.issue(IssueCode.CONTROL_MISMATCH, f"{name} {raw} does not agree with {shown}", raw,
                                  line=lineno, record=file_control.NAME, expected=str(calculated)))

        agree("batch_count", self.summary.batches, "the number of batches")
        agree("block_count", -(-self._records // 10), "the number of 10-record blocks")
        agree("entry_addenda_count", self._f_count, "the file's entries and addenda")
        if not self._f_unverifiable:
            agree("entry_hash", self._f_hash % HASH_MODULUS, "the sum of the batches' entry hashes")
            agree("total_debit_amount", self._f_debit, "the batches' debit totals")
            agree("total_credit_amount", self._f_credit, "the batches' credit totals")
        if not bad:
            self.file_control = file_control.from_line(text)
            out.append((lineno, self.file_control))

    def _filler_record(self, lineno: int) -> None:
        if not self._control_seen and not self._filler_seen and not self.policy.allow_missing_file_control:
            self._error(IssueCode.FILLER_BEFORE_FILE_CONTROL, "9-filler record before the file control record",
                        lineno, expected="file control record (type 9)")
        self._filler_seen = True
        self._filler += 1

    def _finish(self, lineno: int) -> list[tuple[int, Record]]:
        out: list[tuple[int, Record]] = []
        self._close_entry(out)
        if self._batch is not None:
            self._missing_batch_control(lineno)
        if not self._any_record:
            self._error(IssueCode.EMPTY_FILE, "file has no records", None, expected="a file header")
        elif not self._control_seen and not self.policy.allow_missing_file_control:
            self._error(IssueCode.MISSING_FILE_CONTROL, "file has no file control record", lineno,
                        expected="record type 9")
        if self._control_seen and (self._records + self._filler) % 10:
            self._tolerate(IssueCode.MISSING_BLOCK_FILL, "last block not padded with 9-filler records", lineno)
        return out


def read(stream: BinaryIO, policy: ValidationPolicy = DEFAULT) -> tuple[AchFile, list[Issue]]:
    """Whole file in memory (small files): the typed file and every issue, warnings included.

    Never raises for bad input: check the returned errors (or use :func:`parse`).
    """
    ach, reader = read_with(AchReader(stream, policy))
    return ach, reader.issues.issues + reader.warnings


def parse(data: bytes, policy: ValidationPolicy = DEFAULT) -> AchFile:
    """Strict: the typed file, or :class:`FormatError` carrying every error."""
    import io

    reader = AchReader(io.BytesIO(data), policy)
    ach, _ = read_with(reader)
    reader.raise_if_errors()
    return ach


def read_with(reader: AchReader) -> tuple[AchFile, AchReader]:
    """Collect a reader's records into an :class:`AchFile` (issues stay on the reader)."""
    batches: list[Batch] = []
    current: BatchHeader | None = None
    line = 0
    entries: list[Entry] = []
    for lineno, rec in reader:
        if isinstance(rec, BatchHeader):
            if current is not None:
                batches.append(Batch(current, tuple(entries), None, line))
            current, line, entries = rec, lineno, []
        elif isinstance(rec, Entry):
            entries.append(rec)
        elif isinstance(rec, BatchControl) and current is not None:
            batches.append(Batch(current, tuple(entries), rec, line))
            current, entries = None, []
    if current is not None:
        batches.append(Batch(current, tuple(entries), None, line))
    return AchFile(reader.file_header, tuple(batches), reader.file_control), reader
