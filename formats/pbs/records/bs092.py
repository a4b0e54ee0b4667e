"""BS092 section end in deliveries from Nets (0602/0603), PAYMENT-FORMATS.md §1.3.

The amount is the sum of "amount actually paid" (0602 text, confirmed by real
files), but the guide's own examples sum the requested amount: the reader only
warns about it. The counts are checked strictly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from formats.errors import IssueList
from formats.fixedwidth import Field
from formats.pbs.fields import STRICT, Layout, Policy, const, n, x

FIELDS: tuple[Field, ...] = (
    const("system", 1, 2, "BS"),
    const("record_type", 3, 5, "092"),
    n("pbs_number", 6, 13),
    n("section", 14, 17),
    x("filler_1", 18, 20, "'000'"),
    n("debtor_group", 21, 25),
    x("filler_2", 26, 31),
    n("count_042", 32, 42, "number of BS042 records"),
    n("amount", 43, 57, "øre"),
    n("count_052", 58, 68, "number of BS052 records"),
    x("filler_3", 69, 83),
    n("count_022", 84, 94, "number of BS022 records"),
    x("filler_4", 95, 128),
)
LAYOUT = Layout("BS092", FIELDS)


@dataclass(frozen=True, slots=True)
class SectionEnd:
    pbs_number: str
    section: str
    debtor_group: str
    count_042: int
    amount: int
    count_052: int
    count_022: int
    line: int | None = field(default=None, compare=False)


def parse(line: str, *, lineno: int | None, issues: IssueList,
          policy: Policy = STRICT) -> SectionEnd | None:
    r = LAYOUT.reader(line, lineno=lineno, issues=issues, policy=policy)
    r.const("system")
    r.const("record_type")
    rec = SectionEnd(
        pbs_number=r.ident("pbs_number"),
        section=r.digits("section"),
        debtor_group=r.digits("debtor_group"),
        count_042=r.int("count_042"),
        amount=r.int("amount"),
        count_052=r.int("count_052"),
        count_022=r.int("count_022"),
        line=lineno,
    )
    return rec if r.ok else None


def format(rec: SectionEnd) -> str:
    return LAYOUT.format({
        "pbs_number": rec.pbs_number, "section": rec.section, "filler_1": "000",
        "debtor_group": rec.debtor_group, "count_042": rec.count_042, "amount": rec.amount,
        "count_052": rec.count_052, "count_022": rec.count_022,
    })
