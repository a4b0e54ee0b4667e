"""BS042 0236/0237/0238/0239: 0602 section 0211 automatic payments (§1.4.1)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from formats.errors import IssueCode, IssueList
from formats.fixedwidth import Field
from formats.pbs.codes import PAYMENT_CODES, PaymentKind
from formats.pbs.fields import STRICT, Layout, Policy, const, ddmmyy, n, x

CODES = ("0236", "0237", "0238", "0239")

FIELDS: tuple[Field, ...] = (
    const("system", 1, 2, "BS"),
    const("record_type", 3, 5, "042"),
    n("pbs_number", 6, 13, "creditor"),
    n("transaction_code", 14, 17, "0236 completed, 0237 rejected, 0238 cancelled, 0239 charged back"),
    n("record_number", 18, 20, "000"),
    n("debtor_group", 21, 25),
    x("customer_number", 26, 40, "right-aligned with zeros"),
    n("agreement_number", 41, 49, "mandate (aftale) number"),
    n("due_date", 50, 55, "ddmmyy"),
    n("sign_code", 56, 56, "0 no amount, 1 withdrawal (debtor pays), 2 deposit (payout)"),
    n("amount", 57, 69, "requested amount, øre"),
    x("reference", 70, 99, "creditor's reference from 0601/XML000: the invoice number"),
    x("filler", 100, 103),
    n("payment_date", 104, 109, "ddmmyy; 000000 for 0238 and early 0237"),
    n("booking_date", 110, 115, "ddmmyy"),
    n("paid_amount", 116, 128, "amount actually paid, øre"),
)
LAYOUT = Layout("BS042/0211", FIELDS)


@dataclass(frozen=True, slots=True)
class AutomaticPayment:
    pbs_number: str
    transaction_code: str
    debtor_group: str
    customer_number: str
    agreement_number: str
    due_date: dt.date | None
    sign_code: int
    amount: int
    reference: str
    payment_date: dt.date | None
    booking_date: dt.date | None
    paid_amount: int
    line: int | None = field(default=None, compare=False)

    @property
    def kind(self) -> PaymentKind:
        return PAYMENT_CODES[self.transaction_code]

    @property
    def received_amount(self) -> int:
        """The money effect in øre (§1.5): rejections and cancellations move nothing,
        a charge-back is negative whatever its sign code."""
        if self.kind is PaymentKind.CHARGED_BACK:
            return -self.paid_amount
        if self.kind is not PaymentKind.COMPLETED:
            return 0
        return {0: 0, 1: self.paid_amount, 2: -self.paid_amount}[self.sign_code]


def parse(line: str, *, lineno: int | None, issues: IssueList,
          policy: Policy = STRICT) -> AutomaticPayment | None:
    r = LAYOUT.reader(line, lineno=lineno, issues=issues, policy=policy)
    r.const("system")
    r.const("record_type")
    code = r.choice("transaction_code", CODES)
    r.digits("record_number")
    sign = r.choice("sign_code", ("0", "1", "2"))
    rec = AutomaticPayment(
        pbs_number=r.ident("pbs_number"),
        transaction_code=code,
        debtor_group=r.digits("debtor_group"),
        customer_number=r.customer("customer_number"),
        agreement_number=r.digits("agreement_number"),
        due_date=r.date("due_date"),
        sign_code=int(sign) if sign.isdigit() and sign.isascii() else 0,
        amount=r.int("amount"),
        reference=r.text("reference"),
        payment_date=r.date("payment_date"),
        booking_date=r.date("booking_date"),
        paid_amount=r.int("paid_amount"),
        line=lineno,
    )
    if r.ok and rec.sign_code == 0 and rec.paid_amount and code == "0236":
        r.fail("sign_code", IssueCode.SIGN_MISMATCH, "sign code 0 (no amount) with an amount paid",
               expected="1 or 2")
    return rec if r.ok else None


def format(rec: AutomaticPayment) -> str:
    return LAYOUT.format({
        "pbs_number": rec.pbs_number, "transaction_code": rec.transaction_code,
        "record_number": 0, "debtor_group": rec.debtor_group,
        "customer_number": rec.customer_number.rjust(15, "0"),
        "agreement_number": rec.agreement_number, "due_date": ddmmyy(rec.due_date),
        "sign_code": rec.sign_code, "amount": rec.amount, "reference": rec.reference,
        "payment_date": ddmmyy(rec.payment_date), "booking_date": ddmmyy(rec.booking_date),
        "paid_amount": rec.paid_amount,
    })
