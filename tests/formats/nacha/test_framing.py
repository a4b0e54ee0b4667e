"""Framing: any bank's line breaks and lengths in, 94-character records out, each tolerance reported."""

from __future__ import annotations

import io

import pytest

from formats.errors import Issue
from formats.nacha.framing import CHUNK_BYTES, Framer

REC = [bytes([ord("1") + i % 9]) * 94 for i in range(25)]


class _Sink:
    def __init__(self) -> None:
        self.tolerated: list[tuple[str, int | None]] = []
        self.refused: list[Issue] = []

    def tolerate(self, code: str, reason: str, line: int | None) -> None:
        self.tolerated.append((code, line))

    def refuse(self, issue: Issue) -> None:
        self.refused.append(issue)


def _frame(data: bytes, *, special: bool = False) -> tuple[list[str | None], _Sink]:
    sink = _Sink()
    framer = Framer(io.BytesIO(data), sink.tolerate, sink.refuse, allow_special_characters=special)
    raws = [raw for chunk in framer.chunks() for raw in chunk]
    return [framer.text(n, raw) for n, raw in enumerate(raws, 1)], sink


@pytest.mark.parametrize(("data", "tolerated"), [
    (b"\n".join(REC) + b"\n", []),
    (b"\r\n".join(REC) + b"\r\n", ["crlf"]),
    (b"\r".join(REC), ["cr"]),
    (b"".join(REC), ["no_line_breaks"]),
    (b"\xef\xbb\xbf" + b"\n".join(REC), ["bom"]),
])
def test_line_breaks(data: bytes, tolerated: list[str]) -> None:
    texts, sink = _frame(data)
    assert texts == [r.decode() for r in REC]
    assert [c for c, _ in sink.tolerated] == tolerated
    assert not sink.refused


def test_no_line_breaks_across_chunks() -> None:
    """A file bigger than one read, without line breaks, splits every 94 bytes across chunk borders."""
    n = CHUNK_BYTES // 94 * 2 + 7
    data = b"".join(REC[i % len(REC)] for i in range(n))
    texts, _ = _frame(data)
    assert len(texts) == n and all(t == REC[i % len(REC)].decode() for i, t in enumerate(texts))


def test_lengths() -> None:
    data = b"\n".join([REC[0], REC[1][:50], b"   ", REC[2] + b"  ", REC[3] + b"XY"]) + b"\n"
    texts, sink = _frame(data)
    assert texts == [REC[0].decode(), REC[1][:50].decode().ljust(94), None, REC[2].decode(), REC[3].decode()]
    assert sink.tolerated == [("short_line", 2), ("blank_line", 3), ("long_line", 4)]
    (issue,) = sink.refused
    assert (issue.code, issue.line, issue.columns, issue.value) == ("record_length", 5, (95, 96), "XY")


@pytest.mark.parametrize(("magic", "what"), [(b"\x1f\x8b\x08", "gzip-compressed"), (b"PK\x03\x04", "zip archive")])
def test_compressed_is_named_not_read(magic: bytes, what: str) -> None:
    sink = _Sink()
    framer = Framer(io.BytesIO(magic + b"x" * 200), sink.tolerate, sink.refuse)
    assert list(framer.chunks()) == [] and framer.compressed
    assert [(i.code, i.found) for i in sink.refused] == [("compressed", what)]


def test_non_ascii_bytes() -> None:
    line = "1" * 90 + "ÄÖÜ "
    texts, _ = _frame(line.encode("utf-8") + b"\n", special=True)
    assert texts == [line]
    texts, _ = _frame(line.encode("utf-8") + b"\n")
    assert texts[0] is not None and len(texts[0]) == 94 and texts[0].startswith("1" * 90)
