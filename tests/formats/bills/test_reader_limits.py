"""Hostile bill XML is rejected early in bounded memory (issue 11, reproduction 9)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from formats.bills.reader import MAX_BILL_ELEMENTS, MAX_BILL_TEXT, read_bills
from formats.errors import FormatError

HEAD = b'<?xml version="1.0"?>\n<bills version="1"><bill><billId>B1</billId>'


class Stream(io.RawIOBase):
    """A 100 MB document produced on demand (never held in memory), counting what the parser read."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.buffer = b""
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        while not self.buffer:
            try:
                self.buffer = next(self.chunks)
            except StopIteration:
                return 0
        n = min(len(b), len(self.buffer))
        b[:n] = self.buffer[:n]
        self.buffer = self.buffer[n:]
        self.read_bytes += n
        return n


def _document(unit: bytes, total: int) -> Iterator[bytes]:
    yield HEAD
    block = unit * (65536 // len(unit))
    sent = 0
    while sent < total:
        yield block
        sent += len(block)
    yield b"</bill></bills>\n"


@pytest.mark.parametrize("unit, what", [
    (b"<x/>", "elements"),                       # 25,000,000 empty elements in one bill
    (b"<a><b><c><d><e><f><g>", "nested"),        # depth without end
    (b"<note>" + b"y" * 4000 + b"</note>", "text"),  # megabytes of text in small nodes
])
def test_a_hostile_bill_is_rejected_after_reading_a_small_part(unit, what):
    total = 100 << 20
    stream = Stream(_document(unit, total))
    with pytest.raises(FormatError) as info:
        for _ in read_bills(io.BufferedReader(stream)):  # type: ignore[type-var]
            pass
    assert info.value.issues[0].code == "bill_too_large", info.value.issues[0]
    assert stream.read_bytes < max(MAX_BILL_ELEMENTS * len(unit), MAX_BILL_TEXT) * 2 + (1 << 20)
    assert stream.read_bytes < total // 10
