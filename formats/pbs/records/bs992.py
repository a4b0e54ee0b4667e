"""BS992 delivery end (0601/0602/0603), PAYMENT-FORMATS.md §1.3."""

from __future__ import annotations

from dataclasses import dataclass, field

from formats.errors import IssueList
from formats.fixedwidth import Field
from formats.pbs.fields import STRICT, Layout, Policy, const, n, x

FIELDS: tuple[Field, ...] = (
    const("system", 1, 2, "BS"),
    const("record_type", 3, 5, "992"),
    n("data_supplier", 6, 13, "CVR"),
    x("system_code", 14, 16),
    n("delivery_type", 17, 20),
    n("count_sections", 21, 31),
    n("count_042", 32, 42),
    n("amount", 43, 57, "øre: sum of the section amounts"),
    n("count_052", 58, 68, "052 (+062 in 0601) records"),
    n("filler_1", 69, 83, "zeros"),
    n("count_022", 84, 94),
    n("filler_2", 95, 128, "zeros"),
)
LAYOUT = Layout("BS992", FIELDS)


@dataclass(frozen=True, slots=True)
class DeliveryEnd:
    data_supplier: str
    system_code: str
    delivery_type: str
    count_sections: int
    count_042: int
    amount: int
    count_052: int
    count_022: int
    line: int | None = field(default=None, compare=False)


def parse(line: str, *, lineno: int | None, issues: IssueList,
          policy: Policy = STRICT) -> DeliveryEnd | None:
    r = LAYOUT.reader(line, lineno=lineno, issues=issues, policy=policy)
    r.const("system")
    r.const("record_type")
    rec = DeliveryEnd(
        data_supplier=r.ident("data_supplier"),
        system_code=r.text("system_code"),
        delivery_type=r.digits("delivery_type"),
        count_sections=r.int("count_sections"),
        count_042=r.int("count_042"),
        amount=r.int("amount"),
        count_052=r.int("count_052"),
        count_022=r.int("count_022"),
        line=lineno,
    )
    return rec if r.ok else None


def format(rec: DeliveryEnd) -> str:
    return LAYOUT.format({
        "data_supplier": rec.data_supplier, "system_code": rec.system_code,
        "delivery_type": rec.delivery_type, "count_sections": rec.count_sections,
        "count_042": rec.count_042, "amount": rec.amount, "count_052": rec.count_052,
        "count_022": rec.count_022,
    })
