"""BS012 section start in deliveries from Nets (0602/0603), PAYMENT-FORMATS.md §1.3.

The 0601 variant (to Nets) has other positions: see :mod:`.bs012_0601`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from formats.errors import IssueList
from formats.fixedwidth import Field
from formats.pbs.fields import STRICT, Layout, Policy, const, ddmmyy, n, x

FIELDS: tuple[Field, ...] = (
    const("system", 1, 2, "BS"),
    const("record_type", 3, 5, "012"),
    n("pbs_number", 6, 13, "creditor's PBS number"),
    n("section", 14, 17, "0211/0215 (0602), 0210/0212/0217/0219 (0603)"),
    x("filler_1", 18, 20, "'000' in 0602, blanks in 0603: both accepted"),
    n("debtor_group", 21, 25),
    x("data_supplier_id", 26, 40, "creditor's id with the data supplier"),
    x("filler_2", 41, 49),
    n("date", 50, 55, "ddmmyy"),
    x("filler_3", 56, 128),
)
LAYOUT = Layout("BS012", FIELDS)


@dataclass(frozen=True, slots=True)
class SectionStart:
    pbs_number: str
    section: str
    debtor_group: str
    data_supplier_id: str
    date: dt.date | None
    line: int | None = field(default=None, compare=False)


def parse(line: str, *, lineno: int | None, issues: IssueList,
          policy: Policy = STRICT) -> SectionStart | None:
    r = LAYOUT.reader(line, lineno=lineno, issues=issues, policy=policy)
    r.const("system")
    r.const("record_type")
    rec = SectionStart(
        pbs_number=r.ident("pbs_number"),
        section=r.digits("section"),
        debtor_group=r.digits("debtor_group"),
        data_supplier_id=r.text("data_supplier_id"),
        date=r.date("date"),
        line=lineno,
    )
    return rec if r.ok else None


def format(rec: SectionStart, *, filler: str = "000") -> str:
    """``filler`` is ``000`` in 0602 and blanks in 0603, as Nets writes them."""
    return LAYOUT.format({
        "pbs_number": rec.pbs_number, "section": rec.section, "filler_1": filler,
        "debtor_group": rec.debtor_group, "data_supplier_id": rec.data_supplier_id,
        "date": ddmmyy(rec.date),
    })
