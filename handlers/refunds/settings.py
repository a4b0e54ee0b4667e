"""The ``[refunds]`` section (seed 001 LoadsRefundsTask / SubmitRefundTask parameters)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class RefundStatus(StrEnum):
    SCHEDULED = "scheduled"
    PROCESSED = "processed"
    REJECTED = "rejected"


class RefundKind(StrEnum):
    REFUND = "R"
    DEPOSIT = "D"
    CANCELLATION = "C"
    VOID = "V"


class RefundSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: "Payment selection criteria for refunds": the original payment is looked for this far back
    selection_unit: Literal["days", "weeks", "months"] = "days"
    #: "Selection criteria value (greater than 0)"
    selection_value: int = Field(default=90, gt=0)
    #: "Allow multiple refunds per payment"
    allow_multiple: bool = False

    def window_start(self, today: dt.date) -> dt.date:
        if self.selection_unit == "days":
            return today - dt.timedelta(days=self.selection_value)
        if self.selection_unit == "weeks":
            return today - dt.timedelta(weeks=self.selection_value)
        months = today.year * 12 + today.month - 1 - self.selection_value
        year, month = divmod(months, 12)
        month += 1
        last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
        return dt.date(year, month, min(today.day, last))

    def describe(self) -> str:
        return f"{self.selection_value} {self.selection_unit}"
