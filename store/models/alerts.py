"""Late-file alert state: one row per expectation and business day, shared by every daemon."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, Date, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.db import Base, BigId, utcnow


class ExpectationState(StrEnum):
    MET = "met"  #: the file came in time (recorded once the deadline passed)
    LATE = "late"  #: the deadline plus grace passed without the file; alert queued
    ARRIVED_LATE = "arrived_late"  #: the file came after the alert; cleared, and said so


class ExpectationEvent(Base):
    """An expectation's outcome for one day, written once its deadline passed. The unique key makes the
    alert once-only: the daemon whose insert wins queues the e-mail."""

    __tablename__ = "expectation_events"
    __table_args__ = (UniqueConstraint("channel", "expectation", "day", name="uq_expectation_events_day"),
                      Index("ix_expectation_events_state", "state"))

    id: Mapped[BigId]
    channel: Mapped[str] = mapped_column(String(64))
    expectation: Mapped[str] = mapped_column(String(64))
    #: the business day in the rule's time zone
    day: Mapped[dt.date] = mapped_column(Date)
    due_at: Mapped[dt.datetime]
    state: Mapped[str] = mapped_column(String(16), default=ExpectationState.LATE)
    #: when the deadline was checked (and, for a late file, the alert queued)
    alerted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    alerted_by: Mapped[str | None] = mapped_column(String(128))
    arrived_at: Mapped[dt.datetime | None]
    file_id: Mapped[int | None] = mapped_column(BigInteger)
    file_name: Mapped[str | None] = mapped_column(String(255))
