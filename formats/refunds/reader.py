"""Streaming refund batch reader: one :class:`RefundRow` per ``<refund>``, with its own issues."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import IO

from lxml import etree

from formats.bills.amounts import AmountError, parse_cents
from formats.bills.secure import secure_iterparse
from formats.errors import FormatError, Issue, IssueCode, Severity, mask

ROOTS = ("refunds", "doc")
ROW = "refund"
MAX_TEXT = 255

#: element -> attribute of RefundRow; the seed's misspelling is an alias
ELEMENTS: dict[str, str] = {
    "payeeId": "payee_id",
    "userId": "user_id",
    "paymentAccountNumber": "payment_account_number",
    "payerAccountNumber": "payer_account_number",
    "payerAccoutNumber": "payer_account_number",
    "amount": "amount",
    "paymentType": "payment_type",
    "refundType": "refund_type",
    "billingSystemTransactionNumber": "billing_system_transaction_number",
    "originalTransactionNumber": "original_transaction_number",
    "sourceSystemPaymentInitiator": "source_system_payment_initiator",
    "transactionDescription": "transaction_description",
    "notifyRequired": "notify_required",
    "flexFieldOne": "flex_field_one",
    "flexFieldTwo": "flex_field_two",
    "flexFieldThree": "flex_field_three",
    "flexFieldDate": "flex_field_date",
}
SENSITIVE = frozenset({"payment_account_number", "payer_account_number"})


class RefundType(StrEnum):
    REFUND = "R"
    DEPOSIT = "D"


class PaymentType(StrEnum):
    CHECK = "check"
    CCARD = "ccard"


@dataclass(frozen=True, slots=True)
class RefundRow:
    """One refund request. ``ok`` is False when it must be rejected; ``reasons`` say why."""

    index: int  #: 1-based position in the file
    line: int | None
    refund_type: RefundType | None = None
    amount: int | None = None  #: cents, > 0
    payer_account_number: str | None = None
    payment_account_number: str | None = None
    payment_type: PaymentType | None = None
    payee_id: str | None = None
    user_id: str | None = None
    billing_system_transaction_number: str | None = None
    original_transaction_number: str | None = None
    source_system_payment_initiator: str | None = None
    transaction_description: str | None = None
    notify_required: bool | None = None
    flex_field_one: str | None = None
    flex_field_two: str | None = None
    flex_field_three: str | None = None
    flex_field_date: date | None = None
    flex_field_date_raw: str | None = None
    issues: tuple[Issue, ...] = field(default=(), compare=False)

    @property
    def ok(self) -> bool:
        return not any(i.severity is Severity.ERROR for i in self.issues)

    @property
    def reasons(self) -> list[str]:
        """Rejection reasons, for ``payment_refunds``."""
        return [f"{i.field}: {i.reason}" if i.field else i.reason for i in self.issues
                if i.severity is Severity.ERROR]


class RefundReader:
    """Iterate rows; file-level warnings (ignored elements, text) collect in ``warnings``."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.root: str | None = None
        self.count = 0
        self.warnings: list[Issue] = []

    def __iter__(self) -> Iterator[RefundRow]:
        depth = 0
        root: etree._Element | None = None
        for event, elem in secure_iterparse(self.stream, what="refund file"):
            if event == "start":
                depth += 1
                if depth == 1:
                    root = elem
                    if elem.tag not in ROOTS:
                        raise FormatError.single(IssueCode.BAD_ROOT,
                                                 f"the root element must be <refunds> or <doc>, found "
                                                 f"<{_tag(elem)}>", line=_line(elem), record="refund file",
                                                 value=_tag(elem))
                    self.root = str(elem.tag)
                continue
            depth -= 1
            if depth != 1 or root is None:
                continue
            if elem.tag == ROW:
                self.count += 1
                yield self._row(elem, self.count)
            else:
                self.warnings.append(Issue(code=IssueCode.IGNORED_ELEMENT, reason=f"<{_tag(elem)}> ignored",
                                           line=_line(elem), record=self.root, field=_tag(elem),
                                           severity=Severity.WARNING))
            elem.clear()
            while elem.getprevious() is not None:
                del root[0]

    def _row(self, elem: etree._Element, index: int) -> RefundRow:
        record = f"refund {index}"
        issues: list[Issue] = []
        raw: dict[str, tuple[str, int | None, str]] = {}

        def add(code: IssueCode, reason: str, attr: str | None, value: str | None = None, *,
                line: int | None = None, severity: Severity = Severity.ERROR) -> None:
            shown = mask(value) if value is not None and attr in SENSITIVE else value
            issues.append(Issue(code=code, reason=reason, line=line or _line(elem), record=record,
                                field=attr, value=None if shown is None else shown[:200], severity=severity))

        for child in elem:
            tag = _tag(child)
            attr = ELEMENTS.get(tag)
            if attr is None:
                add(IssueCode.UNKNOWN_ELEMENT, f"<{tag}> is not a refund field; ignored", tag, line=_line(child),
                    severity=Severity.WARNING)
                continue
            if len(child):
                add(IssueCode.UNEXPECTED_ELEMENT, f"<{tag}> must hold text, not elements", attr, line=_line(child))
                continue
            if attr in raw:
                add(IssueCode.REPEATED, f"<{tag}> given twice (or with its alias <{raw[attr][2]}>)", attr,
                    line=_line(child))
                continue
            raw[attr] = ((child.text or "").strip(), _line(child), tag)

        values: dict[str, object] = {}
        for attr, (text, line, _) in raw.items():
            if len(text) > MAX_TEXT:
                add(IssueCode.TOO_LONG, f"longer than {MAX_TEXT} characters", attr, text, line=line)
            elif text:
                values[attr] = text

        rtype_text = str(values.pop("refund_type", "")).upper()
        rtype = None
        if not rtype_text:
            add(IssueCode.MISSING, "refundType is required (R refund, D deposit)", "refund_type")
        elif rtype_text not in RefundType.__members__.values():
            add(IssueCode.BAD_CODE, "refundType must be R (refund) or D (deposit)", "refund_type", rtype_text,
                line=raw["refund_type"][1])
        else:
            rtype = RefundType(rtype_text)

        amount_text = values.pop("amount", None)
        amount = None
        if amount_text is None:
            add(IssueCode.MISSING, "amount is required", "amount")
        else:
            try:
                amount = parse_cents(str(amount_text), allow_negative=False)
                if amount == 0:
                    raise AmountError("amount must be more than zero")
            except AmountError as exc:
                add(IssueCode.BAD_AMOUNT, str(exc), "amount", str(amount_text), line=raw["amount"][1])
                amount = None

        if rtype is RefundType.REFUND and not raw.get("payer_account_number", ("",))[0]:
            add(IssueCode.MISSING, "payer account number is required for a refund", "payer_account_number")

        ptype = None
        if "payment_type" in values:
            text = str(values.pop("payment_type")).lower()
            if text in PaymentType.__members__.values():
                ptype = PaymentType(text)
            else:
                add(IssueCode.BAD_CODE, "paymentType must be check or ccard", "payment_type", text,
                    line=raw["payment_type"][1])

        notify = None
        if "notify_required" in values:
            text = str(values.pop("notify_required")).upper()
            if text in ("Y", "N"):
                notify = text == "Y"
            else:
                add(IssueCode.BAD_CODE, "notifyRequired must be Y or N", "notify_required", text,
                    line=raw["notify_required"][1])

        flex_date = None
        flex_raw = values.pop("flex_field_date", None)
        if flex_raw is not None:
            try:
                flex_date = datetime.strptime(str(flex_raw), "%m-%d-%Y").date()
            except ValueError:
                add(IssueCode.BAD_DATE, "flexFieldDate is not mm-dd-yyyy; kept as text", "flex_field_date",
                    str(flex_raw), line=raw["flex_field_date"][1], severity=Severity.WARNING)

        text_fields = {k: str(v) for k, v in values.items()}
        return RefundRow(index=index, line=_line(elem), refund_type=rtype, amount=amount, payment_type=ptype,
                         notify_required=notify, flex_field_date=flex_date,
                         flex_field_date_raw=None if flex_raw is None else str(flex_raw),
                         issues=tuple(issues), **text_fields)


def read_refunds(stream: IO[bytes]) -> Iterator[RefundRow]:
    """Yield every row, good or bad; FormatError only for a file that cannot be read at all."""
    yield from RefundReader(stream)


def _line(elem: etree._Element) -> int | None:
    line = getattr(elem, "sourceline", None)
    return line if isinstance(line, int) else None


def _tag(elem: etree._Element) -> str:
    return elem.tag if isinstance(elem.tag, str) else str(elem.tag)
