"""Read 0602 (payments) and 0603 (mandates) deliveries from Nets Betalingsservice.

The delivery type comes from BS002 positions 17-20, never from the file name.
:class:`DeliveryReader` streams typed events with bounded memory and checks the
structure and control records as it goes: counts strictly (errors), amounts as
warnings only, because the guide's own examples do not add up and real files
sum "amount actually paid" including rejected payments. :func:`read_delivery`
collects everything into a :class:`Delivery` for callers that want a whole file.

Errors are collected per file; iteration ends by raising :class:`FormatError`
with all of them, so a caller loading rows in one transaction rolls back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from formats.errors import FormatError, Issue, IssueCode, IssueList, Severity
from formats.pbs import codes
from formats.pbs.codes import MandateEventKind, PaymentKind
from formats.pbs.fields import STRICT, Policy
from formats.pbs.reader import BinaryLineSource, Line, iter_lines
from formats.pbs.records import (
    bs002,
    bs012,
    bs022,
    bs042_automatic,
    bs042_mandate,
    bs042_slip,
    bs042_slip_info,
    bs052,
    bs092,
    bs992,
    pbcnet,
)
from formats.pbs.records.bs002 import DeliveryStart
from formats.pbs.records.bs012 import SectionStart
from formats.pbs.records.bs022 import SlipExtraLine
from formats.pbs.records.bs042_automatic import AutomaticPayment
from formats.pbs.records.bs042_mandate import MandateEvent
from formats.pbs.records.bs042_slip import SlipPayment
from formats.pbs.records.bs042_slip_info import SlipInfo
from formats.pbs.records.bs092 import SectionEnd
from formats.pbs.records.bs992 import DeliveryEnd
from formats.pbs.records.pbcnet import Envelope

__all__ = [
    "Delivery", "DeliveryEnd", "DeliveryReader", "DeliveryStart", "MandateEvent", "MandateEventKind",
    "Payment", "PaymentKind", "Section", "SectionEnd", "SectionStart", "SlipInfo", "read_delivery",
]

#: extras (022/052) waiting for their payment; more than one slip's worth is an error
MAX_PENDING_EXTRAS = bs022.MAX_RECORD_NUMBER + bs052.MAX_RECORD_NUMBER


@dataclass(frozen=True, slots=True)
class Payment:
    """One 0602 payment line, the same shape for automatic (0211) and slip (0215) payments.

    ``received_amount`` is the money effect in øre: positive for a completed
    payment, 0 for a rejection or cancellation, negative for a charge-back.
    ``payment_reference`` is the creditor's reference, i.e. our invoice number
    (only its first 9 characters survive on slip payments).
    """

    section: str
    transaction_code: str
    kind: PaymentKind
    pbs_number: str
    debtor_group: str
    customer_number: str
    agreement_number: str | None  #: 0211 only
    card_type: str | None  #: 0215 only: kortart 71/73/75
    payment_reference: str
    archive_reference: str | None  #: 0215 only: unique per slip payment
    due_date: dt.date | None
    payment_date: dt.date | None
    booking_date: dt.date | None
    sign_code: int
    requested_amount: int
    paid_amount: int
    received_amount: int
    fee_amount: int = 0
    address_lines: tuple[str, ...] = ()
    text_lines: tuple[str, ...] = ()
    line: int | None = field(default=None, compare=False)

    @classmethod
    def from_record(cls, rec: AutomaticPayment | SlipPayment) -> Payment:
        if isinstance(rec, AutomaticPayment):
            return cls(
                section=codes.SECTION_AUTOMATIC, transaction_code=rec.transaction_code,
                kind=rec.kind, pbs_number=rec.pbs_number, debtor_group=rec.debtor_group,
                customer_number=rec.customer_number, agreement_number=rec.agreement_number,
                card_type=None, payment_reference=rec.reference, archive_reference=None,
                due_date=rec.due_date, payment_date=rec.payment_date,
                booking_date=rec.booking_date, sign_code=rec.sign_code,
                requested_amount=rec.amount, paid_amount=rec.paid_amount,
                received_amount=rec.received_amount, line=rec.line)
        return cls(
            section=codes.SECTION_SLIP, transaction_code=rec.transaction_code, kind=rec.kind,
            pbs_number=rec.pbs_number, debtor_group=rec.debtor_group,
            customer_number=rec.customer_number, agreement_number=None,
            card_type=rec.card_type, payment_reference=rec.reference,
            archive_reference=rec.archive_reference, due_date=rec.due_date,
            payment_date=rec.payment_date, booking_date=rec.booking_date,
            sign_code=rec.sign_code, requested_amount=rec.amount, paid_amount=rec.paid_amount,
            received_amount=rec.received_amount, fee_amount=rec.fee_amount, line=rec.line)


Event = (DeliveryStart | SectionStart | Payment | MandateEvent | SlipInfo | SectionEnd
         | DeliveryEnd)


@dataclass
class Section:
    start: SectionStart
    end: SectionEnd | None = None
    payments: list[Payment] = field(default_factory=list)
    mandate_events: list[MandateEvent] = field(default_factory=list)
    slip_infos: list[SlipInfo] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.start.section


@dataclass
class Delivery:
    """A whole delivery; ``warnings`` holds the control-amount and placeholder warnings."""

    start: DeliveryStart
    end: DeliveryEnd
    sections: list[Section]
    warnings: list[Issue] = field(default_factory=list)
    envelope: tuple[Envelope | None, Envelope | None] = (None, None)

    @property
    def delivery_type(self) -> str:
        return self.start.delivery_type

    @property
    def delivery_number(self) -> str:
        """BS002 delivery specification: Nets' serial number, the duplicate-delivery key."""
        return self.start.delivery_number

    @property
    def data_supplier(self) -> str:
        return self.start.data_supplier

    @property
    def payments(self) -> Iterator[Payment]:
        for s in self.sections:
            yield from s.payments

    @property
    def mandate_events(self) -> Iterator[MandateEvent]:
        for s in self.sections:
            yield from s.mandate_events

    @property
    def slip_infos(self) -> Iterator[SlipInfo]:
        for s in self.sections:
            yield from s.slip_infos


def _issue(code: IssueCode, reason: str, line: Line | None, *, record: str, field_name: str,
           columns: tuple[int, int], value: str | None = None, expected: str | None = None,
           found: str | None = None, severity: Severity = Severity.ERROR) -> Issue:
    return Issue(code=code, reason=reason, line=line.number if line else None, record=record,
                 field=field_name, columns=columns, value=value, expected=expected, found=found,
                 severity=severity)


@dataclass
class _SectionTally:
    start: SectionStart
    count_042: int = 0
    count_052: int = 0
    count_022: int = 0
    amount: int = 0


class DeliveryReader:
    """Iterate the typed events of one 0602/0603 delivery.

    Yields :class:`DeliveryStart`, :class:`SectionStart`, :class:`Payment`
    (0602), :class:`MandateEvent` / :class:`SlipInfo` (0603), :class:`SectionEnd`
    and :class:`DeliveryEnd` in file order. Records with errors are not yielded.
    When the stream ends, any error raises :class:`FormatError`; warnings stay in
    :attr:`warnings`. A slip payment is held back until its trailing 052 text
    lines are read (at most 46 records), so memory stays bounded.
    """

    def __init__(self, stream: BinaryLineSource, *, policy: Policy = STRICT,
                 accept: tuple[str, ...] = (codes.DELIVERY_0602, codes.DELIVERY_0603)) -> None:
        self._stream = stream
        self.policy = policy
        self.accept = accept
        self.issues = IssueList()
        self.envelope_start: Envelope | None = None
        self.envelope_end: Envelope | None = None
        self.start: DeliveryStart | None = None
        self.end: DeliveryEnd | None = None
        self._used = False

    @property
    def warnings(self) -> list[Issue]:
        return self.issues.warnings

    @property
    def errors(self) -> list[Issue]:
        return self.issues.errors

    def __iter__(self) -> Iterator[Event]:
        if self._used:
            raise RuntimeError("a DeliveryReader can be iterated once")
        self._used = True
        yield from self._events()
        self.issues.raise_if_errors("delivery")

    # -- the state machine -------------------------------------------------------------

    def _events(self) -> Iterator[Event]:
        issues = self.issues
        section: _SectionTally | None = None
        sections_seen = 0
        totals = {"042": 0, "052": 0, "022": 0, "amount": 0}
        records_in_envelope = 0
        held: Payment | None = None
        pending: list[SlipExtraLine] = []
        last_line: Line | None = None
        fatal = False

        for line in iter_lines(self._stream, issues):
            last_line = line
            text = line.text
            if fatal:
                continue
            if not text.strip():
                issues.add(_issue(IssueCode.BLANK_LINE, "blank line ignored", line, record="(blank)",
                                  field_name="record_type", columns=(1, 5),
                                  severity=Severity.WARNING))
                continue
            if pbcnet.is_envelope(text):
                self._envelope(line, records_in_envelope)
                continue
            if self.envelope_start is not None and self.envelope_end is None:
                records_in_envelope += 1
            if self.end is not None:
                issues.add(_issue(IssueCode.RECORD_AFTER_END, "record after BS992 delivery end", line,
                                  record=line.record, field_name="record_type", columns=(3, 5),
                                  value=text[:5]))
                continue
            if not text.startswith("BS"):
                issues.add(_issue(IssueCode.UNKNOWN_RECORD, "not a Betalingsservice record (must start "
                                  "with BS)", line, record=line.record, field_name="system",
                                  columns=(1, 2), value=text[:2], expected="BS"))
                continue
            rtype = text[2:5]
            if self.start is None and rtype != "002":
                issues.add(_issue(IssueCode.MISPLACED_RECORD, "a delivery must start with BS002", line,
                                  record=line.record, field_name="record_type", columns=(3, 5),
                                  value=rtype, expected="002"))
                fatal = True
                continue

            if rtype == "002":
                if self.start is not None:
                    issues.add(_issue(IssueCode.MISPLACED_RECORD, "second BS002 in one delivery", line,
                                      record="BS002", field_name="record_type", columns=(3, 5),
                                      value=rtype))
                    continue
                start = bs002.parse(text, lineno=line.number, issues=issues, policy=self.policy)
                if start is None:
                    fatal = True
                    continue
                if start.delivery_type not in self.accept:
                    f = bs002.LAYOUT.field("delivery_type")
                    issues.add(_issue(IssueCode.WRONG_DELIVERY_TYPE, "delivery type is not one this reader "
                                      "accepts", line, record="BS002", field_name=f.name,
                                      columns=f.columns, value=start.delivery_type,
                                      expected="|".join(self.accept), found=start.delivery_type))
                    fatal = True
                    continue
                self.start = start
                yield start

            elif rtype == "012":
                if section is not None:
                    issues.add(_issue(IssueCode.MISSING_SECTION_END, f"BS012 before the BS092 of section "
                                      f"{section.start.section}", line, record="BS092",
                                      field_name="record_type", columns=(3, 5), value=rtype,
                                      expected="092"))
                    if held is not None:
                        yield held
                    held, pending = None, []
                sec = bs012.parse(text, lineno=line.number, issues=issues, policy=self.policy)
                section = None
                if sec is None:
                    continue
                delivery_type = self.start.delivery_type if self.start else ""
                allowed = codes.SECTION_042_CODES[delivery_type]
                if sec.section not in allowed:
                    f = bs012.LAYOUT.field("section")
                    issues.add(_issue(IssueCode.UNKNOWN_SECTION, f"section {sec.section} is not part of a "
                                      f"{delivery_type} delivery", line, record="BS012",
                                      field_name=f.name, columns=f.columns, value=sec.section,
                                      expected="|".join(sorted(allowed))))
                    continue
                sections_seen += 1
                section = _SectionTally(sec)
                yield sec

            elif rtype in ("042", "022", "052"):
                if section is None:
                    issues.add(_issue(IssueCode.MISPLACED_RECORD, f"BS{rtype} outside a section", line,
                                      record=line.record, field_name="record_type",
                                      columns=(3, 5), value=rtype, expected="012"))
                    continue
                if rtype == "042":
                    section.count_042 += 1
                    if held is not None:
                        yield held
                        held = None
                    event = self._record_042(line, section)
                    if isinstance(event, Payment):
                        section.amount += event.paid_amount
                        event, pending = self._attach(event, pending, line)
                        if event.section == codes.SECTION_SLIP:
                            held = event
                        else:
                            yield event
                    elif event is not None:
                        if isinstance(event, SlipInfo):
                            section.amount += event.amount
                        yield event
                else:
                    if rtype == "022":
                        section.count_022 += 1
                    else:
                        section.count_052 += 1
                    extra = self._record_extra(line, section, rtype)
                    if extra is None:
                        continue
                    if held is not None and held.archive_reference == extra.archive_reference:
                        held = _with_extra(held, extra)
                    elif len(pending) >= MAX_PENDING_EXTRAS:
                        issues.add(_issue(IssueCode.ORPHAN_EXTRA, "too many address/text lines without "
                                          "their payment", line, record=line.record,
                                          field_name="archive_reference", columns=(47, 68),
                                          value=extra.archive_reference))
                    else:
                        pending.append(extra)

            elif rtype == "092":
                if held is not None:
                    yield held
                    held = None
                for extra in pending:
                    issues.add(_issue(IssueCode.ORPHAN_EXTRA, "address/text line matches no payment of "
                                      "its section", None, record=f"BS{extra.transaction_code}",
                                      field_name="archive_reference", columns=(47, 68),
                                      value=extra.archive_reference, severity=Severity.WARNING))
                pending = []
                end = bs092.parse(text, lineno=line.number, issues=issues, policy=self.policy)
                if section is None:
                    issues.add(_issue(IssueCode.MISPLACED_RECORD, "BS092 without a BS012", line,
                                      record="BS092", field_name="record_type", columns=(3, 5),
                                      value=rtype, expected="012"))
                    continue
                tally, section = section, None
                totals["042"] += tally.count_042
                totals["052"] += tally.count_052
                totals["022"] += tally.count_022
                if end is None:
                    continue
                totals["amount"] += end.amount
                self._check_section_end(line, tally, end)
                yield end

            elif rtype == "992":
                if section is not None:
                    issues.add(_issue(IssueCode.MISSING_SECTION_END, f"BS992 before the BS092 of section "
                                      f"{section.start.section}", line, record="BS092",
                                      field_name="record_type", columns=(3, 5), value=rtype,
                                      expected="092"))
                    section = None
                dend = bs992.parse(text, lineno=line.number, issues=issues, policy=self.policy)
                if dend is None:
                    fatal = True
                    continue
                self.end = dend
                self._check_delivery_end(line, dend, sections_seen, totals)
                yield dend

            else:
                issues.add(_issue(IssueCode.UNKNOWN_RECORD, f"unknown record type BS{rtype}", line,
                                  record=line.record, field_name="record_type", columns=(3, 5),
                                  value=rtype, expected="002|012|022|042|052|092|992"))

        if held is not None:
            yield held
        self._check_complete(last_line, fatal, records_in_envelope)

    def _envelope(self, line: Line, records_in_envelope: int) -> None:
        env = pbcnet.parse(line.text, lineno=line.number)
        if env.code in pbcnet.RECEIPT_CODES:
            self.issues.add(_issue(IssueCode.WRONG_FILE_TYPE, "this is a PBCNET receipt, not a delivery",
                                   line, record=line.record, field_name="code", columns=(7, 8),
                                   value=env.code, expected="30|90"))
        elif self.start is None and self.envelope_start is None and env.code in pbcnet.START_CODES:
            self.envelope_start = env
        elif self.end is not None and self.envelope_end is None and env.code == pbcnet.END_CODE:
            self.envelope_end = env
            if env.count is not None and env.count != records_in_envelope:
                self.issues.add(_issue(
                    IssueCode.ENVELOPE_COUNT, "PBCNET90 record count differs from the records in the "
                    "envelope", line, record=line.record, field_name="count",
                    columns=(len(env.text) - 5, len(env.text)), value=str(env.count),
                    expected=str(records_in_envelope), found=str(env.count),
                    severity=Severity.WARNING))
        else:
            self.issues.add(_issue(IssueCode.MISPLACED_RECORD, "unexpected PBCNET envelope line", line,
                                   record=line.record, field_name="code", columns=(7, 8),
                                   value=env.code))

    def _record_042(self, line: Line, section: _SectionTally
                    ) -> Payment | MandateEvent | SlipInfo | None:
        assert self.start is not None
        code = line.text[13:17]
        allowed = codes.SECTION_042_CODES[self.start.delivery_type][section.start.section]
        if code not in allowed:
            self.issues.add(_issue(IssueCode.WRONG_TRANSACTION_CODE, f"transaction code {code!r} does not "
                                   f"belong in section {section.start.section}", line,
                                   record="BS042", field_name="transaction_code", columns=(14, 17),
                                   value=code, expected="|".join(sorted(allowed)), found=code))
            return None
        n, issues, policy = line.number, self.issues, self.policy
        rec: AutomaticPayment | SlipPayment | MandateEvent | SlipInfo | None
        if code in bs042_automatic.CODES:
            rec = bs042_automatic.parse(line.text, lineno=n, issues=issues, policy=policy)
        elif code in bs042_slip.CODES:
            rec = bs042_slip.parse(line.text, lineno=n, issues=issues, policy=policy)
        elif code in bs042_mandate.CODES:
            rec = bs042_mandate.parse(line.text, lineno=n, issues=issues, policy=policy)
        else:
            rec = bs042_slip_info.parse(line.text, lineno=n, issues=issues, policy=policy)
        if rec is None:
            return None
        if rec.pbs_number != section.start.pbs_number:
            self.issues.add(_issue(IssueCode.PBS_NUMBER_MISMATCH, "PBS number differs from its section's "
                                   "BS012", line, record=line.record, field_name="pbs_number",
                                   columns=(6, 13), value=rec.pbs_number,
                                   expected=section.start.pbs_number, found=rec.pbs_number))
            return None
        if isinstance(rec, AutomaticPayment | SlipPayment):
            return Payment.from_record(rec)
        return rec

    def _record_extra(self, line: Line, section: _SectionTally, rtype: str
                      ) -> SlipExtraLine | None:
        allowed = codes.SECTION_EXTRA_CODES.get(section.start.section, {})
        if rtype not in allowed:
            self.issues.add(_issue(IssueCode.MISPLACED_RECORD, f"BS{rtype} does not belong in section "
                                   f"{section.start.section}", line, record=line.record,
                                   field_name="record_type", columns=(3, 5), value=rtype,
                                   expected="042"))
            return None
        parse = bs022.parse if rtype == "022" else bs052.parse
        return parse(line.text, lineno=line.number, issues=self.issues, policy=self.policy)

    def _attach(self, payment: Payment, pending: list[SlipExtraLine], line: Line
                ) -> tuple[Payment, list[SlipExtraLine]]:
        """Extras read before their payment (022 address lines precede the 042)."""
        if not pending:
            return payment, pending
        keep: list[SlipExtraLine] = []
        for extra in pending:
            if payment.archive_reference is not None and \
                    extra.archive_reference == payment.archive_reference:
                payment = _with_extra(payment, extra)
            else:
                keep.append(extra)
        return payment, keep

    # -- control records -------------------------------------------------------------------

    def _check_section_end(self, line: Line, tally: _SectionTally, end: SectionEnd) -> None:
        rec = "BS092"
        layout = bs092.LAYOUT
        if end.section != tally.start.section:
            f = layout.field("section")
            self.issues.add(_issue(IssueCode.SECTION_MISMATCH, "BS092 closes another section than its "
                                   "BS012 opened", line, record=rec, field_name=f.name,
                                   columns=f.columns, value=end.section,
                                   expected=tally.start.section, found=end.section))
        if end.pbs_number != tally.start.pbs_number:
            f = layout.field("pbs_number")
            self.issues.add(_issue(IssueCode.PBS_NUMBER_MISMATCH, "PBS number differs from the BS012",
                                   line, record=rec, field_name=f.name, columns=f.columns,
                                   value=end.pbs_number, expected=tally.start.pbs_number,
                                   found=end.pbs_number))
        for name, counted in (("count_042", tally.count_042), ("count_052", tally.count_052),
                              ("count_022", tally.count_022)):
            declared = getattr(end, name)
            if declared != counted:
                f = layout.field(name)
                self.issues.add(_issue(IssueCode.CONTROL_COUNT, f"{name} does not match the records in "
                                       "the section", line, record=rec, field_name=name,
                                       columns=f.columns, value=str(declared),
                                       expected=str(counted), found=str(declared)))
        if end.amount != tally.amount:
            f = layout.field("amount")
            self.issues.add(_issue(IssueCode.CONTROL_AMOUNT, "section amount differs from the sum of the "
                                   "amounts paid (warning only: Nets' own examples differ)", line,
                                   record=rec, field_name="amount", columns=f.columns,
                                   value=str(end.amount), expected=str(tally.amount),
                                   found=str(end.amount), severity=Severity.WARNING))

    def _check_delivery_end(self, line: Line, end: DeliveryEnd, sections: int,
                            totals: dict[str, int]) -> None:
        assert self.start is not None
        layout = bs992.LAYOUT
        checks: list[tuple[str, object, object]] = [
            ("data_supplier", end.data_supplier, self.start.data_supplier),
            ("delivery_type", end.delivery_type, self.start.delivery_type),
            ("system_code", end.system_code, self.start.system_code),
            ("count_sections", end.count_sections, sections),
            ("count_042", end.count_042, totals["042"]),
            ("count_052", end.count_052, totals["052"]),
            ("count_022", end.count_022, totals["022"]),
        ]
        for name, declared, expected in checks:
            if declared != expected:
                f = layout.field(name)
                code = IssueCode.CONTROL_COUNT if name.startswith("count_") else IssueCode.DELIVERY_MISMATCH
                self.issues.add(_issue(code, f"{name} does not match the delivery", line,
                                       record="BS992", field_name=name, columns=f.columns,
                                       value=str(declared), expected=str(expected),
                                       found=str(declared)))
        if end.amount != totals["amount"]:
            f = layout.field("amount")
            self.issues.add(_issue(IssueCode.CONTROL_AMOUNT, "delivery amount differs from the sum of the "
                                   "section amounts (warning only)", line, record="BS992",
                                   field_name="amount", columns=f.columns, value=str(end.amount),
                                   expected=str(totals["amount"]), found=str(end.amount),
                                   severity=Severity.WARNING))

    def _check_complete(self, last: Line | None, fatal: bool, records_in_envelope: int) -> None:
        if fatal:
            return
        if self.start is None:
            self.issues.add(_issue(IssueCode.EMPTY, "no BS002 delivery start: empty or not a delivery",
                                   last, record="BS002", field_name="record_type", columns=(3, 5),
                                   expected="002"))
        elif self.end is None:
            self.issues.add(_issue(IssueCode.TRUNCATED, "file ends before the BS992 delivery end", last,
                                   record="BS992", field_name="record_type", columns=(3, 5),
                                   expected="992"))
        elif self.envelope_start is not None and self.envelope_end is None:
            self.issues.add(_issue(IssueCode.TRUNCATED, "PBCNET30 envelope without its PBCNET90", last,
                                   record="PBCNET90", field_name="code", columns=(7, 8),
                                   expected="90"))


def _with_extra(payment: Payment, extra: SlipExtraLine) -> Payment:
    if extra.transaction_code == bs022.TRANSACTION_CODE:
        return replace(payment, address_lines=(*payment.address_lines, extra.text))
    return replace(payment, text_lines=(*payment.text_lines, extra.text))


def read_delivery(stream: BinaryLineSource, *, policy: Policy = STRICT,
                  accept: tuple[str, ...] = (codes.DELIVERY_0602, codes.DELIVERY_0603)) -> Delivery:
    """Read a whole delivery into memory; raises :class:`FormatError` listing every error."""
    reader = DeliveryReader(stream, policy=policy, accept=accept)
    sections: list[Section] = []
    current: Section | None = None
    for event in reader:
        if isinstance(event, SectionStart):
            current = Section(event)
            sections.append(current)
        elif isinstance(event, SectionEnd):
            if current is not None:
                current.end = event
            current = None
        elif current is not None:
            if isinstance(event, Payment):
                current.payments.append(event)
            elif isinstance(event, MandateEvent):
                current.mandate_events.append(event)
            elif isinstance(event, SlipInfo):
                current.slip_infos.append(event)
    if reader.start is None or reader.end is None:  # pragma: no cover - raise_if_errors covers it
        raise FormatError("delivery is incomplete", reader.errors, reader.warnings)
    return Delivery(start=reader.start, end=reader.end, sections=sections,
                    warnings=reader.warnings,
                    envelope=(reader.envelope_start, reader.envelope_end))
