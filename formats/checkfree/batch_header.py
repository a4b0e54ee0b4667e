"""3000 batch header: batch number, effective date, payee (debit) or summary (transumm)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from formats.checkfree.codec import Value


@dataclass(frozen=True, slots=True)
class Payee:
    """The payee settings of seed 001 "CheckFree Gateway Parameters"."""

    number: str
    short_name: str
    name: str = ""
    address: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """transumm only: CheckFree's count, amount and status for the batch."""

    count: int
    amount: int
    status: str


@dataclass(frozen=True, slots=True)
class BatchHeader:
    batch_no: int
    effective_date: date | None
    payee_number: str = ""
    description: str = ""
    payee: Payee | None = None
    summary: BatchSummary | None = None
    line: int | None = field(default=None, compare=False)

    @classmethod
    def from_values(cls, v: Mapping[str, Value], line: int | None) -> BatchHeader:
        eff = v.get("effective_date")
        payee = None
        if "payee_short_name" in v:
            payee = Payee(number=_s(v, "payee_number"), short_name=_s(v, "payee_short_name"),
                          name=_s(v, "payee_name"), address=_s(v, "payee_address"), city=_s(v, "payee_city"),
                          state=_s(v, "payee_state"), zip=_s(v, "payee_zip"))
        summary = None
        if "summary_count" in v:
            summary = BatchSummary(count=_i(v, "summary_count"), amount=_i(v, "summary_amount"),
                                   status=_s(v, "summary_status"))
        return cls(batch_no=_i(v, "batch_no"), effective_date=eff if isinstance(eff, date) else None,
                   payee_number=_s(v, "payee_number"), description=_s(v, "description"), payee=payee,
                   summary=summary, line=line)

    def to_values(self) -> dict[str, Value]:
        v: dict[str, Value] = {"batch_no": self.batch_no, "effective_date": self.effective_date,
                               "payee_number": self.payee_number, "description": self.description}
        if self.payee is not None:
            p = self.payee
            v.update(payee_number=p.number, payee_short_name=p.short_name, payee_name=p.name,
                     payee_address=p.address, payee_city=p.city, payee_state=p.state, payee_zip=p.zip)
        if self.summary is not None:
            v.update(summary_count=self.summary.count, summary_amount=self.summary.amount,
                     summary_status=self.summary.status)
        return v


def _s(v: Mapping[str, Value], name: str) -> str:
    x = v.get(name)
    return "" if x is None else str(x)


def _i(v: Mapping[str, Value], name: str) -> int:
    x = v.get(name)
    return x if isinstance(x, int) and not isinstance(x, bool) else 0
