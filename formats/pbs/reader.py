"""Streaming line reader: bytes in, numbered decoded lines out, bounded memory.

Betalingsservice files are ISO-8859-1/cp1252 text with CR-LF or LF line ends and
trailing blanks stripped, so lines are short; the record parsers pad them. A
line longer than 128 characters (after stripping blanks) is an error, and a
runaway line is never read whole into memory. A delivery without any line
breaks (records of exactly 128 characters back to back, as the NACHA reader
meets them with 94) is split into records and counted as a tolerance warning.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from formats.errors import Issue, IssueCode, IssueList, Severity
from formats.pbs.fields import RECORD_LENGTH

#: longest physical line read into memory; anything longer is reported and skipped
MAX_LINE_BYTES = 4096


class BinaryLineSource(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Line:
    number: int  #: 1-based physical line number
    text: str  #: decoded, line end and trailing blanks removed

    @property
    def record(self) -> str:
        """The record name for error reports: ``BS042``, ``PBCNET``, or the first characters."""
        if self.text.startswith("PBCNET"):
            return "PBCNET" + self.text[6:8]
        return self.text[:5] or "(blank)"


def decode(raw: bytes) -> str:
    """cp1252 where it is defined, ISO-8859-1 for the five bytes it leaves out."""
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


#: how records start: a split at every 128 bytes must land on one of these
_RECORD_STARTS = (b"BS", b"PBCNET")


def unbroken(raw: bytes) -> bool:
    """True for back-to-back 128-byte records: longer than one record and a record start every 128 bytes."""
    body = raw.rstrip(b"\r\n")
    if len(body) <= RECORD_LENGTH:
        return False
    return all(body[i:].startswith(_RECORD_STARTS) for i in range(0, len(body) - 1, RECORD_LENGTH))


def _split(first: bytes, stream: BinaryLineSource, issues: IssueList, max_line_bytes: int) -> Iterator[Line]:
    number = 0
    carry = first
    while True:
        more = stream.readline(max_line_bytes)
        buf = (carry + more).replace(b"\r", b"").replace(b"\n", b"")
        cut = len(buf) if not more else len(buf) // RECORD_LENGTH * RECORD_LENGTH
        for i in range(0, cut, RECORD_LENGTH):
            number += 1
            text = decode(buf[i:i + RECORD_LENGTH]).rstrip(" ")
            if text:
                yield Line(number, text)
        carry = buf[cut:]
        if not more:
            break
    issues.add(Issue(code=IssueCode.NO_LINE_BREAKS, reason=f"no line breaks: {number} records split every "
                     f"{RECORD_LENGTH} characters", line=1, record=decode(first[:5]), field="record_length",
                     columns=(1, RECORD_LENGTH), severity=Severity.WARNING))


def iter_lines(stream: BinaryLineSource, issues: IssueList, *,
               max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[Line]:
    """Yield every line of ``stream``; length problems are added to ``issues``."""
    number = 0
    while True:
        raw = stream.readline(max_line_bytes)
        if not raw:
            return
        if number == 0 and unbroken(raw):
            yield from _split(raw, stream, issues, max_line_bytes)
            return
        number += 1
        if not raw.endswith(b"\n") and len(raw) >= max_line_bytes:
            skipped = len(raw)
            while True:
                more = stream.readline(max_line_bytes)
                skipped += len(more)
                if not more or more.endswith(b"\n"):
                    break
            issues.add(Issue(code=IssueCode.WRONG_LENGTH, reason="line is far longer than a record",
                             line=number, record=decode(raw[:5]), field="record_length",
                             columns=(RECORD_LENGTH + 1, skipped),
                             expected=f"at most {RECORD_LENGTH} characters", found=str(skipped)))
            continue
        text = decode(raw.rstrip(b"\r\n")).rstrip(" ")
        if len(text) > RECORD_LENGTH:
            line = Line(number, text)
            issues.add(Issue(code=IssueCode.WRONG_LENGTH, reason=f"record is longer than {RECORD_LENGTH} "
                             "characters", line=number, record=line.record, field="record_length",
                             columns=(RECORD_LENGTH + 1, len(text)), value=text[RECORD_LENGTH:][:40],
                             expected=f"at most {RECORD_LENGTH} characters", found=str(len(text))))
            continue
        yield Line(number, text)
