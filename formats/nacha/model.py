"""The typed file: header, batches of entries with their addenda, controls.

Line numbers are kept for error reports but do not take part in equality, so a
file read back after writing compares equal to the one written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from formats.nacha.codes import DEBIT_CODES, PRENOTE_CODES
from formats.nacha.records import entry_detail
from formats.nacha.records._base import builder, field, lazy_subclass
from formats.nacha.records.addenda_02 import Addenda02
from formats.nacha.records.addenda_05 import Addenda05
from formats.nacha.records.addenda_98 import Addenda98
from formats.nacha.records.addenda_98_refused import Addenda98Refused
from formats.nacha.records.addenda_99 import Addenda99
from formats.nacha.records.addenda_99_contested import Addenda99Contested
from formats.nacha.records.addenda_99_dishonored import Addenda99Dishonored
from formats.nacha.records.batch_control import BatchControl
from formats.nacha.records.batch_header import BatchHeader
from formats.nacha.records.entry_detail import EntryDetail
from formats.nacha.records.file_control import FileControl
from formats.nacha.records.file_header import FileHeader
from formats.nacha.returns import NocResult, ReturnResult, noc_result, return_result

Addenda = (Addenda02 | Addenda05 | Addenda98 | Addenda98Refused | Addenda99 | Addenda99Dishonored
           | Addenda99Contested)


@dataclass(frozen=True, slots=True)
class Entry:
    detail: EntryDetail
    addenda: tuple[Addenda, ...] = ()
    line: int | None = dataclasses.field(default=None, compare=False)

    @property
    def amount(self) -> int:
        return self.detail.amount

    @property
    def is_debit(self) -> bool:
        return self.detail.transaction_code in DEBIT_CODES

    @property
    def is_prenote(self) -> bool:
        return self.detail.transaction_code in PRENOTE_CODES

    @property
    def return_result(self) -> ReturnResult | None:
        for a in self.addenda:
            if isinstance(a, Addenda99 | Addenda99Dishonored | Addenda99Contested):
                return return_result(a)
        return None

    @property
    def noc_result(self) -> NocResult | None:
        for a in self.addenda:
            if isinstance(a, Addenda98 | Addenda98Refused):
                return noc_result(a)
        return None


_new = object.__new__
_set_detail = Entry.__dict__["detail"].__set__
_set_addenda = Entry.__dict__["addenda"].__set__
_set_line = Entry.__dict__["line"].__set__


def new_entry(detail: EntryDetail, addenda: tuple[Addenda, ...], line: int | None) -> Entry:
    """``Entry(detail, addenda, line)`` without the frozen ``__init__``'s per-field ``object.__setattr__``:
    the reader builds one per entry of a file."""
    e = _new(Entry)
    _set_detail(e, detail)
    _set_addenda(e, addenda)
    _set_line(e, line)
    return e


def entry_builder() -> Callable[[str, int], Entry]:
    """``(line, lineno) -> Entry`` without addenda, for the reader's fast path (once per entry): the
    entry keeps its line, and its detail (lazy as well) is built when read; without addenda it is
    neither a return nor a NOC. It compares, hashes and pickles as the ``Entry`` of the same detail."""
    global _LINE_ENTRY
    if _LINE_ENTRY is None:
        detail = builder(EntryDetail, entry_detail.FIELDS, entry_detail.INT_FIELDS)
        amount = field(entry_detail.FIELDS, "amount").span

        def _detail(self: Any) -> EntryDetail:
            return detail(self._text)

        def _amount(self: Any) -> int:
            return int(self._text[amount])

        _LINE_ENTRY = lazy_subclass(Entry, ("_text", "_lineno"), {
            "detail": property(_detail), "addenda": property(lambda self: ()),
            "line": property(lambda self: self._lineno), "amount": property(_amount),
            "return_result": property(lambda self: None), "noc_result": property(lambda self: None)})
    lazy = _LINE_ENTRY
    set_text = lazy.__dict__["_text"].__set__
    set_lineno = lazy.__dict__["_lineno"].__set__

    def build(text: str, line: int) -> Entry:
        e: Entry = _new(lazy)
        set_text(e, text)
        set_lineno(e, line)
        return e

    return build


_LINE_ENTRY: type | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    header: BatchHeader
    entries: tuple[Entry, ...]
    control: BatchControl | None
    line: int | None = dataclasses.field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class AchFile:
    header: FileHeader | None
    batches: tuple[Batch, ...]
    control: FileControl | None

    def entries(self) -> list[tuple[BatchHeader, Entry]]:
        return [(b.header, e) for b in self.batches for e in b.entries]

    @property
    def returns(self) -> list[ReturnResult]:
        return [r for _, e in self.entries() if (r := e.return_result) is not None]

    @property
    def nocs(self) -> list[NocResult]:
        return [n for _, e in self.entries() if (n := e.noc_result) is not None]
