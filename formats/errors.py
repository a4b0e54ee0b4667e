"""Typed format errors, collected per file.

A format never raises anything but :class:`FormatError`; it carries every
:class:`Issue` found, so an operator gets all problems of a file in one report.
Values of sensitive fields are masked before they are stored in an issue.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class IssueCode(StrEnum):
    """Every reason a file, a record or a field is refused or warned about.

    Tests, operators' scripts and the ``NAME.error.json`` reports match on these values, so they are
    stable: a new check adds a member, an existing value is never renamed. One closed list means a
    typo is a type error, not a code no one matches. Also the report-level codes of the pipeline
    (``format_error``, ``unsafe_name``...) and of a handler's :class:`Rejected`.
    """

    ACCOUNT_FIELDS = "account_fields"
    ACH_RETURN_EXCEPTION = "ach_return_exception"
    ADDENDA_ENTRY_SEQUENCE = "addenda_entry_sequence"
    ADDENDA_OUTSIDE_BATCH = "addenda_outside_batch"
    ADDENDA_OUTSIDE_ENTRY = "addenda_outside_entry"
    ADDENDA_SEQUENCE = "addenda_sequence"
    ADDENDA_TRACE = "addenda_trace"
    AFTER_FILE_CONTROL = "after_file_control"
    ALREADY_EXISTS = "already_exists"
    AMOUNT_DIFFERS = "amount_differs"
    AMOUNT_RULE = "amount_rule"
    BAD_AMOUNT = "bad_amount"
    BAD_CHARSET = "bad_charset"
    BAD_CHECK_DIGIT = "bad_check_digit"
    BAD_CODE = "bad_code"
    BAD_CONSTANT = "bad_constant"
    BAD_CURRENCY = "bad_currency"
    BAD_DATE = "bad_date"
    BAD_EMAIL = "bad_email"
    BAD_ENCODING = "bad_encoding"
    BAD_FILE_NAME = "bad_file_name"
    BAD_JSON = "bad_json"
    BAD_LENGTH = "bad_length"
    BAD_NAME = "bad_name"
    BAD_PAYMENT = "bad_payment"
    BAD_RETURN_CODE = "bad_return_code"
    BAD_ROOT = "bad_root"
    BAD_ROUTING = "bad_routing"
    BAD_STATUS = "bad_status"
    BAD_TIME = "bad_time"
    BAD_VERSION = "bad_version"
    BATCH_CONTROL_OUTSIDE_BATCH = "batch_control_outside_batch"
    BATCH_NUMBER_ORDER = "batch_number_order"
    BILL_EXISTS = "bill_exists"
    BILL_TOO_LARGE = "bill_too_large"
    BLANK_DATE = "blank_date"
    BLANK_LINE = "blank_line"
    BOM = "bom"
    CARD_NUMBER = "card_number"
    CHECK_DIGIT = "check_digit"
    CLIENT_ID_MISMATCH = "client_id_mismatch"
    COMPRESSED = "compressed"
    CONTENT_CHANGED = "content_changed"
    CONTROL_AMOUNT = "control_amount"
    CONTROL_COUNT = "control_count"
    CONTROL_MISMATCH = "control_mismatch"
    COR_ADDENDA = "cor_addenda"
    COR_AMOUNT = "cor_amount"
    CR = "cr"
    CRLF = "crlf"
    CTX_ADDENDA_COUNT = "ctx_addenda_count"
    DAY_OUT_OF_RANGE = "day_out_of_range"
    DELIVERY_MISMATCH = "delivery_mismatch"
    DETAIL_OUTSIDE_BATCH = "detail_outside_batch"
    DTD_REFUSED = "dtd_refused"
    DUE_BEFORE_DOCUMENT = "due_before_document"
    DUPLICATE = "duplicate"
    DUPLICATE_BILL = "duplicate_bill"
    DUPLICATE_DELIVERY = "duplicate_delivery"
    DUPLICATE_ID = "duplicate_id"
    DUPLICATE_TRANSACTION = "duplicate_transaction"
    EMAIL_WITHOUT_USER = "email_without_user"
    EMPTY = "empty"
    EMPTY_FILE = "empty_file"
    END_BEFORE_START = "end_before_start"
    ENTITY_REFUSED = "entity_refused"
    ENTRY_OUTSIDE_BATCH = "entry_outside_batch"
    ENVELOPE_COUNT = "envelope_count"
    FAIL_MARKER = "fail_marker"
    FILLER_BEFORE_FILE_CONTROL = "filler_before_file_control"
    FORMAT_ERROR = "format_error"
    HANDLER_EXCEPTION = "handler_exception"
    HARD_LINK = "hard_link"
    IGNORED_ELEMENT = "ignored_element"
    IMMUTABLE_FIELD = "immutable_field"
    INVALID_DATE = "invalid_date"
    INVALID_FIELD = "invalid_field"
    LONG_LINE = "long_line"
    MALFORMED_XML = "malformed_xml"
    MAX_ATTEMPTS = "max_attempts"
    MINIMUM_EXCEEDS_DUE = "minimum_exceeds_due"
    MISPLACED_FILE_HEADER = "misplaced_file_header"
    MISPLACED_RECORD = "misplaced_record"
    MISSING = "missing"
    MISSING_ADDENDA = "missing_addenda"
    MISSING_BATCH = "missing_batch"
    MISSING_BATCH_CONTROL = "missing_batch_control"
    MISSING_BLOCK_FILL = "missing_block_fill"
    MISSING_FIELD = "missing_field"
    MISSING_FILE_CONTROL = "missing_file_control"
    MISSING_FILE_HEADER = "missing_file_header"
    MISSING_SECTION_END = "missing_section_end"
    MISSING_TRAILER = "missing_trailer"
    NAME_MISMATCH = "name_mismatch"
    NOC_OUTSIDE_COR = "noc_outside_cor"
    NON_ASCII = "non_ascii"
    NON_NUMERIC = "non_numeric"
    NOT_ACTIVE = "not_active"
    NOT_OBJECT = "not_object"
    NO_COUNT = "no_count"
    NO_LINE_BREAKS = "no_line_breaks"
    NO_PAYEE = "no_payee"
    NO_ROUTE = "no_route"
    ONLY_ZEROS = "only_zeros"
    ORPHAN_EXTRA = "orphan_extra"
    OTHER_PAYEE = "other_payee"
    OUT_OF_RANGE = "out_of_range"
    PBS_NUMBER_MISMATCH = "pbs_number_mismatch"
    PGP_BAD_PASSPHRASE = "pgp_bad_passphrase"
    PGP_BAD_SIGNATURE = "pgp_bad_signature"
    PGP_CORRUPT_INPUT = "pgp_corrupt_input"
    PGP_DESTINATION_EXISTS = "pgp_destination_exists"
    PGP_GPG_FAILED = "pgp_gpg_failed"
    PGP_GPG_UNAVAILABLE = "pgp_gpg_unavailable"
    PGP_IMPORT_FAILED = "pgp_import_failed"
    PGP_INVALID_RECIPIENT = "pgp_invalid_recipient"
    PGP_INVALID_SIGNER = "pgp_invalid_signer"
    PGP_IO_ERROR = "pgp_io_error"
    PGP_MISSING_PASSPHRASE = "pgp_missing_passphrase"
    PGP_NOT_ENCRYPTED = "pgp_not_encrypted"
    PGP_NOT_PGP = "pgp_not_pgp"
    PGP_NO_SECRET_KEY = "pgp_no_secret_key"
    PGP_TIMEOUT = "pgp_timeout"
    PGP_UNKNOWN_SIGNER = "pgp_unknown_signer"
    PGP_UNSIGNED = "pgp_unsigned"
    PGP_UNTRUSTED_SIGNER = "pgp_untrusted_signer"
    PLACEHOLDER = "placeholder"
    POLICY_BAD_VALUE = "policy_bad_value"
    POLICY_UNKNOWN = "policy_unknown"
    POLICY_UNKNOWN_KEY = "policy_unknown_key"
    PRENOTE_AMOUNT = "prenote_amount"
    RECORD_AFTER_END = "record_after_end"
    RECORD_AFTER_TRAILER = "record_after_trailer"
    RECORD_LENGTH = "record_length"
    REFUSED = "refused"
    REJECTED = "rejected"
    REPEATED = "repeated"
    SECTION_MISMATCH = "section_mismatch"
    SEC_ADDENDA = "sec_addenda"
    SEC_TRANSACTION_CODE = "sec_transaction_code"
    SERVICE_CLASS_MISMATCH = "service_class_mismatch"
    SETUPS_INVALID = "setups_invalid"
    SHORT_LINE = "short_line"
    SIGN_MISMATCH = "sign_mismatch"
    START_DATE_LOCKED = "start_date_locked"
    STATUS_SKIPPED = "status_skipped"
    TOO_LONG = "too_long"
    TOO_MANY_ADDENDA = "too_many_addenda"
    TOO_MANY_ITEMS = "too_many_items"
    TOO_MANY_RECORDS = "too_many_records"
    TRACE_ODFI = "trace_odfi"
    TRACE_ORDER = "trace_order"
    TRANSIENT = "transient"
    TRUNCATED = "truncated"
    TYPE_MISMATCH = "type_mismatch"
    UNEXPECTED_ATTRIBUTE = "unexpected_attribute"
    UNEXPECTED_ELEMENT = "unexpected_element"
    UNEXPECTED_TEXT = "unexpected_text"
    UNEXPECTED_VALUE = "unexpected_value"
    UNKNOWN_ACCOUNT = "unknown_account"
    UNKNOWN_ADDENDA_TYPE = "unknown_addenda_type"
    UNKNOWN_COMPANY = "unknown_company"
    UNKNOWN_DELIVERY = "unknown_delivery"
    UNKNOWN_ELEMENT = "unknown_element"
    UNKNOWN_ORIGINATOR = "unknown_originator"
    UNKNOWN_PAYEE = "unknown_payee"
    UNKNOWN_RECORD = "unknown_record"
    UNKNOWN_RECORD_TYPE = "unknown_record_type"
    UNKNOWN_SEC = "unknown_sec"
    UNKNOWN_SECTION = "unknown_section"
    UNKNOWN_SETUP = "unknown_setup"
    UNKNOWN_TYPE = "unknown_type"
    UNMATCHED = "unmatched"
    UNREADABLE = "unreadable"
    UNSAFE_NAME = "unsafe_name"
    UNSUPPORTED_SEC = "unsupported_sec"
    WRONG_DELIVERY_TYPE = "wrong_delivery_type"
    WRONG_DIRECTION = "wrong_direction"
    WRONG_FILE_TYPE = "wrong_file_type"
    WRONG_LENGTH = "wrong_length"
    WRONG_TRANSACTION_CODE = "wrong_transaction_code"
    XML_DOCTYPE = "xml_doctype"
    XML_SCHEMA = "xml_schema"
    XML_SYNTAX = "xml_syntax"
    ZERO_DOLLAR_AMOUNT = "zero_dollar_amount"


def mask(value: str, keep: int = 4) -> str:
    """Mask all but the last ``keep`` non-blank characters (account numbers)."""
    stripped = value.strip()
    if len(stripped) <= keep:
        return "*" * len(stripped)
    return "*" * (len(stripped) - keep) + stripped[-keep:]


#: field names that hold account numbers (formats' field tables, ledger columns, SQL parameters)
ACCOUNT_FIELDS = ("account_number", "dfi_account_number", "check_account_number", "payer_account_number",
                  "payment_account_number", "account", "iban", "customer_number", "debtor_account", "bank_account")
#: field names that hold a person's or company's name from a payment record
NAME_FIELDS = ("account_holder_name", "account_name", "individual_name", "receiving_company_name", "payer_name",
               "debtor_name", "payer")
#: field names whose unquoted numeric value is a count, an amount or an id, never an account number
NUMBER_FIELDS = ("records", "count", "counts", "entries", "batches", "lines", "items", "files", "bytes", "size",
                 "id", "file_id", "run", "run_id", "attempt", "attempts", "duration", "total", "debit", "credit",
                 "amount", "received", "returned_amount", "submitted", "returns", "nocs", "ocr_lines", "trace",
                 "trace_number", "txn_number", "log_id", "ledger_id")

_KEY = r"[A-Za-z_][A-Za-z0-9_]*"
_SENSITIVE = "|".join(sorted(ACCOUNT_FIELDS + NAME_FIELDS, key=len, reverse=True))
#: a sensitive field with its value: ``key=value``, ``key: value``, ``'key': 'value'``, ``"key": "value"``
#: (also ``account_number__998``, SQL bind parameter names)
_SENSITIVE_KEYED = re.compile(rf"""(?i)(?<![A-Za-z0-9])(?P<q>['"]?)(?P<key>(?:{_SENSITIVE})(?:_+\d+)?)(?P=q)"""
                              rf"""(?P<sep>\s*[=:]\s*)(?P<val>'[^'\n]*'|"[^"\n]*"|[^\s,;(){{}}\[\]'"]+)""")
#: what precedes a number that is a field's value: ``key=``, ``key: ``, ``'key': ``
_KEY_BEFORE = re.compile(rf"""(?P<q>['"]?)(?P<key>{_KEY})(?P=q)\s*[=:]\s*$""")
_SQL_PARAMS = re.compile(r"\[parameters: [^\n]*\]")
#: a NACHA trace number (ODFI routing prefix + sequence, 15 digits) named as such, e.g. ``return_trace_0910...``
_TRACE_BEFORE = re.compile(r"(?i)trace(?:_?n(?:o|umber))?[_\- =:#]?$")


def _base_key(key: str) -> str:
    """``account_number__998`` and ``account_number_1`` (SQL bind names) are ``account_number``."""
    return re.sub(r"_+\d+$", "", key.lower())


def _is_date_like(run: str) -> bool:
    """YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS with a real calendar date: dates in file names stay readable."""
    if len(run) not in (8, 12, 14) or not run.startswith(("19", "20")):
        return False
    try:
        dt.datetime.strptime(run, "%Y%m%d%H%M%S"[: {8: 6, 12: 10, 14: 14}[len(run)]])
    except ValueError:
        return False
    return True


def _mask_value(m: re.Match[str]) -> str:
    key, value = _base_key(m.group("key")), m.group("val")
    quote = value[0] if value[:1] in ("'", '"') and value[-1:] == value[:1] and len(value) > 1 else ""
    inner = value[1:-1] if quote else value
    masked = mask(inner) if key in ACCOUNT_FIELDS else ("***" if inner else inner)
    return f"{m.group(0)[: m.start('val') - m.start(0)]}{quote}{masked}{quote}"


def mask_sensitive(text: str, min_digits: int = 8) -> str:
    """Mask what may identify an account or a payer in free text (log lines, tracebacks, reports).

    Values of fields known to be account numbers or names are masked whatever their form; SQL
    parameter dumps are dropped. Elsewhere, a run of ``min_digits`` or more digits is masked unless it
    is a calendar date/timestamp, a trace number named as such, an amount (``12345678.90``) or the
    unquoted number of a field (``records=12345678``, ``'entries': 123456789``): account numbers are
    strings, counts are numbers.
    """
    if "[parameters: " in text:
        text = _SQL_PARAMS.sub("[parameters: hidden]", text)
    text = _SENSITIVE_KEYED.sub(_mask_value, text)

    def digits(m: re.Match[str]) -> str:
        run = m.group(0)
        if _is_date_like(run):
            return run
        start, end = m.start(), m.end()
        before = text[max(0, start - 48):start]
        if (before[-2:-1].isdigit() and before[-1:] == ".") \
                or (text[end:end + 1] == "." and text[end + 1:end + 2].isdigit()):
            return run  # an amount or a duration: 12345678.90
        if len(run) == 15 and _TRACE_BEFORE.search(before):
            return run
        k = _KEY_BEFORE.search(before)
        if k is not None and (k.group("q") or _base_key(k.group("key")) in NUMBER_FIELDS):
            return run
        return mask(run)

    return re.sub(rf"(?<!\d)\d{{{min_digits},}}(?!\d)", digits, text)


def mask_digit_runs(text: str, min_digits: int = 6) -> str:
    """Mask every run of ``min_digits`` or more digits (error reports' tracebacks, where nothing is known
    about the text); log lines use :func:`mask_sensitive`, which keeps dates and counts readable."""
    return re.sub(rf"\d{{{min_digits},}}", lambda m: mask(m.group(0)), text)


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in a file, located as precisely as the format allows.

    ``columns`` are 1-based and inclusive, as the record layouts print them.
    ``code`` is a stable machine-readable reason (:class:`IssueCode`);
    ``reason`` is the human sentence.
    """

    code: IssueCode
    reason: str
    line: int | None = None
    record: str | None = None
    field: str | None = None
    columns: tuple[int, int] | None = None
    value: str | None = None
    expected: str | None = None
    found: str | None = None
    severity: Severity = Severity.ERROR

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["columns"] = list(self.columns) if self.columns else None
        d["severity"] = str(self.severity)
        return d

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.record:
            where.append(self.record)
        if self.field:
            where.append(self.field)
        if self.columns:
            where.append(f"columns {self.columns[0]}-{self.columns[1]}")
        loc = ", ".join(where)
        extra = ""
        if self.expected is not None or self.found is not None:
            extra = f" (expected {self.expected!r}, found {self.found!r})"
        return f"{loc}: {self.reason}{extra}" if loc else f"{self.reason}{extra}"


@dataclass
class IssueList:
    """Collects issues while a file is read; warnings never fail a file."""

    issues: list[Issue] = field(default_factory=list)
    max_errors: int = 1000

    def add(self, issue: Issue) -> None:
        if len(self.issues) < self.max_errors:
            self.issues.append(issue)

    def extend(self, issues: Iterable[Issue]) -> None:
        for i in issues:
            self.add(i)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.WARNING]

    def raise_if_errors(self, what: str = "file") -> None:
        errs = self.errors
        if errs:
            raise FormatError(f"{what} is invalid: {errs[0]}", errs, self.warnings)


class FormatError(Exception):
    """The only exception a format raises for bad input."""

    def __init__(self, message: str, issues: list[Issue] | None = None,
                 warnings: list[Issue] | None = None) -> None:
        super().__init__(message)
        self.issues: list[Issue] = list(issues or [])
        self.warnings: list[Issue] = list(warnings or [])

    @classmethod
    def single(cls, code: IssueCode, reason: str, **where: Any) -> FormatError:
        issue = Issue(code=code, reason=reason, **where)
        return cls(str(issue), [issue])

    @property
    def first(self) -> Issue | None:
        return self.issues[0] if self.issues else None
