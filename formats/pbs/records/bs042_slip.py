"""BS042 0297/0299: 0602 section 0215 payment-slip (FI-card) payments (§1.4.2).

Everything after the debtor group is shifted by 4 compared with 0236 (a
``0000`` filler at 26-29), and only the first 9 characters of the creditor's
reference survive.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from formats.errors import IssueList
from formats.fixedwidth import Field
from formats.pbs.codes import PAYMENT_CODES, PaymentKind
from formats.pbs.fields import STRICT, Layout, Policy, const, ddmmyy, n, x

CODES = ("0297", "0299")

FIELDS: tuple[Field, ...] = (
    const("system", 1, 2, "BS"),
    const("record_type", 3, 5, "042"),
    n("pbs_number", 6, 13),
    n("transaction_code", 14, 17, "0297 completed, 0299 charged back"),
    n("record_number", 18, 20, "000"),
    n("debtor_group", 21, 25),
    n("filler", 26, 29, "0000"),
    x("customer_number", 30, 44, "right-aligned zeros; blank for slip type 73"),
    n("card_type", 45, 46, "payment slip type (kortart) 71/73/75"),
    n("fee_code", 47, 47, "0 none, 1 reject fee deducted"),
    n("fee_amount", 48, 52, "øre"),
    n("due_date", 53, 58, "date on the slip, ddmmyy"),
    n("sign_code", 59, 59, "0 no amount, 1 payment to creditor"),
    n("amount", 60, 72, "amount on the slip, øre"),
    x("reference", 73, 81, "first 9 characters of the creditor's reference"),
    x("archive_reference", 82, 103, "acquiring bank's archive reference, unique per payment"),
    n("payment_date", 104, 109, "ddmmyy; 0299: charge-back date"),
    n("booking_date", 110, 115, "ddmmyy"),
    n("paid_amount", 116, 128, "amount actually paid (0299: charged back), øre"),
)
LAYOUT = Layout("BS042/0215", FIELDS)


@dataclass(frozen=True, slots=True)
class SlipPayment:
    pbs_number: str
    transaction_code: str
    debtor_group: str
    customer_number: str
    card_type: str
    fee_code: int
    fee_amount: int
    due_date: dt.date | None
    sign_code: int
    amount: int
    reference: str
    archive_reference: str
    payment_date: dt.date | None
    booking_date: dt.date | None
    paid_amount: int
    line: int | None = field(default=None, compare=False)

    @property
    def kind(self) -> PaymentKind:
        return PAYMENT_CODES[self.transaction_code]

    @property
    def received_amount(self) -> int:
        """Øre received; a charge-back (0299) is negative."""
        if self.kind is PaymentKind.CHARGED_BACK:
            return -self.paid_amount
        return self.paid_amount


def parse(line: str, *, lineno: int | None, issues: IssueList,
          policy: Policy = STRICT) -> SlipPayment | None:
    r = LAYOUT.reader(line, lineno=lineno, issues=issues, policy=policy)
    r.const("system")
    r.const("record_type")
    code = r.choice("transaction_code", CODES)
    r.digits("record_number")
    r.digits("filler")
    fee = r.choice("fee_code", ("0", "1"))
    sign = r.choice("sign_code", ("0", "1"))
    rec = SlipPayment(
        pbs_number=r.ident("pbs_number"),
        transaction_code=code,
        debtor_group=r.digits("debtor_group"),
        customer_number=r.customer("customer_number"),
        card_type=r.digits("card_type"),
        fee_code=int(fee) if fee.isdigit() and fee.isascii() else 0,
        fee_amount=r.int("fee_amount"),
        due_date=r.date("due_date"),
        sign_code=int(sign) if sign.isdigit() and sign.isascii() else 0,
        amount=r.int("amount"),
        reference=r.text("reference"),
        archive_reference=r.text("archive_reference"),
        payment_date=r.date("payment_date"),
        booking_date=r.date("booking_date"),
        paid_amount=r.int("paid_amount"),
        line=lineno,
    )
    return rec if r.ok else None


def format(rec: SlipPayment) -> str:
    return LAYOUT.format({
        "pbs_number": rec.pbs_number, "transaction_code": rec.transaction_code,
        "record_number": 0, "debtor_group": rec.debtor_group, "filler": 0,
        "customer_number": rec.customer_number.rjust(15, "0") if rec.customer_number else "",
        "card_type": rec.card_type, "fee_code": rec.fee_code, "fee_amount": rec.fee_amount,
        "due_date": ddmmyy(rec.due_date), "sign_code": rec.sign_code, "amount": rec.amount,
        "reference": rec.reference, "archive_reference": rec.archive_reference,
        "payment_date": ddmmyy(rec.payment_date), "booking_date": ddmmyy(rec.booking_date),
        "paid_amount": rec.paid_amount,
    })
