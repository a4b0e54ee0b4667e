"""9999 file trailer: the control counts and total the reader checks and the writer tabulates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from formats.checkfree.codec import Value


@dataclass(frozen=True, slots=True)
class FileTrailer:
    record_count: int  #: every record including 0000 and 9999
    detail_count: int  #: 4000 records
    total_amount: int  #: cents, sum of the 4000 amounts
    line: int | None = field(default=None, compare=False)

    @classmethod
    def from_values(cls, v: Mapping[str, Value], line: int | None) -> FileTrailer:
        return cls(record_count=_i(v.get("record_count")), detail_count=_i(v.get("detail_count")),
                   total_amount=_i(v.get("total_amount")), line=line)

    def to_values(self) -> dict[str, Value]:
        return {"record_count": self.record_count, "detail_count": self.detail_count,
                "total_amount": self.total_amount}


def _i(x: Value) -> int:
    return x if isinstance(x, int) and not isinstance(x, bool) else 0
