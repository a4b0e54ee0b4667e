"""Log line formatting: one line per record, masked, with real keys in JSON.

Every record goes through :func:`formats.errors.mask_sensitive` (account numbers and payer names
never reach a log line) and :func:`escape_unsafe` (a file name with a Unicode line break, a C1
control or a bidi override cannot forge or disguise a log line). Under systemd, lines carry the
``<N>`` priority prefix journald understands, so ``journalctl -p err`` finds the errors.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
from typing import Any

from formats.errors import mask_sensitive

#: digit runs this long may be account numbers; masked in every log line and traceback
LOG_MASK_DIGITS = 8

#: structured fields a log call may pass with ``extra=``; written as JSON keys
FIELDS = ("channel", "file", "file_id", "handler", "outcome", "counts", "totals", "duration", "code", "reason",
          "job", "run_id", "trigger", "expectation")

#: C0 controls (but tab), DEL, C1 controls, Unicode line/paragraph separators, bidi embeddings,
#: overrides and isolates, the other characters str.splitlines() breaks on, and lone surrogates (a name
#: that was not UTF-8, decoded with surrogateescape)
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                     "\ud800-\udfff]")
_UNSAFE_KEEP_NL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                             "\u2066-\u2069\ud800-\udfff]")

#: syslog priorities (sd-daemon(3)) by logging level
_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group(0))
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def escape_unsafe(text: str, *, keep_newlines: bool = False) -> str:
    """Write line breaks, controls and bidi overrides as ``\\xNN``/``\\uNNNN`` escapes."""
    return (_UNSAFE_KEEP_NL if keep_newlines else _UNSAFE).sub(_escape, text)


def priority(levelno: int) -> int:
    for level in sorted(_PRIORITY, reverse=True):
        if levelno >= level:
            return _PRIORITY[level]
    return 7


def journald_stderr() -> bool:
    """True when stderr is connected to journald (systemd sets ``JOURNAL_STREAM=dev:ino``)."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    try:
        dev, ino = (int(x) for x in stream.split(":"))
        st = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (dev, ino)


def _safe(text: str, *, keep_newlines: bool = False) -> str:
    return escape_unsafe(mask_sensitive(text, LOG_MASK_DIGITS), keep_newlines=keep_newlines)


class MaskingFormatter(logging.Formatter):
    """Plain text: the message on one line (escaped), a traceback below it (masked)."""

    def __init__(self, fmt: str | None = None, *, prefix: bool = False) -> None:
        super().__init__(fmt)
        self.prefix = prefix

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = _safe(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: Any) -> str:
        return _safe(super().formatException(ei), keep_newlines=True)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        return f"<{priority(record.levelno)}>{line}" if self.prefix else line


class JsonFormatter(logging.Formatter):
    """One JSON object per line with the record's structured fields as keys."""

    def __init__(self, *, prefix: bool = False) -> None:
        super().__init__()
        self.prefix = prefix

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {"time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
                               "level": record.levelname, "logger": record.name,
                               "message": _safe(record.getMessage())}
        for key in FIELDS:
            value = record.__dict__.get(key)
            if value is None:
                continue
            if isinstance(value, str):
                value = _safe(value)
            elif isinstance(value, dict):
                value = {str(k): v for k, v in value.items() if isinstance(v, int | float)}
            elif not isinstance(value, int | float):
                value = _safe(str(value))
            out[key] = value
        if record.exc_info:
            out["exception"] = _safe(self.formatException(record.exc_info), keep_newlines=True)
        line = json.dumps(out, ensure_ascii=False)
        return f"<{priority(record.levelno)}>{line}" if self.prefix else line
