"""Delivery types, sections and transaction codes (PAYMENT-FORMATS.md §1.2)."""

from __future__ import annotations

from enum import StrEnum

DELIVERY_0601 = "0601"  #: collection data, creditor → Nets
DELIVERY_0602 = "0602"  #: payment information, Nets → creditor
DELIVERY_0603 = "0603"  #: agreement (mandate) information, Nets → creditor

SECTION_AUTOMATIC = "0211"  #: 0602 automatic payments
SECTION_SLIP = "0215"  #: 0602 payment-slip (indbetalingskort / FI-card) payments
SECTION_ACTIVE = "0210"  #: 0603 full list of active agreements
SECTION_CHANGES = "0212"  #: 0603 registered / cancelled agreements since the last 0603
SECTION_SLIP_INFO = "0217"  #: 0603 information from printed payment slips
SECTION_EIK_ACTIVE = "0219"  #: 0603 active Elektronisk indbetalingskort agreements

#: agreement number used for Elektronisk indbetalingskort agreements (0219, sometimes 0210)
EIK_AGREEMENT = "999999999"


class PaymentKind(StrEnum):
    """What a 0602 BS042 says happened to a payment."""

    COMPLETED = "completed"  #: 0236, 0297
    REJECTED = "rejected"  #: 0237: no money moved, even when "amount paid" is filled in
    CANCELLED = "cancelled"  #: 0238: agreement cancelled before the due date
    CHARGED_BACK = "charged_back"  #: 0239, 0299: money taken back, booked negative


class MandateEventKind(StrEnum):
    """What a 0603 BS042 says about a payment agreement (mandate)."""

    ACTIVE = "active"  #: 0230, a snapshot line of a full list
    SUBSCRIBED = "subscribed"  #: 0231
    CANCELLED_BY_DEBTOR_BANK = "cancelled_by_debtor_bank"  #: 0232
    CANCELLED_BY_CREDITOR = "cancelled_by_creditor"  #: 0233
    CANCELLED_BY_BETALINGSSERVICE = "cancelled_by_betalingsservice"  #: 0234, unused ~15 months

    @property
    def is_cancellation(self) -> bool:
        return self in _CANCELLATIONS


_CANCELLATIONS = frozenset({MandateEventKind.CANCELLED_BY_DEBTOR_BANK,
                            MandateEventKind.CANCELLED_BY_CREDITOR,
                            MandateEventKind.CANCELLED_BY_BETALINGSSERVICE})

PAYMENT_CODES: dict[str, PaymentKind] = {
    "0236": PaymentKind.COMPLETED,
    "0237": PaymentKind.REJECTED,
    "0238": PaymentKind.CANCELLED,
    "0239": PaymentKind.CHARGED_BACK,
    "0297": PaymentKind.COMPLETED,
    "0299": PaymentKind.CHARGED_BACK,
}

MANDATE_CODES: dict[str, MandateEventKind] = {
    "0230": MandateEventKind.ACTIVE,
    "0231": MandateEventKind.SUBSCRIBED,
    "0232": MandateEventKind.CANCELLED_BY_DEBTOR_BANK,
    "0233": MandateEventKind.CANCELLED_BY_CREDITOR,
    "0234": MandateEventKind.CANCELLED_BY_BETALINGSSERVICE,
}

#: which BS042 transaction codes may appear in which section of which delivery
SECTION_042_CODES: dict[str, dict[str, frozenset[str]]] = {
    DELIVERY_0602: {
        SECTION_AUTOMATIC: frozenset({"0236", "0237", "0238", "0239"}),
        SECTION_SLIP: frozenset({"0297", "0299"}),
    },
    DELIVERY_0603: {
        SECTION_ACTIVE: frozenset({"0230"}),
        SECTION_CHANGES: frozenset({"0231", "0232", "0233", "0234"}),
        SECTION_EIK_ACTIVE: frozenset({"0230"}),
        SECTION_SLIP_INFO: frozenset({"0295"}),
    },
}

#: BS022/BS052 extras allowed per section (0215: address lines 022/0290, payer text 052/0295)
SECTION_EXTRA_CODES: dict[str, dict[str, str]] = {
    SECTION_SLIP: {"022": "0290", "052": "0295"},
}

#: payment-slip (kortart) types and the length of their OCR payment id (0601 §4.6)
SLIP_PAYMENT_ID_LENGTH: dict[str, int] = {"71": 15, "75": 16, "04": 16, "15": 16}
SLIP_NO_PAYMENT_ID = "73"
