"""BS022 0290: payer's address line from a type-73 payment slip (0602 section 0215, §1.4.2).

Linked to its payment by the archive reference. The 0601 name/address record
(022/0240) is :mod:`.bs022_0240`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from formats.errors import IssueCode, IssueList
from formats.fixedwidth import Field
from formats.pbs.fields import STRICT, Layout, Policy, const, n, x

TRANSACTION_CODE = "0290"
MAX_RECORD_NUMBER = 5

FIELDS: tuple[Field, ...] = (
    const("system", 1, 2, "BS"),
    const("record_type", 3, 5, "022"),
    n("pbs_number", 6, 13),
    n("transaction_code", 14, 17, "0290"),
    n("record_number", 18, 20, "001-005"),
    n("debtor_group", 21, 25),
    n("filler_1", 26, 29, "0000"),
    x("customer_number", 30, 44, "blank for slip type 73"),
    n("card_type", 45, 46),
    x("archive_reference", 47, 68),
    x("text", 69, 103, "address line"),
    x("filler_2", 104, 128),
)
LAYOUT = Layout("BS022/0290", FIELDS)


@dataclass(frozen=True, slots=True)
class SlipExtraLine:
    """An address line (022/0290) or a payer's text line (052/0295) of a slip payment."""

    pbs_number: str
    transaction_code: str
    record_number: int
    debtor_group: str
    customer_number: str
    card_type: str
    archive_reference: str
    text: str
    line: int | None = field(default=None, compare=False)


def parse_extra(layout: Layout, code: str, max_number: int, line: str, *, lineno: int | None,
                issues: IssueList, policy: Policy) -> SlipExtraLine | None:
    """Shared by BS022/0290 and BS052/0295: same positions, other record number range."""
    r = layout.reader(line, lineno=lineno, issues=issues, policy=policy)
    r.const("system")
    r.const("record_type")
    r.choice("transaction_code", (code,))
    number = r.int("record_number")
    if r.ok and not 1 <= number <= max_number:
        r.fail("record_number", IssueCode.OUT_OF_RANGE, f"record number must be 001-{max_number:03d}",
               expected=f"001-{max_number:03d}")
    r.digits("filler_1")
    rec = SlipExtraLine(
        pbs_number=r.ident("pbs_number"),
        transaction_code=code,
        record_number=number,
        debtor_group=r.digits("debtor_group"),
        customer_number=r.customer("customer_number"),
        card_type=r.digits("card_type"),
        archive_reference=r.text("archive_reference"),
        text=r.text("text"),
        line=lineno,
    )
    return rec if r.ok else None


def format_extra(layout: Layout, rec: SlipExtraLine) -> str:
    return layout.format({
        "pbs_number": rec.pbs_number, "transaction_code": rec.transaction_code,
        "record_number": rec.record_number, "debtor_group": rec.debtor_group, "filler_1": 0,
        "customer_number": rec.customer_number.rjust(15, "0") if rec.customer_number else "",
        "card_type": rec.card_type, "archive_reference": rec.archive_reference, "text": rec.text,
    })


def parse(line: str, *, lineno: int | None, issues: IssueList,
          policy: Policy = STRICT) -> SlipExtraLine | None:
    return parse_extra(LAYOUT, TRANSACTION_CODE, MAX_RECORD_NUMBER, line, lineno=lineno,
                       issues=issues, policy=policy)


def format(rec: SlipExtraLine) -> str:
    return format_extra(LAYOUT, rec)
