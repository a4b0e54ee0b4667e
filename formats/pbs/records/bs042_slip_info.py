"""BS042 0295: 0603 section 0217, information from printed payment slips (§1.4.4).

No public spec: positions come from the hafsjold reader and were checked on
real records (all 97 characters long, payer ids pass modulus 10). Use: map the
FI payment id printed on a card back to customer and invoice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from formats.errors import IssueList
from formats.fixedwidth import Field
from formats.pbs.codes import SLIP_PAYMENT_ID_LENGTH
from formats.pbs.fields import STRICT, Layout, Policy, const, ddmmyy, n, x

CODES = ("0295",)

FIELDS: tuple[Field, ...] = (
    const("system", 1, 2, "BS"),
    const("record_type", 3, 5, "042"),
    n("pbs_number", 6, 13),
    n("transaction_code", 14, 17, "0295"),
    n("record_number", 18, 20, "000"),
    n("debtor_group", 21, 25),
    x("customer_number", 26, 40),
    n("card_type", 41, 42, "kortartkode, 71 in all real data"),
    n("fi_creditor", 43, 50, "the +KKKKKKKK< part of the OCR line"),
    n("payer_id", 51, 69, "right-aligned; last 15 (71) or 16 (75) digits are the payment id"),
    n("due_date", 70, 75, "ddmmyy"),
    n("amount", 76, 88, "øre"),
    x("reference", 89, 97, "invoice number, first 9 characters"),
    x("filler", 98, 128),
)
LAYOUT = Layout("BS042/0217", FIELDS)


@dataclass(frozen=True, slots=True)
class SlipInfo:
    pbs_number: str
    debtor_group: str
    customer_number: str
    card_type: str
    fi_creditor: str
    payer_id: str
    due_date: dt.date | None
    amount: int
    reference: str
    line: int | None = field(default=None, compare=False)

    transaction_code = "0295"

    @property
    def payment_id(self) -> str:
        """The OCR payment id printed on the card (check digit last)."""
        length = SLIP_PAYMENT_ID_LENGTH.get(self.card_type, len(self.payer_id))
        return self.payer_id[-length:]


def parse(line: str, *, lineno: int | None, issues: IssueList,
          policy: Policy = STRICT) -> SlipInfo | None:
    r = LAYOUT.reader(line, lineno=lineno, issues=issues, policy=policy)
    r.const("system")
    r.const("record_type")
    r.choice("transaction_code", CODES)
    r.digits("record_number")
    rec = SlipInfo(
        pbs_number=r.ident("pbs_number"),
        debtor_group=r.digits("debtor_group"),
        customer_number=r.customer("customer_number"),
        card_type=r.digits("card_type"),
        fi_creditor=r.digits("fi_creditor"),
        payer_id=r.digits("payer_id"),
        due_date=r.date("due_date"),
        amount=r.int("amount"),
        reference=r.text("reference"),
        line=lineno,
    )
    return rec if r.ok else None


def format(rec: SlipInfo) -> str:
    return LAYOUT.format({
        "pbs_number": rec.pbs_number, "transaction_code": "0295", "record_number": 0,
        "debtor_group": rec.debtor_group, "customer_number": rec.customer_number.rjust(15, "0"),
        "card_type": rec.card_type, "fi_creditor": rec.fi_creditor, "payer_id": rec.payer_id,
        "due_date": ddmmyy(rec.due_date), "amount": rec.amount, "reference": rec.reference,
    })
