"""4000 transaction detail: one payment, echoed by CheckFree in every inbound file.

The debit file carries bank data and the action code; inbound files carry a
status, a reason code, CheckFree's confirmation or trace number and, in returns,
the corrected data of a notification of change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from formats.checkfree.codec import Value

ACTION_ADD = "ADD"


@dataclass(frozen=True, slots=True)
class Detail:
    transaction_id: str
    amount: int  #: cents
    account_number: str = ""  #: the biller account the payment is for
    reference: str = ""
    payment_date: date | None = None
    routing_number: str = ""
    bank_account: str = ""
    account_type: str = ""  #: C checking, S savings
    payer_name: str = ""
    action_code: str = ""
    status: str = ""
    reason_code: str = ""
    confirmation_no: str = ""
    status_date: date | None = None
    corrected_data: str = ""
    line: int | None = field(default=None, compare=False)

    @classmethod
    def from_values(cls, v: Mapping[str, Value], line: int | None) -> Detail:
        amount = v.get("amount")
        return cls(transaction_id=_s(v, "transaction_id"),
                   amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else 0,
                   account_number=_s(v, "account_number"), reference=_s(v, "reference"),
                   payment_date=_d(v, "payment_date"), routing_number=_s(v, "routing_number"),
                   bank_account=_s(v, "bank_account"), account_type=_s(v, "account_type"),
                   payer_name=_s(v, "payer_name"), action_code=_s(v, "action_code"), status=_s(v, "status"),
                   reason_code=_s(v, "reason_code"), confirmation_no=_s(v, "confirmation_no"),
                   status_date=_d(v, "status_date"), corrected_data=_s(v, "corrected_data"), line=line)

    def to_values(self) -> dict[str, Value]:
        return {"transaction_id": self.transaction_id, "amount": self.amount,
                "account_number": self.account_number, "reference": self.reference,
                "payment_date": self.payment_date, "routing_number": self.routing_number or None,
                "bank_account": self.bank_account, "account_type": self.account_type,
                "payer_name": self.payer_name, "action_code": self.action_code, "status": self.status,
                "reason_code": self.reason_code, "confirmation_no": self.confirmation_no,
                "status_date": self.status_date, "corrected_data": self.corrected_data}


def _s(v: Mapping[str, Value], name: str) -> str:
    x = v.get(name)
    return "" if x is None else str(x)


def _d(v: Mapping[str, Value], name: str) -> date | None:
    x = v.get(name)
    return x if isinstance(x, date) else None
