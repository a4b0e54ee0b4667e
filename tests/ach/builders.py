"""Return / NOC / prenote-return files built against a file we wrote, with ``formats.nacha``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from formats.nacha import parse
from formats.nacha.codes import DEBIT_CODES
from formats.nacha.model import AchFile, Batch, Entry
from formats.nacha.records.addenda_98 import Addenda98
from formats.nacha.records.addenda_99 import Addenda99
from formats.nacha.records.batch_control import BatchControl
from formats.nacha.records.batch_header import BatchHeader
from formats.nacha.records.entry_detail import EntryDetail
from formats.nacha.records.file_control import FileControl
from formats.nacha.records.file_header import FileHeader
from formats.nacha.writer import dumps

RETURNER = "02100002"  #: the RDFI sending the returns (trace prefix)
RETURN_CODE_OF = {27: 26, 37: 36, 28: 26, 38: 36, 22: 21, 32: 31}


@dataclass(frozen=True)
class Ret:
    """A return (R..) or NOC (C..) of the entry with ``trace``; ``corrected`` for NOCs."""

    trace: str
    code: str
    corrected: str = ""


class Original:
    """Entries of a file we wrote, by trace number."""

    def __init__(self, *files: bytes) -> None:
        self.entries: dict[str, tuple[BatchHeader, Entry]] = {}
        self.header: FileHeader | None = None
        for data in files:
            f = parse(data)
            self.header = self.header or f.header
            for bh, e in f.entries():
                self.entries[e.detail.trace_number] = (bh, e)

    def trace_of(self, account: str, *, prenote: bool | None = None) -> str:
        for trace, (_bh, e) in self.entries.items():
            if e.detail.dfi_account_number.strip() == account and (prenote is None or e.is_prenote == prenote):
                return trace
        raise KeyError(account)


def build(orig: Original, items: list[Ret], *, swap: bool = False, header: FileHeader | None = None,
          company: tuple[str, str] | None = None, unknown_company: tuple[str, str] | None = None) -> bytes:
    """A valid return file: one batch per original company and kind (returns PPD, NOCs COR)."""
    assert orig.header is not None
    h = header or orig.header
    if swap:
        h = replace(h, immediate_destination=h.immediate_origin, immediate_origin=h.immediate_destination,
                    immediate_destination_name=h.immediate_origin_name,
                    immediate_origin_name=h.immediate_destination_name)
    h = replace(h, file_creation_date=dt.date.today().strftime("%y%m%d"), file_id_modifier="R")
    groups: dict[tuple[str, str, str, str], list[tuple[Ret, Entry | None, BatchHeader | None]]] = {}
    for it in items:
        bh, e = orig.entries.get(it.trace, (None, None))
        if bh is None:  # an unknown trace: report it under the first company
            bh = next(iter(orig.entries.values()))[0]
        name, cid = company or (bh.company_name, bh.company_identification)
        if unknown_company:
            name, cid = unknown_company
        sec = "COR" if it.code.startswith("C") else "PPD"
        groups.setdefault((name, cid, sec, bh.company_entry_description), []).append((it, e, bh))
    batches = []
    seq = 0
    for n, ((name, cid, sec, desc), its) in enumerate(groups.items(), 1):
        entries = []
        for it, e, _bh in its:
            seq += 1
            trace = f"{RETURNER}{seq:07d}"
            if e is None:
                detail = EntryDetail(26, "01100001", "5", "999999", 1000, trace, "", "NOBODY", "", 1)
                rdfi = "01100001"
            else:
                d = e.detail
                rdfi = d.rdfi_identification
                amount = 0 if sec == "COR" else d.amount
                detail = replace(d, transaction_code=RETURN_CODE_OF[d.transaction_code], amount=amount,
                                 trace_number=trace, addenda_record_indicator=1)
            if sec == "COR":
                add: Addenda98 | Addenda99 = Addenda98(it.code, it.trace, rdfi, it.corrected, trace)
            else:
                add = Addenda99(it.code, it.trace, rdfi, trace)
            entries.append(Entry(detail, (add,)))
        debit = sum(x.detail.amount for x in entries if x.detail.transaction_code in DEBIT_CODES)
        credit = sum(x.detail.amount for x in entries if x.detail.transaction_code not in DEBIT_CODES)
        ehash = sum(int(x.detail.rdfi_identification) for x in entries)
        header_ = BatchHeader(200, name, cid, sec, desc, "", RETURNER, n)
        control = BatchControl(200, len(entries) * 2, ehash % 10**10, debit, credit, cid, RETURNER, n)
        batches.append(Batch(header_, tuple(entries), control))
    lines = 2 + sum(2 + len(b.entries) * 2 for b in batches)
    fc = FileControl(len(batches), -(-lines // 10), sum(b.control.entry_addenda_count for b in batches if b.control),
                     sum(b.control.entry_hash for b in batches if b.control) % 10**10,
                     sum(b.control.total_debit_amount for b in batches if b.control),
                     sum(b.control.total_credit_amount for b in batches if b.control))
    data = dumps(AchFile(h, tuple(batches), fc))
    parse(data)  # a builder bug must not pass for a handler bug
    return data
