"""The shape of one SEC code's rules, and the entry checks that differ by SEC code.

Each SEC module declares its :class:`SecRule`; the reader asks the batch's rule
instead of testing SEC codes itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from formats.errors import Issue, IssueCode
from formats.fixedwidth import Field
from formats.nacha.codes import CREDIT_CODES, DEBIT_CODES, RETURN_NOC_CODES
from formats.nacha.records import entry_detail
from formats.nacha.records._base import field

_NAME = field(entry_detail.FIELDS, "individual_name")
_INDICATOR = field(entry_detail.FIELDS, "addenda_record_indicator")


@dataclass(frozen=True, slots=True)
class SecRule:
    code: str
    title: str
    #: credit transaction codes allowed (x2/x3/x4 forward entries)
    credits: bool = True
    #: debit transaction codes allowed (x7/x8/x9 forward entries)
    debits: bool = True
    #: most addenda 05 records per entry (CTX reads the count from the entry)
    max_addenda_05: int = 1
    #: individual name (55-76) must not be blank or zeros
    name_required: bool = False
    #: entries must be automated returns/NOCs with a zero amount and one addenda 98 (COR)
    notification_of_change: bool = False
    #: the entry field that counts its addenda 05, which must match (CTX)
    addenda_count: Field | None = None

    @property
    def counted_addenda(self) -> bool:
        return self.addenda_count is not None

    @property
    def plain_entries(self) -> bool:
        """Entries need nothing from their addenda to be checked: the reader's fast path may take them."""
        return self.addenda_count is None and not self.notification_of_change

    def allows(self, tx: int) -> bool:
        """Forward entries by direction; returns/NOCs (x1/x6) in any batch but COR rules."""
        if self.notification_of_change:
            return tx in RETURN_NOC_CODES
        if tx in RETURN_NOC_CODES:
            return True
        if tx in CREDIT_CODES:
            return self.credits
        return tx in DEBIT_CODES and self.debits

    def name_issues(self, line: str, lineno: int, *, allow_empty: bool) -> list[Issue]:
        """A receiver's name where this SEC code requires one (WEB, TEL)."""
        if not self.name_required:
            return []
        name = _NAME.cut(line)
        if not name.strip():
            if allow_empty:
                return []
            return [_NAME.issue(IssueCode.MISSING, f"{self.code} individual name is mandatory", name, line=lineno,
                                record=entry_detail.NAME, expected="a name")]
        if not name.strip(" 0"):
            return [_NAME.issue(IssueCode.ONLY_ZEROS, f"{self.code} individual name must not be all zeros", name,
                                line=lineno, record=entry_detail.NAME, expected="a name")]
        return []

    def counted(self, line: str, lineno: int) -> tuple[int | None, list[Issue]]:
        """The number of addenda the entry announces (CTX), or None."""
        f = self.addenda_count
        if f is None:
            return None, []
        raw = f.cut(line)
        if raw.isdigit() and raw.isascii():
            return int(raw), []
        return None, [f.issue(IssueCode.NON_NUMERIC, f"{self.code} number of addenda records must be numeric", raw,
                              line=lineno, record=entry_detail.NAME, expected=f"{f.width} digits")]

    def indicator_issues(self, line: str, lineno: int) -> list[Issue]:
        """COR entries always carry their addenda 98."""
        raw = _INDICATOR.cut(line)
        if not self.notification_of_change or raw == "1":
            return []
        return [_INDICATOR.issue(IssueCode.COR_ADDENDA, "COR entries carry one addenda 98", raw, line=lineno,
                                 record=entry_detail.NAME, expected="1")]

    def closed_entry_issues(self, lineno: int, *, n05: int, n98: int, counted: int | None) -> list[Issue]:
        """What an entry's addenda must add up to, checked once the next record shows they are all read."""
        out: list[Issue] = []
        if self.notification_of_change and n98 != 1:
            out.append(Issue(code=IssueCode.COR_ADDENDA, reason="COR entries carry exactly one addenda 98", line=lineno,
                             record=entry_detail.NAME, field=_INDICATOR.name, columns=_INDICATOR.columns,
                             value=str(n98), expected="1", found=str(n98)))
        f = self.addenda_count
        if f is not None and counted is not None and counted != n05:
            out.append(f.issue(IssueCode.CTX_ADDENDA_COUNT, f"{self.code} number of addenda records does not match",
                               f"{counted:0{f.width}d}", line=lineno, record=entry_detail.NAME,
                               expected=f"{n05:0{f.width}d}"))
        return out
