"""Streaming line reader: bytes in, numbered decoded lines out, bounded memory.

Betalingsservice files are ISO-8859-1/cp1252 text with CR-LF or LF line ends and
trailing blanks stripped, so lines are short; the record parsers pad them. A
line longer than 128 characters (after stripping blanks) is an error, and a
runaway line is never read whole into memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from formats.errors import Issue, IssueList
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


def iter_lines(stream: BinaryLineSource, issues: IssueList, *,
               max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[Line]:
    """Yield every line of ``stream``; length problems are added to ``issues``."""
    number = 0
    while True:
        raw = stream.readline(max_line_bytes)
        if not raw:
            return
        number += 1
        if not raw.endswith(b"\n") and len(raw) >= max_line_bytes:
            skipped = len(raw)
            while True:
                more = stream.readline(max_line_bytes)
                skipped += len(more)
                if not more or more.endswith(b"\n"):
                    break
            issues.add(Issue(code="wrong_length", reason="line is far longer than a record",
                             line=number, record=decode(raw[:5]), field="record_length",
                             columns=(RECORD_LENGTH + 1, skipped),
                             expected=f"at most {RECORD_LENGTH} characters", found=str(skipped)))
            continue
        text = decode(raw.rstrip(b"\r\n")).rstrip(" ")
        if len(text) > RECORD_LENGTH:
            line = Line(number, text)
            issues.add(Issue(code="wrong_length", reason=f"record is longer than {RECORD_LENGTH} "
                             "characters", line=number, record=line.record, field="record_length",
                             columns=(RECORD_LENGTH + 1, len(text)), value=text[RECORD_LENGTH:][:40],
                             expected=f"at most {RECORD_LENGTH} characters", found=str(len(text))))
            continue
        yield Line(number, text)
