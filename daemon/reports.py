"""What an operator reads about a file that went to error/: the report, the alert, masked text.

Every ``NAME.error.json`` has one schema (``full_report``) whatever sent the file there; the
reason and the first issue's location are at the top. Tracebacks and driver messages may quote
data, so they are masked before they reach a report or a log line.
"""

from __future__ import annotations

import datetime as dt
import errno
import traceback
from typing import Any

from sqlalchemy.exc import DBAPIError

from formats.errors import FormatError, Issue, IssueCode, mask_sensitive
from handlers.base import Rejected
from spool import fsops
from store.db import describe as describe_db
from store.models.core import Notification, SpoolFile

#: reports of entries refused without being read (no route or handler applies)
REFUSAL_CODES = frozenset({IssueCode.REFUSED, IssueCode.UNSAFE_NAME, IssueCode.UNREADABLE})


def report(reason: str, code: IssueCode, **extra: Any) -> dict[str, Any]:
    return {"reason": reason, "code": code, **extra}


def report_from(exc: BaseException) -> dict[str, Any]:
    """The error report of an exception: reason and the first issue's location at the top, every issue below."""
    issues: list[Issue] = []
    code = IssueCode.HANDLER_EXCEPTION
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, FormatError):
        issues, code = exc.issues, IssueCode.FORMAT_ERROR
        if issues:
            reason = issues[0].reason
    elif isinstance(exc, Rejected):
        issues, code, reason = exc.issues, exc.code, exc.reason
    elif isinstance(exc, fsops.UnsafeName):
        code = IssueCode.UNSAFE_NAME
    out: dict[str, Any] = {"reason": reason, "code": code, "exception": type(exc).__name__}
    if issues:
        first = issues[0]
        out.update(line=first.line, record=first.record, field=first.field,
                   columns=list(first.columns) if first.columns else None, value=first.value)
        out["issues"] = [i.to_dict() for i in issues[:1000]]
        out["issue_count"] = len(issues)
    if isinstance(exc, FormatError) and exc.warnings:
        out["warnings"] = [w.to_dict() for w in exc.warnings[:100]]
    if isinstance(exc, DBAPIError):
        out["reason"] = describe(exc)
    if code is IssueCode.HANDLER_EXCEPTION:
        out["reason"] = mask_digits(reason)  # a driver's or library's text may quote data
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=8)
        if isinstance(exc, DBAPIError):  # the message quotes data; keep the stack, not the message
            tb = [*traceback.format_tb(exc.__traceback__, limit=8), describe(exc) + "\n"]
        out["traceback"] = mask_digits("".join(tb))
    return out


def full_report(row: SpoolFile, partial: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Every ``NAME.error.json`` has these keys, whatever sent the file to error/."""
    return {"file": row.original_name, "original_name": row.original_name, "channel": row.channel,
            "ledger_id": row.id, "sha256": row.sha256, "size": row.size, "handler": row.handler,
            "route": row.route, "attempts": row.attempts, "time": now.isoformat(),
            "exception": None, "line": None, "record": None, "field": None, "columns": None, "value": None,
            "issues": [], "issue_count": 0, **partial}


def alert(row: SpoolFile, full: dict[str, Any], recipients: list[str]) -> Notification:
    """The immediate mail to the channel's (or the site's) alert recipients."""
    where = ", ".join(f"{k} {full[k]}" for k in ("line", "record", "field", "columns") if full.get(k))
    body = (f"File {row.original_name} on channel {row.channel} was filed to error/.\n\n"
            f"Reason: {full.get('reason')}\n{('Where: ' + where + chr(10)) if where else ''}"
            f"Handler: {full.get('handler')}\nLedger id: {row.id}\nReport: {row.final_path}.error.json\n")
    return Notification(lane="immediate", kind="file-error", recipients=recipients,
                        subject=f"[spoolgate] {row.channel}: {row.original_name} rejected", body=body,
                        ref=f"spool_file:{row.id}")


def unreadable(exc: OSError) -> str:
    """Why a claimed file could not be read, in an operator's words."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"cannot read the file: {exc.strerror} (check its permissions)"
    if exc.errno in (errno.ELOOP, errno.EINVAL):
        return "not a regular file (replaced by a link or device after it was claimed): refused without reading it"
    return f"cannot read the file: {exc.strerror}"


def unreadable_code(exc: OSError) -> IssueCode:
    return IssueCode.UNREADABLE if exc.errno in (errno.EACCES, errno.EPERM) else IssueCode.REFUSED


def describe(exc: BaseException) -> str:
    """One line for a log or a report, masked (``store.db.describe`` never quotes parameters)."""
    return mask_digits(describe_db(exc))


def mask_digits(text: str) -> str:
    """Tracebacks may quote data: mask account numbers, names and long digit runs (not dates) in them."""
    return mask_sensitive(text, 6)
