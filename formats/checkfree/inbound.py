"""What a 4000 record means in each inbound file type.

confirm: accepted or rejected per payment (rejected -> failed with the reason);
tranjrnl: a status per transaction (error -> failed); returns: a NACHA return
(``Rnn``) or notification of change (``Cnn``) with the corrected data; setlment:
the expected settlement. Status codes come from the layout file, so the real
specification's codes replace the stand-in ones without code changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from formats.checkfree.codec import record_name
from formats.checkfree.detail import Detail
from formats.checkfree.layout import Layout, Role
from formats.errors import Issue, IssueCode, Severity, mask

_RETURN_CODE = re.compile(r"^R\d\d$")
_NOC_CODE = re.compile(r"^C\d\d$")


@dataclass(frozen=True, slots=True)
class Confirmation:
    transaction_id: str
    amount: int
    accepted: bool
    reason_code: str  #: blank when accepted
    reason: str  #: human text for a rejection ("" when accepted)
    confirmation_no: str
    status_date: date | None
    account_number: str
    line: int | None = field(compare=False)


class JournalOutcome(StrEnum):
    ACCEPTED = "accepted"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    transaction_id: str
    amount: int
    outcome: JournalOutcome
    status_code: str
    reason_code: str
    reason: str
    confirmation_no: str
    status_date: date | None
    account_number: str
    line: int | None = field(compare=False)

    @property
    def failed(self) -> bool:
        return self.outcome is JournalOutcome.ERROR


class ReturnKind(StrEnum):
    RETURN = "return"
    NOC = "noc"


@dataclass(frozen=True, slots=True)
class ReturnEntry:
    transaction_id: str
    amount: int
    kind: ReturnKind
    code: str  #: NACHA ``Rnn`` (return) or ``Cnn`` (change)
    trace_no: str
    return_date: date | None
    corrected_data: str | None  #: NOC only, as addenda 98 pos 36-64
    account_number: str
    line: int | None = field(compare=False)


@dataclass(frozen=True, slots=True)
class Settlement:
    transaction_id: str
    amount: int
    settlement_date: date | None
    confirmation_no: str
    line: int | None = field(compare=False)


Entry = Confirmation | JournalEntry | ReturnEntry | Settlement | Detail


def interpret(layout: Layout, file_type: str, d: Detail) -> tuple[Entry, list[Issue]]:
    """The typed entry for ``d`` in a file of ``file_type``; debit and transumm keep the Detail."""
    if file_type not in ("confirm", "tranjrnl", "returns", "setlment"):
        return d, []
    rl = layout.record(Role.DETAIL, file_type)
    rec = record_name(rl)
    meaning = layout.status_meaning(file_type, d.status)
    issues: list[Issue] = []

    def issue(code: IssueCode, reason: str, fname: str, value: str, *, expected: str | None = None,
              severity: Severity = Severity.ERROR) -> None:
        f = rl.by_name(fname)
        shown = mask(value) if f is not None and f.sensitive else value
        issues.append(Issue(code=code, reason=reason, line=d.line, record=rec, field=fname,
                            columns=f.columns if f else None, value=shown, expected=expected, found=shown,
                            severity=severity))

    if meaning is None:
        known = sorted(c for codes in layout.status.get(file_type, {}).values() for c in codes)
        issue(IssueCode.BAD_STATUS, f"status {d.status!r} is not a {file_type} status", "status", d.status,
              expected="|".join(known))
    reason_text = layout.reasons.get(d.reason_code, f"code {d.reason_code}" if d.reason_code else "")

    if file_type == "confirm":
        accepted = meaning == "accepted"
        if meaning == "rejected" and not d.reason_code:
            issue(IssueCode.MISSING, "a rejection needs a reason code", "reason_code", "",
                  severity=Severity.WARNING)
            reason_text = "rejected by CheckFree (no reason code)"
        return Confirmation(d.transaction_id, d.amount, accepted, "" if accepted else d.reason_code,
                            "" if accepted else reason_text, d.confirmation_no, d.status_date,
                            d.account_number, d.line), issues
    if file_type == "tranjrnl":
        outcome = JournalOutcome.ACCEPTED if meaning == "accepted" else JournalOutcome.ERROR
        if outcome is JournalOutcome.ERROR and not reason_text:
            reason_text = f"error out (status {d.status})"
        return JournalEntry(d.transaction_id, d.amount, outcome, d.status, d.reason_code,
                            reason_text if outcome is JournalOutcome.ERROR else "", d.confirmation_no,
                            d.status_date, d.account_number, d.line), issues
    if file_type == "returns":
        kind = ReturnKind.NOC if meaning == "noc" else ReturnKind.RETURN
        pattern = _NOC_CODE if kind is ReturnKind.NOC else _RETURN_CODE
        if meaning is not None and not pattern.match(d.reason_code):
            issue(IssueCode.BAD_RETURN_CODE,
                  f"a {'notification of change' if kind is ReturnKind.NOC else 'return'} needs a "
                  f"{'Cnn' if kind is ReturnKind.NOC else 'Rnn'} code", "reason_code", d.reason_code,
                  expected="Cnn" if kind is ReturnKind.NOC else "Rnn")
        if kind is ReturnKind.NOC and not d.corrected_data:
            issue(IssueCode.MISSING, "a notification of change needs corrected data", "corrected_data", "")
        return ReturnEntry(d.transaction_id, d.amount, kind, d.reason_code, d.confirmation_no, d.status_date,
                           d.corrected_data if kind is ReturnKind.NOC else None, d.account_number,
                           d.line), issues
    return Settlement(d.transaction_id, d.amount, d.status_date, d.confirmation_no, d.line), issues
