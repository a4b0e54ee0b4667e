"""BS042 0230-0234: 0603 agreement (mandate) events, sections 0210/0212/0219 (§1.4.3)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from formats.errors import IssueList
from formats.fixedwidth import Field
from formats.pbs.codes import EIK_AGREEMENT, MANDATE_CODES, MandateEventKind
from formats.pbs.fields import STRICT, Layout, Policy, const, ddmmyy, n, x

CODES = ("0230", "0231", "0232", "0233", "0234")

FIELDS: tuple[Field, ...] = (
    const("system", 1, 2, "BS"),
    const("record_type", 3, 5, "042"),
    n("pbs_number", 6, 13),
    n("transaction_code", 14, 17, "0230 active, 0231 registered, 0232/0233/0234 cancelled by "
      "debtor's bank / creditor / Betalingsservice"),
    n("record_number", 18, 20, "000"),
    n("debtor_group", 21, 25),
    x("customer_number", 26, 40, "right-aligned zeros; may be alphanumeric, upper-case"),
    n("agreement_number", 41, 49, "999999999 = Elektronisk indbetalingskort agreement"),
    n("start_date", 50, 55, "ddmmyy, up to 180 days ahead"),
    n("end_date", 56, 61, "ddmmyy cancellation date or 000000"),
    x("filler", 62, 128),
)
LAYOUT = Layout("BS042/0603", FIELDS)


@dataclass(frozen=True, slots=True)
class MandateEvent:
    pbs_number: str
    transaction_code: str
    debtor_group: str
    customer_number: str
    agreement_number: str
    start_date: dt.date | None
    end_date: dt.date | None
    line: int | None = field(default=None, compare=False)

    @property
    def kind(self) -> MandateEventKind:
        return MANDATE_CODES[self.transaction_code]

    @property
    def is_fi_card_agreement(self) -> bool:
        return self.agreement_number == EIK_AGREEMENT


def parse(line: str, *, lineno: int | None, issues: IssueList,
          policy: Policy = STRICT) -> MandateEvent | None:
    r = LAYOUT.reader(line, lineno=lineno, issues=issues, policy=policy)
    r.const("system")
    r.const("record_type")
    code = r.choice("transaction_code", CODES)
    r.digits("record_number")
    rec = MandateEvent(
        pbs_number=r.ident("pbs_number"),
        transaction_code=code,
        debtor_group=r.digits("debtor_group"),
        customer_number=r.customer("customer_number"),
        agreement_number=r.digits("agreement_number"),
        start_date=r.date("start_date"),
        end_date=r.date("end_date"),
        line=lineno,
    )
    return rec if r.ok else None


def format(rec: MandateEvent) -> str:
    return LAYOUT.format({
        "pbs_number": rec.pbs_number, "transaction_code": rec.transaction_code,
        "record_number": 0, "debtor_group": rec.debtor_group,
        "customer_number": rec.customer_number.rjust(15, "0"),
        "agreement_number": rec.agreement_number, "start_date": ddmmyy(rec.start_date),
        "end_date": ddmmyy(rec.end_date),
    })
