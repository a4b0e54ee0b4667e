"""Record framing: bytes in, one 94-character record per line out, whatever the bank's line breaks.

Banks send LF, CRLF, CR, no line breaks at all, short or blank-padded lines, blank
lines and UTF-8 byte-order marks. :class:`Framer` accepts all of them, reports each
tolerance once (the reader counts repeats) and names compressed containers instead of
reading them as records. It reads 1 MiB at a time, so memory does not grow with the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

from formats.errors import Issue, IssueCode
from formats.nacha.records._base import RECORD_LENGTH

CHUNK_BYTES = 1 << 20
#: a "line" longer than this has no line breaks: split it every 94 bytes
MAX_LINE_BYTES = 1 << 16
BOM = b"\xef\xbb\xbf"
#: leading bytes of compressed containers banks send by mistake: named, never read as records
COMPRESSED = {b"\x1f\x8b": "gzip-compressed", b"PK\x03\x04": "zip archive", b"BZh": "bzip2-compressed"}
NO_BREAKS = "no line breaks: records split every 94 bytes"

#: (code, reason, line) of a tolerated deviation
Tolerate = Callable[[IssueCode, str, int | None], None]
Refuse = Callable[[Issue], None]


class Framer:
    """Splits one stream into raw records; tolerances and errors go to the callbacks given."""

    def __init__(self, stream: BinaryIO, tolerate: Tolerate, refuse: Refuse, *,
                 allow_special_characters: bool = False) -> None:
        self._stream = stream
        self._tolerate = tolerate
        self._refuse = refuse
        self._special = allow_special_characters
        #: the stream is a compressed container: nothing was framed
        self.compressed = False

    def chunks(self) -> Iterator[list[bytes]]:
        """Lists of raw records (line breaks removed except a CR before LF), a chunk at a time."""
        read = self._stream.read
        data: bytes = read(CHUNK_BYTES)
        if data.startswith(BOM):
            data = data[len(BOM):]
            self._tolerate(IssueCode.BOM, "UTF-8 byte-order mark ignored", 1)
        if not data:
            return
        for magic, what in COMPRESSED.items():
            if data.startswith(magic):
                self.compressed = True
                self._refuse(Issue(code=IssueCode.COMPRESSED, reason=f"{what}: decompress first", line=1,
                                   columns=(1, len(magic)), value=data[:len(magic)].hex(),
                                   expected="NACHA text records", found=what))
                return
        sep = self._separator(data)
        carry = b""
        while data:
            buf = carry + data if carry else data
            if sep:
                parts = buf.split(sep)
                carry = parts.pop()
                if len(carry) > MAX_LINE_BYTES:
                    self._tolerate(IssueCode.NO_LINE_BREAKS, NO_BREAKS, None)
                    n = len(carry) // RECORD_LENGTH * RECORD_LENGTH
                    parts.extend(carry[i:i + RECORD_LENGTH] for i in range(0, n, RECORD_LENGTH))
                    carry = carry[n:]
                yield parts
            else:
                buf = buf.replace(b"\r", b"").replace(b"\n", b"") if b"\n" in buf or b"\r" in buf else buf
                n = len(buf) // RECORD_LENGTH * RECORD_LENGTH
                yield [buf[i:i + RECORD_LENGTH] for i in range(0, n, RECORD_LENGTH)]
                carry = buf[n:]
            data = read(CHUNK_BYTES)
        if carry:
            yield [carry]

    def _separator(self, data: bytes) -> bytes:
        """LF, CR or none, from the first chunk; a first "line" of whole records means none."""
        nl = data.find(b"\n")
        cr = data.find(b"\r")
        first_len = nl - 1 if 0 < nl == cr + 1 else nl
        if nl >= 0 and (cr < 0 or cr >= nl - 1) and not (
                first_len > RECORD_LENGTH and first_len % RECORD_LENGTH == 0):
            if cr >= 0:
                self._tolerate(IssueCode.CRLF, "CRLF line endings", None)
            return b"\n"
        if cr >= 0 and (nl < 0 or cr < nl) and not (cr > RECORD_LENGTH and cr % RECORD_LENGTH == 0):
            self._tolerate(IssueCode.CR, "CR line endings", None)
            return b"\r"
        if len(data) > RECORD_LENGTH + 2:
            self._tolerate(IssueCode.NO_LINE_BREAKS, NO_BREAKS, None)
        return b""

    def text(self, lineno: int, raw: bytes) -> str | None:
        """One record as exactly 94 characters, or None for a blank line."""
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            if self._special:
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    text = raw.decode("cp1252", errors="replace")
            else:
                text = raw.decode("latin-1")
        if len(text) == RECORD_LENGTH:
            return text
        if not text.strip():
            self._tolerate(IssueCode.BLANK_LINE, "blank line skipped", lineno)
            return None
        if len(text) < RECORD_LENGTH:
            self._tolerate(IssueCode.SHORT_LINE, "short line padded with blanks to 94 characters", lineno)
            return text.ljust(RECORD_LENGTH)
        if not text[RECORD_LENGTH:].strip():
            self._tolerate(IssueCode.LONG_LINE, "trailing blanks after column 94 trimmed", lineno)
        else:
            self._refuse(Issue(code=IssueCode.RECORD_LENGTH, reason="record is longer than 94 characters", line=lineno,
                               columns=(RECORD_LENGTH + 1, len(text)), value=text[RECORD_LENGTH:][:20],
                               expected="94", found=str(len(text))))
        return text[:RECORD_LENGTH]
