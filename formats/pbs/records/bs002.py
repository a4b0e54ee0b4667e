"""BS002 delivery start (0601/0602/0603), PAYMENT-FORMATS.md §1.3."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from formats.errors import IssueList
from formats.fixedwidth import Field
from formats.pbs.fields import STRICT, Layout, Policy, const, ddmmyy, n, x

FIELDS: tuple[Field, ...] = (
    const("system", 1, 2, "BS"),
    const("record_type", 3, 5, "002"),
    n("data_supplier", 6, 13, "data supplier's CVR number"),
    x("system_code", 14, 16, "delsystem: BS1 standard, BS2/BSH seen"),
    n("delivery_type", 17, 20, "0601 / 0602 / 0603 ..."),
    n("delivery_number", 21, 30, "PBS serial no. (0602/0603), the creditor's own (0601): duplicate key"),
    x("filler_1", 31, 49),
    n("created", 50, 55, "ddmmyy; 000000 allowed in 0601"),
    x("filler_2", 56, 128),
)
LAYOUT = Layout("BS002", FIELDS)


@dataclass(frozen=True, slots=True)
class DeliveryStart:
    data_supplier: str
    system_code: str
    delivery_type: str
    delivery_number: str
    created: dt.date | None
    line: int | None = field(default=None, compare=False)


def parse(line: str, *, lineno: int | None, issues: IssueList,
          policy: Policy = STRICT) -> DeliveryStart | None:
    r = LAYOUT.reader(line, lineno=lineno, issues=issues, policy=policy)
    r.const("system")
    r.const("record_type")
    rec = DeliveryStart(
        data_supplier=r.ident("data_supplier"),
        system_code=r.text("system_code"),
        delivery_type=r.digits("delivery_type"),
        delivery_number=r.digits("delivery_number"),
        created=r.date("created"),
        line=lineno,
    )
    return rec if r.ok else None


def format(rec: DeliveryStart) -> str:
    return LAYOUT.format({
        "data_supplier": rec.data_supplier, "system_code": rec.system_code,
        "delivery_type": rec.delivery_type, "delivery_number": rec.delivery_number,
        "created": ddmmyy(rec.created),
    })
