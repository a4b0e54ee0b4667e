"""0601 records (creditor → Nets) we write, with their field tables (§1.4.5).

0601 differs from 0602/0603: BS012/BS092 have other positions, 042/0280 dates
are ddmmyyyy and record numbers are 5 digits. One layout per record type:
BS012 (0112/0117), BS022/0240 name-address (records 1-5) and postcode (record
9), BS042/0280 collection, BS052/0241 text line, BS092 section end.
"""

from __future__ import annotations

from formats.fixedwidth import Field
from formats.pbs.fields import Layout, const, n, x


def _head(rtype: str) -> tuple[Field, ...]:
    return (const("system", 1, 2, "BS"), const("record_type", 3, 5, rtype),
            n("pbs_number", 6, 13), n("transaction_code", 14, 17))


SECTION_START = Layout("BS012/0601", (
    *_head("012")[:3],
    n("section", 14, 17, "0112 payments, 0117 slips with short deadline"),
    x("filler_1", 18, 22),
    n("debtor_group", 23, 27),
    x("data_supplier_id", 28, 42),
    x("filler_2", 43, 46),
    n("date", 47, 54, "ddmmyyyy"),
    n("reg_number", 55, 58, "creditor's bank registration no."),
    n("account_number", 59, 68, "creditor's bank account", sensitive=True),
    x("main_text", 69, 128, "main text line on the payment overview"),
))

NAME_ADDRESS = Layout("BS022/0240", (
    *_head("022"),
    n("record_number", 18, 22, "00001-00005"),
    n("debtor_group", 23, 27),
    x("customer_number", 28, 42),
    n("agreement_number", 43, 51, "000000000"),
    x("text", 52, 86, "name/address line"),
    x("filler", 87, 128),
))

POSTCODE = Layout("BS022/0240", (
    *_head("022"),
    n("record_number", 18, 22, "00009"),
    n("debtor_group", 23, 27),
    x("customer_number", 28, 42),
    n("agreement_number", 43, 51, "000000000"),
    x("filler_1", 52, 66),
    x("postcode", 67, 70),
    x("country", 71, 73, "ISO 3166 alpha-2, left-aligned"),
    x("filler_2", 74, 128),
))

COLLECTION = Layout("BS042/0280", (
    *_head("042"),
    n("record_number", 18, 22, "00000"),
    n("debtor_group", 23, 27),
    x("customer_number", 28, 42),
    n("agreement_number", 43, 51),
    n("due_date", 52, 59, "ddmmyyyy"),
    n("sign_code", 60, 60, "1 debtor pays, 2 payout to debtor, 0 no amount"),
    n("amount", 61, 73, "øre"),
    x("reference", 74, 103, "echoed in 0602 as the creditor's reference"),
    n("filler_1", 104, 105, "00"),
    x("filler_2", 106, 128),
))

TEXT = Layout("BS052/0241", (
    *_head("052"),
    n("record_number", 18, 22, "00001-05000"),
    n("debtor_group", 23, 27),
    x("customer_number", 28, 42),
    n("agreement_number", 43, 51),
    x("filler_1", 52, 52),
    x("text", 53, 112),
    x("filler_2", 113, 128),
))

SECTION_END = Layout("BS092/0601", (
    *_head("092")[:3],
    n("section", 14, 17),
    x("filler_1", 18, 22),
    n("debtor_group", 23, 27),
    x("filler_2", 28, 31),
    n("count_042", 32, 42),
    n("amount", 43, 57, "net amount, øre"),
    n("count_052", 58, 68, "052 + 062 records"),
    x("filler_3", 69, 83),
    n("count_022", 84, 94),
    x("filler_4", 95, 128),
))

LAYOUTS = (SECTION_START, NAME_ADDRESS, POSTCODE, COLLECTION, TEXT, SECTION_END)
