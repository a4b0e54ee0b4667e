"""Refund batch XML of seed 001 ("pmtPaymentRefund Job"): root ``<refunds>`` or ``<doc>``.

Each ``<refund>`` becomes a :class:`RefundRow` with its own issues, so the loader
can schedule good rows and record bad ones as rejected with the reason (seed:
"If the mandatory parameters are not set then the refund is rejected and an
entry is written to the payment_refunds table with the status Rejected").
Only file-level problems (malformed XML, a DOCTYPE, a wrong root) raise
:class:`FormatError`. Parsing uses the same hardened streaming iterparse as bills.

Seed quirk kept on purpose: the sample spells the payer account element
``payerAccoutNumber``; both that and ``payerAccountNumber`` are accepted.
"""

from formats.refunds.reader import (
    ROOTS,
    PaymentType,
    RefundReader,
    RefundRow,
    RefundType,
    read_refunds,
)

__all__ = ["ROOTS", "PaymentType", "RefundReader", "RefundRow", "RefundType", "read_refunds"]
