"""Streaming reader for the bill file (``bills.xsd``): one typed :class:`Bill` at a time.

Each ``<bill>`` is checked against the same rules as the XSD (element order and
occurrence, lengths, dates, amounts, currency, no attributes or stray text) plus
the few rules XSD 1.0 cannot express, then cleared, so memory stays flat however
many bills a file holds. Problems are collected per file with the line of the
element (lxml gives no column for elements; syntax errors carry one).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import IO

from lxml import etree

from formats.bills.amounts import AmountError, parse_cents
from formats.bills.secure import secure_iterparse
from formats.errors import FormatError, Issue, IssueCode, IssueList, mask

ROOT = "bills"
BILL = "bill"
VERSION = "1"
MAX_LINE_ITEMS = 10_000
#: bounds on one <bill> (or any element of the root), checked while streaming so that a hostile
#: file (millions of elements or megabytes of text in one bill) is rejected at once, in bounded memory
MAX_BILL_DEPTH = 8
MAX_BILL_ELEMENTS = 16 + MAX_LINE_ITEMS * 4 + 1_000
MAX_BILL_TEXT = 4 << 20

#: (element, min, max, kind) in document order, as the XSD's ``Bill`` sequence
BILL_SEQUENCE: tuple[tuple[str, int, int, str], ...] = (
    ("billId", 1, 1, "id"),
    ("accountNumber", 1, 1, "id"),
    ("userId", 0, 1, "id"),
    ("userEmail", 0, 5, "email"),
    ("payerName", 1, 1, "name"),
    ("documentDate", 1, 1, "date"),
    ("dueDate", 1, 1, "date"),
    ("amountDue", 1, 1, "amount"),
    ("minimumAmountDue", 1, 1, "nonneg_amount"),
    ("currency", 1, 1, "currency"),
    ("lineItems", 0, 1, "items"),
    ("pdfRef", 0, 1, "reference"),
)
ITEM_SEQUENCE: tuple[tuple[str, int, int, str], ...] = (
    ("description", 1, 1, "name"),
    ("amount", 1, 1, "amount"),
    ("code", 0, 1, "id"),
)
MAX_LENGTH = {"id": 64, "name": 200, "reference": 1024}
SENSITIVE = frozenset({"accountNumber"})
#: the XSD's Email pattern: one @, a dot in the domain, no blanks, brackets or list separators
EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")
MAX_EMAIL = 320


@dataclass(frozen=True, slots=True)
class LineItem:
    description: str
    amount: int  #: cents
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Bill:
    bill_id: str
    account_number: str
    payer_name: str
    document_date: date
    due_date: date
    amount_due: int  #: cents; negative for a credit balance
    minimum_amount_due: int  #: cents
    currency: str
    user_id: str | None = None
    #: the user's notification addresses (bill_users), in file order
    user_emails: tuple[str, ...] = ()
    line_items: tuple[LineItem, ...] = ()
    pdf_ref: str | None = None
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class BillFileHeader:
    version: str
    source: str | None
    line: int | None


class BillReader:
    """Iterate the valid bills of a file; ``issues`` holds every problem found so far.

    A fatal problem (malformed XML, a DOCTYPE) raises :class:`FormatError` carrying
    the issues collected before it too. ``count`` is the number of ``<bill>``
    elements seen, valid or not.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.issues = IssueList()
        self.header: BillFileHeader | None = None
        self.count = 0
        self.error_count = 0  #: not capped like ``issues``
        self._ids: set[bytes] = set()

    def __iter__(self) -> Iterator[Bill]:
        depth = 0
        root: etree._Element | None = None
        elements = text = 0
        try:
            for event, elem in secure_iterparse(self.stream, what="bill file"):
                if event == "start":
                    depth += 1
                    if depth == 1:
                        root = elem
                        self._root(elem)
                    elif depth == 2:
                        elements = text = 0
                    else:
                        elements += 1
                        if elements > MAX_BILL_ELEMENTS or depth > MAX_BILL_DEPTH:
                            raise _too_large(elem, f"more than {MAX_BILL_ELEMENTS} elements" if
                                             elements > MAX_BILL_ELEMENTS else
                                             f"elements nested deeper than {MAX_BILL_DEPTH} levels")
                    continue
                depth -= 1
                if depth >= 2:
                    text += len(elem.text or "") + len(elem.tail or "")
                    if text > MAX_BILL_TEXT:
                        raise _too_large(elem, f"more than {MAX_BILL_TEXT >> 20} MB of text")
                if depth != 1 or root is None:
                    continue
                self._stray_text(elem.tail, _line(elem), ROOT)
                if elem.tag == BILL:
                    self.count += 1
                    bill = self._bill(elem)
                    if bill is not None:
                        yield bill
                else:
                    self._add(IssueCode.UNEXPECTED_ELEMENT, f"unexpected element <{_tag(elem)}> in <{ROOT}>",
                              _line(elem), ROOT, _tag(elem))
                elem.clear()
                while elem.getprevious() is not None:
                    del root[0]
        except FormatError as exc:
            self.issues.extend(exc.issues)
            raise FormatError(str(exc), self.issues.errors, self.issues.warnings) from None
        if root is not None:
            self._stray_text(root.text, _line(root), ROOT)

    # -- checks ------------------------------------------------------------------------------------

    def _add(self, code: IssueCode, reason: str, line: int | None, record: str, fld: str | None,
             value: str | None = None) -> None:
        self.error_count += 1
        shown = mask(value) if value is not None and fld in SENSITIVE else value
        self.issues.add(Issue(code=code, reason=reason, line=line, record=record, field=fld,
                              value=None if shown is None else shown[:200]))

    def _stray_text(self, text: str | None, line: int | None, where: str) -> None:
        if text is not None and text.strip():
            self._add(IssueCode.UNEXPECTED_TEXT, f"text is not allowed directly in <{where}>", line, where, None,
                      text.strip())

    def _root(self, elem: etree._Element) -> None:
        if elem.tag != ROOT:
            raise FormatError.single(IssueCode.BAD_ROOT, f"the root element must be <{ROOT}>, found <{_tag(elem)}>",
                                     line=_line(elem), record="bill file", value=_tag(elem))
        version = " ".join((elem.get("version") or "").split())
        if version != VERSION:
            self._add(IssueCode.BAD_VERSION, f"<{ROOT}> needs version=\"{VERSION}\"", _line(elem), ROOT, "version",
                      elem.get("version"))
        source = elem.get("source")
        if source is not None and not 1 <= len(" ".join(source.split())) <= MAX_LENGTH["name"]:
            self._add(IssueCode.BAD_LENGTH, "source must have 1 to 200 characters", _line(elem), ROOT, "source",
                      source)
        for name in elem.attrib:
            if name not in ("version", "source"):
                self._add(IssueCode.UNEXPECTED_ATTRIBUTE, f"unexpected attribute {name!r} on <{ROOT}>",
                          _line(elem), ROOT, str(name))
        self.header = BillFileHeader(version=version, source=None if source is None else " ".join(source.split()),
                                     line=_line(elem))

    def _bill(self, elem: etree._Element) -> Bill | None:
        before = self.error_count
        record = BILL
        id_elem = next((c for c in elem if c.tag == "billId"), None)
        if id_elem is not None and id_elem.text and id_elem.text.strip():
            record = f"bill {' '.join(id_elem.text.split())[:64]}"
        self._no_attributes(elem, record)
        self._stray_text(elem.text, _line(elem), BILL)
        values = self._sequence(elem, BILL_SEQUENCE, record)
        bill_id = values.get("billId")
        if isinstance(bill_id, str):
            digest = hashlib.blake2b(bill_id.encode(), digest_size=12).digest()
            if digest in self._ids:
                self._add(IssueCode.DUPLICATE_BILL, "billId appears twice in the file", _line(elem), record,
                          "billId", bill_id)
            self._ids.add(digest)
        doc, due = values.get("documentDate"), values.get("dueDate")
        if isinstance(doc, date) and isinstance(due, date) and due < doc:
            self._add(IssueCode.DUE_BEFORE_DOCUMENT, "dueDate is before documentDate", _line(elem), record,
                      "dueDate", due.isoformat())
        amount, minimum = values.get("amountDue"), values.get("minimumAmountDue")
        if isinstance(amount, int) and isinstance(minimum, int) and minimum > max(amount, 0):
            self._add(IssueCode.MINIMUM_EXCEEDS_DUE, "minimumAmountDue is more than amountDue", _line(elem),
                      record, "minimumAmountDue", str(minimum))
        emails = values.get("userEmail", [])
        if emails and values.get("userId") is None and "userId" not in _children(elem):
            self._add(IssueCode.EMAIL_WITHOUT_USER, "<userEmail> needs a <userId>", _line(elem), record, "userEmail")
        if self.error_count > before:
            return None
        items = values.get("lineItems", ())
        return Bill(bill_id=str(values["billId"]), account_number=str(values["accountNumber"]),
                    payer_name=str(values["payerName"]), document_date=_as_date(values["documentDate"]),
                    due_date=_as_date(values["dueDate"]), amount_due=_as_int(values["amountDue"]),
                    minimum_amount_due=_as_int(values["minimumAmountDue"]), currency=str(values["currency"]),
                    user_id=_opt_str(values.get("userId")),
                    user_emails=tuple(e for e in emails if isinstance(e, str)) if isinstance(emails, list) else (),
                    line_items=items if isinstance(items, tuple) else (),
                    pdf_ref=_opt_str(values.get("pdfRef")), line=_line(elem))

    def _no_attributes(self, elem: etree._Element, record: str) -> None:
        for name in elem.attrib:
            self._add(IssueCode.UNEXPECTED_ATTRIBUTE, f"unexpected attribute {name!r} on <{_tag(elem)}>",
                      _line(elem), record, _tag(elem))

    def _sequence(self, elem: etree._Element, spec: tuple[tuple[str, int, int, str], ...],
                  record: str) -> dict[str, object]:
        """Check children against an xs:sequence and convert each simple value."""
        values: dict[str, object] = {}
        counts = [0] * len(spec)
        i = 0
        for child in elem:
            tag = _tag(child)
            while i < len(spec) and spec[i][0] != tag and counts[i] >= spec[i][1]:
                i += 1
            if i == len(spec) or spec[i][0] != tag:
                expected = spec[i][0] if i < len(spec) else f"</{_tag(elem)}>"
                known = any(s[0] == tag for s in spec)
                reason = (f"<{tag}> is out of order or repeated (expected <{expected}>)" if known
                          else f"unexpected element <{tag}> (expected <{expected}>)")
                self._add(IssueCode.UNEXPECTED_ELEMENT, reason, _line(child), record, tag)
                continue
            counts[i] += 1
            if counts[i] > spec[i][2]:
                self._add(IssueCode.UNEXPECTED_ELEMENT, f"<{tag}> may appear at most {spec[i][2]} times",
                          _line(child), record, tag)
                continue
            value = self._value(child, spec[i][3], record)
            if spec[i][2] > 1:
                repeated = values.setdefault(tag, [])
                assert isinstance(repeated, list)
                repeated.append(value)
            else:
                values[tag] = value
        for (name, lo, _, _), n in zip(spec, counts, strict=True):
            if n < lo:
                self._add(IssueCode.MISSING, f"<{name}> is required in <{_tag(elem)}>", _line(elem), record, name)
        return values

    def _value(self, child: etree._Element, kind: str, record: str) -> object:
        tag = _tag(child)
        self._no_attributes(child, record)
        if kind == "items":
            self._stray_text(child.text, _line(child), tag)
            items: list[LineItem] = []
            for n, item in enumerate(child):
                self._stray_text(item.tail, _line(item), tag)
                if _tag(item) != "item":
                    self._add(IssueCode.UNEXPECTED_ELEMENT, f"unexpected element <{_tag(item)}> in <lineItems>",
                              _line(item), record, _tag(item))
                    continue
                if n >= MAX_LINE_ITEMS:
                    self._add(IssueCode.TOO_MANY_ITEMS, f"more than {MAX_LINE_ITEMS} line items", _line(item),
                              record, "item")
                    break
                self._no_attributes(item, record)
                self._stray_text(item.text, _line(item), "item")
                before = self.error_count
                v = self._sequence(item, ITEM_SEQUENCE, record)
                if self.error_count == before:
                    items.append(LineItem(str(v["description"]), _as_int(v["amount"]), _opt_str(v.get("code"))))
            return tuple(items)
        if len(child):
            self._add(IssueCode.UNEXPECTED_ELEMENT, f"<{tag}> must hold text, not elements", _line(child), record,
                      tag)
            return None
        raw = child.text or ""
        text = " ".join(raw.split())
        if kind in MAX_LENGTH:
            if not 1 <= len(text) <= MAX_LENGTH[kind]:
                self._add(IssueCode.BAD_LENGTH if text else IssueCode.MISSING,
                          f"<{tag}> must have 1 to {MAX_LENGTH[kind]} characters", _line(child), record,
                          tag, raw)
                return None
            return text
        if kind == "date":
            try:
                if len(text) != 10:
                    raise ValueError
                return date.fromisoformat(text)
            except ValueError:
                self._add(IssueCode.BAD_DATE, f"<{tag}> must be a date YYYY-MM-DD", _line(child), record, tag, raw)
                return None
        if kind == "email":
            if len(text) > MAX_EMAIL or not EMAIL.fullmatch(text):
                self._add(IssueCode.BAD_EMAIL, f"<{tag}> must be one e-mail address (name@domain)", _line(child),
                          record, tag, raw)
                return None
            return text
        if kind == "currency":
            if len(text) != 3 or not (text.isascii() and text.isalpha() and text.isupper()):
                self._add(IssueCode.BAD_CURRENCY, f"<{tag}> must be a 3-letter ISO 4217 code", _line(child), record,
                          tag, raw)
                return None
            return text
        try:
            return parse_cents(text, allow_negative=kind == "amount")
        except AmountError as exc:
            self._add(IssueCode.BAD_AMOUNT, f"<{tag}>: {exc}", _line(child), record, tag, raw)
            return None


def _too_large(elem: etree._Element, what: str) -> FormatError:
    return FormatError.single(IssueCode.BILL_TOO_LARGE, f"one <{BILL}> holds {what}: the file is refused unread beyond "
                              "this point", line=_line(elem), record=BILL, field=_tag(elem))


def read_bills(stream: IO[bytes]) -> Iterator[Bill]:
    """Yield valid bills; at the end raise FormatError if any bill was bad (load in one transaction)."""
    reader = BillReader(stream)
    yield from reader
    reader.issues.raise_if_errors("bill file")


def _line(elem: etree._Element) -> int | None:
    """lxml's line number of an element (the stubs type it loosely)."""
    line = getattr(elem, "sourceline", None)
    return line if isinstance(line, int) else None


def _children(elem: etree._Element) -> set[str]:
    return {_tag(c) for c in elem}


def _tag(elem: etree._Element) -> str:
    return elem.tag if isinstance(elem.tag, str) else str(elem.tag)


def _as_date(v: object) -> date:
    assert isinstance(v, date)
    return v


def _as_int(v: object) -> int:
    assert isinstance(v, int)
    return v


def _opt_str(v: object) -> str | None:
    return v if isinstance(v, str) else None
