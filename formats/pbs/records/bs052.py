"""BS052 0295: payer's free text from a type 73/75 payment slip (0602 section 0215, §1.4.2).

Same positions as BS022/0290, record numbers 001-041. The 0601 text record
(052/0241) is :mod:`.bs052_0241`.
"""

from __future__ import annotations

from formats.errors import IssueList
from formats.fixedwidth import Field
from formats.pbs.fields import STRICT, Layout, Policy, const, n, x
from formats.pbs.records.bs022 import SlipExtraLine, format_extra, parse_extra

TRANSACTION_CODE = "0295"
MAX_RECORD_NUMBER = 41

FIELDS: tuple[Field, ...] = (
    const("system", 1, 2, "BS"),
    const("record_type", 3, 5, "052"),
    n("pbs_number", 6, 13),
    n("transaction_code", 14, 17, "0295"),
    n("record_number", 18, 20, "001-041"),
    n("debtor_group", 21, 25),
    n("filler_1", 26, 29, "0000"),
    x("customer_number", 30, 44),
    n("card_type", 45, 46),
    x("archive_reference", 47, 68),
    x("text", 69, 103, "payer's free text"),
    x("filler_2", 104, 128),
)
LAYOUT = Layout("BS052/0295", FIELDS)

__all__ = ["FIELDS", "LAYOUT", "SlipExtraLine", "format", "parse"]


def parse(line: str, *, lineno: int | None, issues: IssueList,
          policy: Policy = STRICT) -> SlipExtraLine | None:
    return parse_extra(LAYOUT, TRANSACTION_CODE, MAX_RECORD_NUMBER, line, lineno=lineno,
                       issues=issues, policy=policy)


def format(rec: SlipExtraLine) -> str:
    return format_extra(LAYOUT, rec)
