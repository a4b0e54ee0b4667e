"""Streaming NACHA reader: records in record order, typed records and every issue out, bounded memory.

:class:`AchReader` never keeps more than one batch's bookkeeping and one pending
entry, so a 1,000,000-entry return file can be applied entry by entry::

    reader = AchReader(stream, policy)
    for batch_header, entry in reader.entries():
        apply(batch_header, entry)          # entry.return_result / entry.noc_result
    reader.raise_if_errors()                # FormatError with every issue of the file

This module is the record-order state machine. Line breaks and lengths are
:mod:`.framing`'s, control totals :mod:`.totals`', what differs by SEC code the
rule's in :mod:`.sec`; columns come from the record modules' field tables.
Validation happens while reading: the same pass checks fields, SEC rules and totals.

Entry records of batches whose rule allows it go through a fast path: one
precompiled regex per batch slices and checks every field in C; anything unusual
falls back to the record module's ``check``, which names the exact field and columns.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from formats.errors import FormatError, Issue, IssueCode, IssueList, Severity
from formats.fixedwidth import Field
from formats.nacha import codes
from formats.nacha.framing import Framer
from formats.nacha.model import AchFile, Addenda, Batch, Entry, entry_builder, new_entry
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
from formats.nacha.records._base import RECORD_LENGTH, field
from formats.nacha.records.batch_control import BatchControl
from formats.nacha.records.batch_header import BatchHeader
from formats.nacha.records.file_control import FileControl
from formats.nacha.records.file_header import FileHeader
from formats.nacha.routing import is_valid
from formats.nacha.sec import RULES, SecRule
from formats.nacha.sec.iat import is_iat_layout
from formats.nacha.totals import BatchExpected, Totals, batch_control_issues, file_control_issues

#: routing numbers remembered as valid (bounded, so memory does not grow with the file)
ROUTING_CACHE_SIZE = 50_000
FILLER = "9" * RECORD_LENGTH


_RECORD_TYPE = field(file_header.FIELDS, "record_type")
_BH_SERVICE_CLASS = field(batch_header.FIELDS, "service_class_code")
_BH_COMPANY_ID = field(batch_header.FIELDS, "company_identification")
_BH_SEC = field(batch_header.FIELDS, "standard_entry_class")
_BH_ODFI = field(batch_header.FIELDS, "odfi_identification")
_BH_NUMBER = field(batch_header.FIELDS, "batch_number")
_ED_TX = field(entry_detail.FIELDS, "transaction_code")
_ED_RDFI = field(entry_detail.FIELDS, "rdfi_identification")
_ED_AMOUNT = field(entry_detail.FIELDS, "amount")
_ED_INDICATOR = field(entry_detail.FIELDS, "addenda_record_indicator")
_ED_TRACE = field(entry_detail.FIELDS, "trace_number")
_AD_TYPE = field(addenda_05.FIELDS, "addenda_type_code")
_AD_RECORD = (_RECORD_TYPE.start, _AD_TYPE.end)
_A05_SEQ = field(addenda_05.FIELDS, "addenda_sequence_number")
_A05_ENTRY_SEQ = field(addenda_05.FIELDS, "entry_detail_sequence_number")
_A98_CODE = field(addenda_98.FIELDS, "change_code")
_A99_CODE = field(addenda_99.FIELDS, "return_reason_code")
_A_TRACE = field(addenda_99.FIELDS, "trace_number")

Record = FileHeader | BatchHeader | Entry | BatchControl | FileControl


class _AddendaModule(Protocol):
    NAME: str

    def from_line(self, line: str) -> Addenda: ...


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
    #: fast path: transaction code bytes -> is a debit (codes with zero amounts take the slow path)
    fast_tx: dict[bytes, bool] | None
    totals: Totals = dataclasses.field(default_factory=Totals)
    last_trace: bytes = b""


@dataclass
class _EntryState:
    line: int
    trace: str
    detail: entry_detail.EntryDetail | None
    counted: int | None = None
    n05: int = 0
    n98: int = 0
    n99: int = 0
    other: int = 0
    addenda: list[Addenda] = dataclasses.field(default_factory=list)


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
        self.policy = policy
        self.typed = typed
        self.summary = Summary()
        self.issues = IssueList(max_errors=max_errors)
        self.error_count = 0
        self._framer = Framer(stream, self._tolerate, self._err,
                              allow_special_characters=policy.allow_special_characters)
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
        self._file_totals = Totals()
        self._unverifiable = False
        self._done = False
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

    # ------------------------------------------------------------------ the pass

    def _run(self) -> Iterator[tuple[int, Record]]:
        if self._done:
            raise RuntimeError("an AchReader reads its stream once")
        routing_ok = self._routing_ok
        learn: Callable[[bytes], bool] = (self._learn_routing if not self.policy.allow_invalid_check_digit
                                          else (lambda _rt: True))
        custom_trace = self.policy.custom_trace_numbers
        typed = self.typed
        typed_entry = entry_builder()
        lineno = 0
        d_debit = d_credit = d_hash = d_n = 0
        last_trace = b""
        fast: Callable[[bytes], re.Match[bytes] | None] | None = None
        fast_tx: dict[bytes, bool] = {}
        for lines in self._framer.chunks():
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
                                yield lineno, typed_entry(raw.decode(), lineno)  # a CR after column 94 is never sliced
                            continue
                # slow path: hand the fast path's running totals to the batch first
                b = self._batch
                if b is not None:
                    if d_n:
                        self._add_fast(b, d_n, d_hash, d_debit, d_credit)
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
            self._add_fast(b, d_n, d_hash, d_debit, d_credit)
        if self._framer.compressed:
            self._done = True
            return
        out = self._finish(lineno)
        if typed:
            yield from out
        self._done = True

    def _add_fast(self, b: _BatchState, n: int, rdfi_hash: int, debit: int, credit: int) -> None:
        """Hand the fast path's running totals to the batch and the summary."""
        t = b.totals
        t.debit += debit
        t.credit += credit
        t.hash += rdfi_hash
        t.count += n
        s = self.summary
        s.entries += n
        s.debit_total += debit
        s.credit_total += credit
        self._records += n

    def _learn_routing(self, routing: bytes) -> bool:
        if not is_valid(routing.decode("ascii")):
            return False
        if len(self._routing_ok) >= ROUTING_CACHE_SIZE:
            self._routing_ok.clear()
        self._routing_ok.add(routing)
        return True

    def _record(self, lineno: int, raw: bytes) -> list[tuple[int, Record]] | None:
        text = self._framer.text(lineno, raw)
        if text is None:
            return None
        rt = _RECORD_TYPE.cut(text)
        if text == FILLER:
            self._filler_record(lineno)
            return None
        if self._control_seen or self._filler_seen:
            if not self._after_end_reported:
                self._after_end_reported = True
                self._error(IssueCode.AFTER_FILE_CONTROL, "records after the file control record", lineno,
                            expected="only 9-filler records")
            return None
        if not self._any_record and rt != file_header.TYPE_CODE and not self.policy.allow_missing_file_header:
            self._error(IssueCode.MISSING_FILE_HEADER, "file does not start with a file header record", lineno,
                        expected="record type 1", found=rt)
        self._any_record = True
        out: list[tuple[int, Record]] = []
        if rt == entry_detail.TYPE_CODE:
            self._close_entry(out)
            self._entry_record(lineno, text, out)
        elif rt == addenda_05.TYPE_CODE:
            self._addenda_record(lineno, text)
        elif rt == batch_header.TYPE_CODE:
            self._close_entry(out)
            self._batch_header(lineno, text, out)
        elif rt == batch_control.TYPE_CODE:
            self._close_entry(out)
            self._batch_control(lineno, text, out)
        elif rt == file_header.TYPE_CODE:
            self._file_header(lineno, text, out)
        elif rt == file_control.TYPE_CODE:
            self._close_entry(out)
            self._file_control(lineno, text, out)
        else:
            self._error(IssueCode.UNKNOWN_RECORD_TYPE, "unknown record type", lineno, columns=_RECORD_TYPE.columns,
                        value=rt, expected="1, 5, 6, 7, 8 or 9", found=rt)
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
        if not any(i.code == IssueCode.NON_NUMERIC for i in issues):
            self.file_header = file_header.from_line(text)
            out.append((lineno, self.file_header))

    def _batch_header(self, lineno: int, text: str, out: list[tuple[int, Record]]) -> None:
        self._records += 1
        if self._batch is not None:
            self._missing_batch_control(lineno)
        p = self.policy
        sec = _BH_SEC.cut(text)
        rule = RULES.get(sec)
        if rule is not None and is_iat_layout(text):
            rule = None  # an IAT-layout batch (e.g. IAT NOCs under SEC COR)
        if rule is None:
            # other SEC codes lay the header out differently: only the SEC code is reported
            known = sec in codes.KNOWN_SEC
            reason = f"SEC code {sec} not supported" if known else f"unknown SEC code {sec}"
            if known and sec in RULES:
                reason = f"SEC code {sec} with the IAT batch layout not supported"
            self._err(_BH_SEC.issue(IssueCode.UNSUPPORTED_SEC if known else IssueCode.UNKNOWN_SEC, reason, sec,
                                    line=lineno, record=batch_header.NAME,
                                    expected=", ".join(sorted(codes.SUPPORTED_SEC))))
            issues = [i for i in batch_header.check(text, lineno=lineno, allow_special_characters=True)
                      if i.field in (_RECORD_TYPE.name, _BH_SERVICE_CLASS.name, _BH_NUMBER.name)]
        else:
            issues = batch_header.check(text, lineno=lineno,
                                        allow_special_characters=p.allow_special_characters)
        self._errs(issues)
        bad = {i.field for i in issues}
        service_class = int(_BH_SERVICE_CLASS.cut(text)) if _BH_SERVICE_CLASS.name not in bad else None
        number = int(_BH_NUMBER.cut(text)) if _BH_NUMBER.name not in bad else None
        if number is not None and not p.allow_unordered_batch_numbers:
            if self._last_batch_number is not None and number <= self._last_batch_number:
                self._err(_BH_NUMBER.issue(
                    IssueCode.BATCH_NUMBER_ORDER, "batch numbers must ascend", _BH_NUMBER.cut(text), line=lineno,
                    record=batch_header.NAME, expected=f"> {self._last_batch_number:07d}"))
            self._last_batch_number = number
        if not bad.intersection({_BH_SERVICE_CLASS.name, _BH_NUMBER.name}):
            out.append((lineno, batch_header.from_line(text)))
        fast = None
        if rule is not None and rule.plain_entries and _BH_ODFI.name not in bad:
            fast = _fast_tx_map(rule, service_class)
        self._batch = _BatchState(lineno, sec, rule, service_class, _BH_COMPANY_ID.cut(text),
                                  _BH_ODFI.cut(text).encode("utf-8"), number, fast)
        self.summary.batches += 1

    def _entry_record(self, lineno: int, text: str, out: list[tuple[int, Record]]) -> None:
        self._records += 1
        b = self._batch
        if b is None:
            self._error(IssueCode.ENTRY_OUTSIDE_BATCH, "entry detail record outside a batch", lineno,
                        entry_detail.NAME, expected="a batch header before it")
            return
        b.totals.count += 1
        self.summary.entries += 1
        rule = b.rule
        if rule is None:
            return
        p = self.policy
        issues = entry_detail.check(text, lineno=lineno, allow_special_characters=p.allow_special_characters,
                                    allow_invalid_check_digit=p.allow_invalid_check_digit)
        bad = {i.field for i in issues}

        def add(f: Field, code: IssueCode, reason: str, expected: str) -> None:
            issues.append(f.issue(code, reason, f.cut(text), line=lineno, record=entry_detail.NAME,
                                  expected=expected))

        tx = int(_ED_TX.cut(text)) if _ED_TX.name not in bad else None
        amount = int(_ED_AMOUNT.cut(text)) if _ED_AMOUNT.name not in bad else None
        if tx is not None and tx in codes.TRANSACTION_CODES:
            if not rule.allows(tx):
                add(_ED_TX, IssueCode.SEC_TRANSACTION_CODE, f"{b.sec} does not allow transaction code {tx:02d}",
                    "a return/NOC code" if rule.notification_of_change
                    else ("debit codes" if not rule.credits else "credit codes"))
            elif not _class_allows(b.service_class, tx):
                add(_ED_TX, IssueCode.SERVICE_CLASS_MISMATCH,
                    f"service class {b.service_class} does not allow transaction code {tx:02d}",
                    "credits only" if b.service_class == codes.SERVICE_CLASS_CREDITS else "debits only")
            if amount:
                if tx in codes.PRENOTE_CODES:
                    add(_ED_AMOUNT, IssueCode.PRENOTE_AMOUNT, "prenote amount must be zero", "0000000000")
                elif tx in codes.ZERO_DOLLAR_CODES:
                    add(_ED_AMOUNT, IssueCode.ZERO_DOLLAR_AMOUNT, "zero-dollar entry amount must be zero", "0000000000")
                elif rule.notification_of_change:
                    add(_ED_AMOUNT, IssueCode.COR_AMOUNT, "COR entry amount must be zero", "0000000000")
            if amount is not None:
                if tx in codes.DEBIT_CODES:
                    b.totals.debit += amount
                    self.summary.debit_total += amount
                else:
                    b.totals.credit += amount
                    self.summary.credit_total += amount
        if _ED_RDFI.name not in bad:
            b.totals.hash += int(_ED_RDFI.cut(text))
        issues += rule.name_issues(text, lineno, allow_empty=p.allow_empty_individual_name)
        counted, count_issues = rule.counted(text, lineno)
        issues += count_issues
        trace = _ED_TRACE.cut(text)
        if _ED_TRACE.name not in bad and not p.custom_trace_numbers:
            tb = trace.encode("ascii")
            if tb <= b.last_trace:
                add(_ED_TRACE, IssueCode.TRACE_ORDER, "trace numbers must ascend within a batch",
                    f"> {b.last_trace.decode('utf-8', 'replace')}")
            if tb[:len(b.odfi)] != b.odfi:
                add(_ED_TRACE, IssueCode.TRACE_ODFI, "trace number must start with the batch's ODFI",
                    b.odfi.decode("utf-8", "replace") + "...")
            b.last_trace = max(b.last_trace, tb)
        indicator = _ED_INDICATOR.cut(text)
        detail = None
        if self.typed and not bad.intersection(entry_detail.INT_FIELDS):
            detail = entry_detail.from_line(text)
        issues += rule.indicator_issues(text, lineno)
        self._errs(issues)
        if indicator == "1":
            self._entry = _EntryState(lineno, trace, detail, counted)
        elif detail is not None:
            out.append((lineno, new_entry(detail, (), lineno)))
        if counted and indicator != "1":
            self._error(IssueCode.CTX_ADDENDA_COUNT, f"{b.sec} entry counts addenda but its indicator is 0", lineno,
                        entry_detail.NAME, field_name=_ED_INDICATOR.name, columns=_ED_INDICATOR.columns,
                        value=indicator, expected="1")

    def _addenda_record(self, lineno: int, text: str) -> None:
        self._records += 1
        b = self._batch
        if b is None:
            self._error(IssueCode.ADDENDA_OUTSIDE_BATCH, "addenda record outside a batch", lineno, "Addenda")
            return
        b.totals.count += 1
        self.summary.addenda += 1
        if b.rule is None:
            return
        e = self._entry
        if e is None:
            self._error(IssueCode.ADDENDA_OUTSIDE_ENTRY,
                        "addenda record without an entry whose addenda indicator is 1", lineno, "Addenda",
                        field_name=_RECORD_TYPE.name, columns=_AD_RECORD,
                        value=text[_AD_RECORD[0] - 1:_AD_RECORD[1]])
            return
        p = self.policy
        kind = _AD_TYPE.cut(text)
        rule = b.rule
        special = p.allow_special_characters
        custom = p.custom_return_codes
        module: _AddendaModule
        if kind == addenda_05.ADDENDA_TYPE:
            module = addenda_05
            issues = addenda_05.check(text, lineno=lineno, allow_special_characters=special)
            e.n05 += 1
            if e.n05 > rule.max_addenda_05:
                issues.append(_found(_AD_TYPE.issue(
                    IssueCode.TOO_MANY_ADDENDA, f"{b.sec} allows {rule.max_addenda_05} addenda 05 per entry", kind,
                    line=lineno, record=addenda_05.NAME, expected=str(rule.max_addenda_05)), None))
            seq = _A05_SEQ.cut(text)
            if seq.isdigit() and seq.isascii() and int(seq) != e.n05:
                issues.append(_A05_SEQ.issue(IssueCode.ADDENDA_SEQUENCE, "addenda sequence number out of order", seq,
                                             line=lineno, record=addenda_05.NAME,
                                             expected=f"{e.n05:0{_A05_SEQ.width}d}"))
            entry_seq = _A05_ENTRY_SEQ.cut(text)
            if entry_seq != e.trace[-_A05_ENTRY_SEQ.width:]:
                issues.append(_A05_ENTRY_SEQ.issue(
                    IssueCode.ADDENDA_ENTRY_SEQUENCE, "entry detail sequence number must be the entry's trace sequence",
                    entry_seq, line=lineno, record=addenda_05.NAME, expected=e.trace[-_A05_ENTRY_SEQ.width:]))
        elif kind == addenda_98.ADDENDA_TYPE:
            if _A98_CODE.cut(text) in codes.REFUSED_CHANGE_CODES:
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
                issues.append(_found(_AD_TYPE.issue(IssueCode.NOC_OUTSIDE_COR, "addenda 98 only in COR batches", kind,
                                                    line=lineno, record=addenda_98.NAME, expected="COR batch"),
                                     b.sec))
            self._addenda_trace(lineno, text, e, module.NAME)
        elif kind == addenda_99.ADDENDA_TYPE:
            code = _A99_CODE.cut(text)
            if code in codes.DISHONORED_CODES:
                issues = addenda_99_dishonored.check(text, lineno=lineno, allow_special_characters=special,
                                                     custom_codes=custom)
                module = addenda_99_dishonored
            elif code in codes.CONTESTED_CODES:
                issues = addenda_99_contested.check(text, lineno=lineno, allow_special_characters=special,
                                                    custom_codes=custom)
                module = addenda_99_contested
            else:
                issues = addenda_99.check(text, lineno=lineno, allow_special_characters=special,
                                          custom_codes=custom)
                module = addenda_99
            if p.allow_blank_return_dates and any(i.code == IssueCode.BLANK_DATE for i in issues):
                self._tolerate(IssueCode.BLANK_DATE, "dishonored/contested return with blank date field(s), allowed "
                               "by the policy", lineno)
                issues = [i for i in issues if i.code != IssueCode.BLANK_DATE]
            e.n99 += 1
            self.summary.returns += 1
            self._addenda_trace(lineno, text, e, module.NAME)
        elif kind == addenda_02.ADDENDA_TYPE:
            module = addenda_02
            issues = [_AD_TYPE.issue(IssueCode.SEC_ADDENDA, f"{b.sec} does not allow addenda 02", kind, line=lineno,
                                     record=addenda_02.NAME, expected="05, 98 or 99")]
            e.other += 1
        else:
            self._error(IssueCode.UNKNOWN_ADDENDA_TYPE, "unknown addenda type code", lineno, "Addenda",
                        field_name=_AD_TYPE.name, columns=_AD_TYPE.columns, value=kind,
                        expected="02, 05, 98 or 99", found=kind)
            e.other += 1
            return
        if e.n98 + e.n99 > 1:
            issues.append(_found(_AD_TYPE.issue(IssueCode.TOO_MANY_ADDENDA,
                                                "an entry carries one return or NOC addenda", kind,
                                                line=lineno, record=module.NAME, expected="1"), None))
        self._errs(issues)
        if self.typed and not any(i.code == IssueCode.NON_NUMERIC for i in issues):
            e.addenda.append(module.from_line(text))

    def _addenda_trace(self, lineno: int, text: str, e: _EntryState, record: str) -> None:
        """Rules say the addenda repeats the entry's trace; real NOCs (moov's corpus) do not always."""
        if _A_TRACE.cut(text) != e.trace:
            self._tolerate(IssueCode.ADDENDA_TRACE, f"{record} trace number differs from its entry's", lineno)

    def _close_entry(self, out: list[tuple[int, Record]]) -> None:
        e = self._entry
        if e is None:
            return
        self._entry = None
        b = self._batch
        rule = b.rule if b is not None else None
        if e.n05 + e.n98 + e.n99 + e.other == 0:
            self._err(Issue(code=IssueCode.MISSING_ADDENDA,
                            reason="addenda record indicator is 1 but no addenda follows", line=e.line,
                            record=entry_detail.NAME, field=_ED_INDICATOR.name, columns=_ED_INDICATOR.columns,
                            value="1", expected="an addenda record"))
        if rule is not None:
            self._errs(rule.closed_entry_issues(e.line, n05=e.n05, n98=e.n98, counted=e.counted))
        if e.detail is not None:
            out.append((e.line, new_entry(e.detail, tuple(e.addenda), e.line)))

    def _missing_batch_control(self, lineno: int) -> None:
        b = self._batch
        assert b is not None
        self._error(IssueCode.MISSING_BATCH_CONTROL, "batch has no batch control record", lineno, batch_control.NAME,
                    expected=f"batch control for the batch at line {b.line}")
        self._end_batch(b)

    def _end_batch(self, b: _BatchState) -> None:
        self._file_totals.add(b.totals)
        if b.rule is None:
            self._unverifiable = True
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
        expected = None
        if b.rule is not None:
            expected = BatchExpected(b.service_class, b.company_id, b.odfi.decode("utf-8", "replace"), b.number)
        self._errs(batch_control_issues(text, lineno, b.totals, expected, bad=bad))
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
        self._errs(file_control_issues(text, lineno, batches=self.summary.batches, records=self._records,
                                       totals=self._file_totals, verifiable=not self._unverifiable, bad=bad))
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


def _found(issue: Issue, found: str | None) -> Issue:
    """The same issue reporting ``found`` (None: nothing) instead of the field's value."""
    return dataclasses.replace(issue, found=found)


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
