"""Write 0602/0603 deliveries as Nets would: for tests and fixtures, never sent anywhere.

The daemon's tests generate inbound files with these builders instead of
hand-typing 128-column lines. Control records are tabulated here (the only
place that computes them): counts of 042/052/022 records and the sum of the
"amount actually paid" (0602) or slip amounts (0603 section 0217). Lines are
written as real files are: trailing blanks stripped, CR-LF, cp1252.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from formats.pbs import codes
from formats.pbs.delivery import Delivery, Payment
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

Record = AutomaticPayment | SlipPayment | MandateEvent | SlipInfo | SlipExtraLine | Payment


@dataclass(frozen=True)
class SectionData:
    start: SectionStart
    records: Sequence[Record] = field(default_factory=tuple)


def _record_lines(rec: Record) -> list[tuple[str, str]]:
    """(record type, line) pairs; a :class:`Payment` expands into its extras too."""
    if isinstance(rec, Payment):
        return _payment_lines(rec)
    if isinstance(rec, AutomaticPayment):
        return [("042", bs042_automatic.format(rec))]
    if isinstance(rec, SlipPayment):
        return [("042", bs042_slip.format(rec))]
    if isinstance(rec, MandateEvent):
        return [("042", bs042_mandate.format(rec))]
    if isinstance(rec, SlipInfo):
        return [("042", bs042_slip_info.format(rec))]
    if rec.transaction_code == bs022.TRANSACTION_CODE:
        return [("022", bs022.format(rec))]
    return [("052", bs052.format(rec))]


def _paid(rec: Record) -> int:
    if isinstance(rec, AutomaticPayment | SlipPayment | Payment):
        return rec.paid_amount
    if isinstance(rec, SlipInfo):
        return rec.amount
    return 0


def section_lines(section: SectionData, *, filler: str = "000") -> tuple[list[str], SectionEnd]:
    """The BS012 … BS092 lines of one section, with its tabulated control record."""
    lines = [bs012.format(section.start, filler=filler)]
    counts = {"042": 0, "052": 0, "022": 0}
    amount = 0
    for rec in section.records:
        for rtype, line in _record_lines(rec):
            counts[rtype] += 1
            lines.append(line)
        amount += _paid(rec)
    end = SectionEnd(pbs_number=section.start.pbs_number, section=section.start.section,
                     debtor_group=section.start.debtor_group, count_042=counts["042"],
                     amount=amount, count_052=counts["052"], count_022=counts["022"])
    lines.append(bs092.format(end))
    return lines, end


def delivery_lines(start: DeliveryStart, sections: Sequence[SectionData]) -> list[str]:
    """All BS002 … BS992 lines, 128 characters each (tests corrupt single lines)."""
    filler = "   " if start.delivery_type == codes.DELIVERY_0603 else "000"
    lines = [bs002.format(start)]
    ends = []
    for sec in sections:
        sec_lines, end = section_lines(sec, filler=filler)
        lines.extend(sec_lines)
        ends.append(end)
    lines.append(bs992.format(DeliveryEnd(
        data_supplier=start.data_supplier, system_code=start.system_code,
        delivery_type=start.delivery_type, count_sections=len(ends),
        count_042=sum(e.count_042 for e in ends), amount=sum(e.amount for e in ends),
        count_052=sum(e.count_052 for e in ends), count_022=sum(e.count_022 for e in ends))))
    return lines


def encode(lines: Iterable[str], *, newline: str = "\r\n", encoding: str = "cp1252") -> bytes:
    """Strip trailing blanks and join as real files are (0601 guide §4.7). The five bytes cp1252
    leaves undefined are written as ISO-8859-1, as :func:`formats.pbs.reader.decode` reads them."""
    text = "".join(line.rstrip(" ") + newline for line in lines)
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        if encoding != "cp1252":
            raise
        return b"".join(_cp1252_or_latin1(c) for c in text)


def _cp1252_or_latin1(c: str) -> bytes:
    try:
        return c.encode("cp1252")
    except UnicodeEncodeError:
        return c.encode("latin-1")


def with_envelope(lines: list[str], *, system_code: str, date: dt.date) -> list[str]:
    """Wrap in PBCNET30/PBCNET90 as files from Nets arrive."""
    return [pbcnet.format("30", system_code, date=date), *lines,
            pbcnet.format(pbcnet.END_CODE, system_code, date=date, count=len(lines))]


def build_delivery(start: DeliveryStart, sections: Sequence[SectionData], *,
                   envelope: bool = False, newline: str = "\r\n") -> bytes:
    lines = delivery_lines(start, sections)
    if envelope:
        lines = with_envelope(lines, system_code=start.system_code,
                              date=start.created or dt.date(2000, 1, 1))
    return encode(lines, newline=newline)


def build_0602(payments: Iterable[AutomaticPayment | SlipPayment | Payment], *,
               data_supplier: str = "12345678", pbs_number: str = "01234567",
               delivery_number: str = "0000000001", created: dt.date | None = None,
               debtor_group: str = "00001", system_code: str = "BS1",
               envelope: bool = False) -> bytes:
    """A 0602 with section 0211 (automatic) and/or 0215 (slip) as the payments need."""
    created = created or dt.date(2024, 1, 2)
    by_section: dict[str, list[Record]] = {codes.SECTION_AUTOMATIC: [], codes.SECTION_SLIP: []}
    for p in payments:
        slip = isinstance(p, SlipPayment) or (isinstance(p, Payment)
                                               and p.section == codes.SECTION_SLIP)
        by_section[codes.SECTION_SLIP if slip else codes.SECTION_AUTOMATIC].append(p)
    sections = [SectionData(SectionStart(pbs_number, code, debtor_group, "", created), recs)
                for code, recs in by_section.items() if recs]
    start = DeliveryStart(data_supplier, system_code, codes.DELIVERY_0602, delivery_number,
                          created)
    return build_delivery(start, sections, envelope=envelope)


def build_0603(events: Iterable[MandateEvent | SlipInfo], *, data_supplier: str = "12345678",
               pbs_number: str = "01234567", delivery_number: str = "0000000001",
               created: dt.date | None = None, debtor_group: str = "00001",
               system_code: str = "BS1", full_list_section: str = codes.SECTION_ACTIVE,
               envelope: bool = False) -> bytes:
    """A 0603: 0230 lines go to ``full_list_section`` (0210 or 0219), 0231-0234 to 0212,
    slip information (0295) to 0217."""
    created = created or dt.date(2024, 1, 2)
    order = (full_list_section, codes.SECTION_CHANGES, codes.SECTION_SLIP_INFO)
    by_section: dict[str, list[Record]] = {code: [] for code in order}
    for e in events:
        if isinstance(e, SlipInfo):
            by_section[codes.SECTION_SLIP_INFO].append(e)
        elif e.transaction_code == "0230":
            by_section[full_list_section].append(e)
        else:
            by_section[codes.SECTION_CHANGES].append(e)
    sections = [SectionData(SectionStart(pbs_number, code, debtor_group, "", created), recs)
                for code, recs in by_section.items() if recs]
    start = DeliveryStart(data_supplier, system_code, codes.DELIVERY_0603, delivery_number,
                          created)
    return build_delivery(start, sections, envelope=envelope)


def write_delivery(delivery: Delivery, *, newline: str = "\r\n") -> bytes:
    """Write a parsed delivery back (round trip: ``read_delivery(write_delivery(d))``)."""
    sections = [SectionData(s.start, [*s.payments, *s.mandate_events, *s.slip_infos])
                for s in delivery.sections]
    return build_delivery(delivery.start, sections, newline=newline)


# -- helpers with defaults, so tests state only what matters to them -------------------------

def automatic_payment(customer_number: str, reference: str, amount: int, *,
                      agreement_number: str = "000000001", code: str = "0236",
                      due_date: dt.date = dt.date(2024, 1, 2), pbs_number: str = "01234567",
                      debtor_group: str = "00001", paid_amount: int | None = None,
                      payment_date: dt.date | None = None,
                      booking_date: dt.date | None = None) -> AutomaticPayment:
    """0236 by default; 0238 and 0237 default to nothing paid, as Nets writes them."""
    moved = code in ("0236", "0239")
    return AutomaticPayment(
        pbs_number=pbs_number, transaction_code=code, debtor_group=debtor_group,
        customer_number=customer_number, agreement_number=agreement_number.zfill(9),
        due_date=due_date,
        sign_code=1 if amount else 0, amount=amount, reference=reference,
        payment_date=payment_date or (due_date if moved else None),
        booking_date=booking_date or (due_date if moved else None),
        paid_amount=(amount if moved else 0) if paid_amount is None else paid_amount)


def slip_payment(customer_number: str, reference: str, amount: int, archive_reference: str, *,
                 code: str = "0297", card_type: str = "71",
                 due_date: dt.date = dt.date(2024, 1, 2), pbs_number: str = "01234567",
                 debtor_group: str = "00001", paid_amount: int | None = None,
                 payment_date: dt.date | None = None,
                 booking_date: dt.date | None = None) -> SlipPayment:
    return SlipPayment(
        pbs_number=pbs_number, transaction_code=code, debtor_group=debtor_group,
        customer_number=customer_number, card_type=card_type, fee_code=0, fee_amount=0,
        due_date=due_date, sign_code=1 if amount else 0, amount=amount, reference=reference,
        archive_reference=archive_reference, payment_date=payment_date or due_date,
        booking_date=booking_date or due_date,
        paid_amount=amount if paid_amount is None else paid_amount)


def mandate_event(customer_number: str, agreement_number: str, *, code: str = "0231",
                  start_date: dt.date | None = dt.date(2024, 1, 2),
                  end_date: dt.date | None = None, pbs_number: str = "01234567",
                  debtor_group: str = "00001") -> MandateEvent:
    return MandateEvent(pbs_number=pbs_number, transaction_code=code, debtor_group=debtor_group,
                        customer_number=customer_number, agreement_number=agreement_number.zfill(9),
                        start_date=start_date, end_date=end_date)


def _payment_lines(p: Payment) -> list[tuple[str, str]]:
    if p.section == codes.SECTION_AUTOMATIC:
        return [("042", bs042_automatic.format(AutomaticPayment(
            pbs_number=p.pbs_number, transaction_code=p.transaction_code,
            debtor_group=p.debtor_group, customer_number=p.customer_number,
            agreement_number=p.agreement_number or "000000000", due_date=p.due_date,
            sign_code=p.sign_code, amount=p.requested_amount, reference=p.payment_reference,
            payment_date=p.payment_date, booking_date=p.booking_date,
            paid_amount=p.paid_amount)))]
    card_type = p.card_type or ""
    archive = p.archive_reference or ""

    def extra(code: str, number: int, text: str) -> SlipExtraLine:
        return SlipExtraLine(p.pbs_number, code, number, p.debtor_group, p.customer_number,
                             card_type, archive, text)

    lines = [("022", bs022.format(extra(bs022.TRANSACTION_CODE, i, t)))
             for i, t in enumerate(p.address_lines, 1)]
    lines.append(("042", bs042_slip.format(SlipPayment(
        pbs_number=p.pbs_number, transaction_code=p.transaction_code,
        debtor_group=p.debtor_group, customer_number=p.customer_number, card_type=card_type,
        fee_code=1 if p.fee_amount else 0, fee_amount=p.fee_amount, due_date=p.due_date,
        sign_code=p.sign_code, amount=p.requested_amount, reference=p.payment_reference,
        archive_reference=archive, payment_date=p.payment_date, booking_date=p.booking_date,
        paid_amount=p.paid_amount))))
    lines.extend(("052", bs052.format(extra(bs052.TRANSACTION_CODE, i, t)))
                 for i, t in enumerate(p.text_lines, 1))
    return lines
