"""0601 collection deliveries (creditor → Nets): writer and reader for round trips.

The daemon's outbound path is the XML delivery (:mod:`formats.pbs.invoice_xml`);
0601 is the fixed-width equivalent, kept so a site without Medsend bilag can
collect by file and so ``read_0601(write_0601(d)) == d`` pins the field tables.
Per collection the records are: 022/0240 name-address lines, optional 022
postcode record, 042/0280, then 052/0241 text lines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from formats.errors import Issue, IssueCode, IssueList
from formats.pbs import codes
from formats.pbs.fields import STRICT, Policy, ddmmyyyy
from formats.pbs.reader import BinaryLineSource, Line, iter_lines
from formats.pbs.records import bs002, bs992
from formats.pbs.records.bs002 import DeliveryStart
from formats.pbs.records.bs992 import DeliveryEnd
from formats.pbs.records.d0601 import (
    COLLECTION,
    NAME_ADDRESS,
    POSTCODE,
    SECTION_END,
    SECTION_START,
    TEXT,
)
from formats.pbs.writer import encode

SECTION_PAYMENTS = "0112"
POSTCODE_RECORD = 9


@dataclass(frozen=True, slots=True)
class Collection:
    """One amount to collect; ``amount`` > 0 the debtor pays, < 0 a payout (sign code 2)."""

    customer_number: str
    agreement_number: str
    due_date: dt.date
    amount: int
    reference: str
    name_address: tuple[str, ...] = ()
    postcode: str | None = None
    country: str | None = None
    text_lines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CollectionSection:
    pbs_number: str
    debtor_group: str
    data_supplier_id: str
    date: dt.date
    reg_number: str
    account_number: str
    main_text: str
    collections: tuple[Collection, ...] = ()
    section: str = SECTION_PAYMENTS


@dataclass(frozen=True, slots=True)
class Delivery0601:
    data_supplier: str
    system_code: str
    delivery_number: str
    created: dt.date | None
    sections: tuple[CollectionSection, ...] = ()
    warnings: tuple[Issue, ...] = field(default=(), compare=False)


def _lines(d: Delivery0601) -> Iterator[tuple[str, str, int]]:
    """(record type, line, net amount contribution)."""
    for s in d.sections:
        common = {"pbs_number": s.pbs_number, "debtor_group": s.debtor_group}
        yield "012", SECTION_START.format({
            **common, "section": s.section, "data_supplier_id": s.data_supplier_id,
            "date": ddmmyyyy(s.date), "reg_number": s.reg_number,
            "account_number": s.account_number, "main_text": s.main_text}), 0
        for c in s.collections:
            who = {**common, "customer_number": c.customer_number.rjust(15, "0"),
                   "transaction_code": "0240", "agreement_number": 0}
            for i, text in enumerate(c.name_address, 1):
                yield "022", NAME_ADDRESS.format({**who, "record_number": i, "text": text}), 0
            if c.postcode or c.country:
                yield "022", POSTCODE.format({**who, "record_number": POSTCODE_RECORD,
                                              "postcode": c.postcode, "country": c.country}), 0
            who = {**who, "agreement_number": c.agreement_number, "transaction_code": "0280"}
            sign = 0 if c.amount == 0 else (1 if c.amount > 0 else 2)
            yield "042", COLLECTION.format({
                **who, "record_number": 0, "due_date": ddmmyyyy(c.due_date), "sign_code": sign,
                "amount": abs(c.amount), "reference": c.reference, "filler_1": 0}), c.amount
            for i, text in enumerate(c.text_lines, 1):
                yield "052", TEXT.format({**who, "transaction_code": "0241", "record_number": i,
                                          "text": text}), 0
        yield "092", "", 0


def write_0601(d: Delivery0601, *, newline: str = "\r\n") -> bytes:
    """Tabulates BS092/BS992 (counts; net amount = collected - paid out)."""
    out = [bs002.format(DeliveryStart(d.data_supplier, d.system_code, codes.DELIVERY_0601,
                                      d.delivery_number, d.created))]
    totals = {"012": 0, "022": 0, "042": 0, "052": 0, "amount": 0}
    sec = {"022": 0, "042": 0, "052": 0, "amount": 0}
    sections = iter(d.sections)
    current = None
    for rtype, line, amount in _lines(d):
        if rtype == "012":
            current = next(sections)
            sec = {"022": 0, "042": 0, "052": 0, "amount": 0}
            totals["012"] += 1
        elif rtype == "092":
            assert current is not None
            if sec["amount"] < 0:
                raise ValueError(f"section {current.section}: net amount is negative")
            line = SECTION_END.format({
                "pbs_number": current.pbs_number, "section": current.section,
                "debtor_group": current.debtor_group, "count_042": sec["042"],
                "amount": sec["amount"], "count_052": sec["052"], "count_022": sec["022"]})
            for k in ("022", "042", "052", "amount"):
                totals[k] += sec[k]
        else:
            sec[rtype] += 1
            sec["amount"] += amount
        out.append(line)
    out.append(bs992.format(DeliveryEnd(
        d.data_supplier, d.system_code, codes.DELIVERY_0601, totals["012"], totals["042"],
        totals["amount"], totals["052"], totals["022"])))
    return encode(out, newline=newline)


def _issue(code: IssueCode, reason: str, line: Line, *, field_name: str, columns: tuple[int, int],
           expected: str | None = None, found: str | None = None) -> Issue:
    return Issue(code=code, reason=reason, line=line.number, record=line.record, field=field_name,
                 columns=columns, value=found, expected=expected, found=found)


def read_0601(stream: BinaryLineSource, *, policy: Policy = STRICT) -> Delivery0601:
    """Read a 0601 back; counts and the net amount are checked strictly (it is our own file)."""
    issues = IssueList()
    start: DeliveryStart | None = None
    sections: list[CollectionSection] = []
    sec: CollectionSection | None = None
    cols: list[Collection] = []
    name_address: tuple[str, ...] = ()
    postcode: str | None = None
    country: str | None = None
    tally = {"022": 0, "042": 0, "052": 0, "amount": 0}
    totals = {"022": 0, "042": 0, "052": 0, "amount": 0}
    end: DeliveryEnd | None = None
    for line in iter_lines(stream, issues):
        text, rtype = line.text, line.text[2:5]
        if rtype == "002":
            start = bs002.parse(text, lineno=line.number, issues=issues, policy=policy)
            if start is not None and start.delivery_type != codes.DELIVERY_0601:
                issues.add(_issue(IssueCode.WRONG_DELIVERY_TYPE, "not a 0601 delivery", line,
                                  field_name="delivery_type", columns=(17, 20),
                                  expected="0601", found=start.delivery_type))
        elif rtype == "012":
            r = SECTION_START.reader(text, lineno=line.number, issues=issues, policy=policy)
            sec = CollectionSection(
                pbs_number=r.ident("pbs_number"), debtor_group=r.digits("debtor_group"),
                data_supplier_id=r.text("data_supplier_id"), date=r.date8("date") or dt.date.min,
                reg_number=r.digits("reg_number"), account_number=r.digits("account_number"),
                main_text=r.text("main_text"), section=r.digits("section"))
            cols, tally = [], {"022": 0, "042": 0, "052": 0, "amount": 0}
        elif rtype == "022":
            tally["022"] += 1
            layout = POSTCODE if text[17:22] == f"{POSTCODE_RECORD:05d}" else NAME_ADDRESS
            r = layout.reader(text, lineno=line.number, issues=issues, policy=policy)
            if layout is POSTCODE:
                postcode = r.text("postcode") or None
                country = r.text("country") or None
            else:
                name_address = (*name_address, r.text("text"))
        elif rtype == "042":
            tally["042"] += 1
            r = COLLECTION.reader(text, lineno=line.number, issues=issues, policy=policy)
            sign = r.choice("sign_code", ("0", "1", "2"))
            amount = r.int("amount")
            signed = -amount if sign == "2" else amount
            tally["amount"] += signed
            cols.append(Collection(
                customer_number=r.customer("customer_number"),
                agreement_number=r.digits("agreement_number"),
                due_date=r.date8("due_date") or dt.date.min, amount=signed,
                reference=r.text("reference"),
                name_address=name_address, postcode=postcode, country=country))
            name_address, postcode, country = (), None, None
        elif rtype == "052":
            tally["052"] += 1
            r = TEXT.reader(text, lineno=line.number, issues=issues, policy=policy)
            if cols:
                cols[-1] = replace(cols[-1], text_lines=(*cols[-1].text_lines, r.text("text")))
        elif rtype == "092":
            r = SECTION_END.reader(text, lineno=line.number, issues=issues, policy=policy)
            for name, key in (("count_022", "022"), ("count_042", "042"), ("count_052", "052"),
                              ("amount", "amount")):
                declared = r.int(name)
                if r.ok and declared != tally[key]:
                    r.fail(name, IssueCode.CONTROL_COUNT if key != "amount" else IssueCode.CONTROL_AMOUNT,
                           f"{name} does not match the section", expected=str(tally[key]))
                totals[key] += tally[key]
            if sec is not None:
                sections.append(replace(sec, collections=tuple(cols)))
            sec = None
        elif rtype == "992":
            end = bs992.parse(text, lineno=line.number, issues=issues, policy=policy)
            if end is not None:
                for name, expected in (("count_sections", len(sections)),
                                       ("count_042", totals["042"]), ("count_052", totals["052"]),
                                       ("count_022", totals["022"]), ("amount", totals["amount"])):
                    if getattr(end, name) != expected:
                        f = bs992.LAYOUT.field(name)
                        issues.add(_issue(IssueCode.CONTROL_COUNT, f"{name} does not match the delivery",
                                          line, field_name=name, columns=f.columns,
                                          expected=str(expected), found=str(getattr(end, name))))
        else:
            issues.add(_issue(IssueCode.UNKNOWN_RECORD, f"unexpected record {text[:5]!r} in a 0601", line,
                              field_name="record_type", columns=(3, 5), found=text[2:5]))
    if start is None or end is None:
        issues.add(Issue(code=IssueCode.TRUNCATED, reason="0601 without BS002 or BS992",
                         record="BS992" if start else "BS002", field="record_type",
                         columns=(3, 5)))
    issues.raise_if_errors("0601 delivery")
    assert start is not None
    return Delivery0601(start.data_supplier, start.system_code, start.delivery_number,
                        start.created, tuple(sections), tuple(issues.warnings))


__all__ = ["Collection", "CollectionSection", "Delivery0601", "read_0601", "write_0601"]
