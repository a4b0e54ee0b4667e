"""Error reports: one schema, the first issue on top, data masked in reasons and tracebacks."""

from __future__ import annotations

import datetime as dt
import errno

from daemon.reports import REFUSAL_CODES, full_report, report, report_from, unreadable, unreadable_code
from formats.errors import FormatError, Issue, IssueCode
from handlers.base import Rejected
from store.models.core import SpoolFile


def test_an_unexpected_exception_report_masks_its_reason_and_traceback():
    try:
        raise RuntimeError("insert failed [parameters: ('Jens Hansen', 'DE44-5001-0517-33998')] "
                           "{'account_number': '4000123456789'} in payments_20261130.txt")
    except RuntimeError as exc:
        got = report_from(exc)
    assert got["code"] == "handler_exception"
    for text in (got["reason"], got["traceback"]):
        assert "Jens" not in text and "5001-0517" not in text and "4000123456789" not in text
        assert "payments_20261130.txt" in text


def test_a_rejection_puts_its_first_issue_on_top():
    issues = [Issue(IssueCode.BAD_AMOUNT, "bad amount", line=3, field="amount"),
              Issue(IssueCode.BAD_DATE, "bad date", line=5)]
    got = report_from(Rejected("two problems", issues, code=IssueCode.REJECTED))
    assert (got["reason"], got["code"], got["line"], got["field"], got["issue_count"]) == \
        ("two problems", "rejected", 3, "amount", 2)
    assert "traceback" not in got
    fmt = report_from(FormatError("two problems", issues))
    assert (fmt["code"], fmt["reason"]) == ("format_error", "bad amount")


def test_every_report_has_the_same_keys():
    row = SpoolFile(id=4, channel="drop", original_name="f.txt", sha256="ab", size=2, attempts=1)
    when = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    plain = full_report(row, report("no route", IssueCode.NO_ROUTE), when)
    rich = full_report(row, report_from(Rejected("x", [Issue(IssueCode.BAD_DATE, "y", line=1)])), when)
    assert set(plain) <= set(rich) and plain["ledger_id"] == 4 and plain["time"] == when.isoformat()


def test_unreadable_files_are_told_apart_from_refused_ones():
    denied = OSError(errno.EACCES, "Permission denied")
    loop = OSError(errno.ELOOP, "Too many levels of symbolic links")
    assert unreadable_code(denied) == "unreadable" and "permissions" in unreadable(denied)
    assert unreadable_code(loop) == "refused" and "not a regular file" in unreadable(loop)
    assert {"unreadable", "refused", "unsafe_name"} == REFUSAL_CODES
