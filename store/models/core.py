"""The daemon's own tables: the file ledger, outbound files, job runs, notifications."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.db import Base, BigId, utcnow


class FileState(StrEnum):
    CLAIMED = "claimed"  #: renamed into work/, not yet started
    PROCESSING = "processing"  #: a worker holds the lease
    DONE = "done"  #: committed; file in (or on its way to) processed/
    ERROR = "error"  #: in (or on its way to) error/
    DUPLICATE = "duplicate"  #: content seen before; filed per the dedup policy
    RETRIED = "retried"  #: sent back to the inbox by an operator


TERMINAL_STATES = (FileState.DONE, FileState.ERROR, FileState.DUPLICATE, FileState.RETRIED)


class SpoolFile(Base):
    """One inbound file's life: every claim gets a row; the folder and the row must agree."""

    __tablename__ = "spool_files"
    __table_args__ = (
        UniqueConstraint("channel", "work_name", name="uq_spool_files_channel_work_name"),
        # A content hash may be "done" once per channel unless the policy is reprocess
        # (then dedup_key stays NULL, and NULLs never collide).
        UniqueConstraint("channel", "dedup_key", name="uq_spool_files_channel_dedup_key"),
        Index("ix_spool_files_state", "state"),
        Index("ix_spool_files_sha256", "channel", "sha256"),
        Index("ix_spool_files_original_name", "original_name"),
        #: the console's per-channel "done today" / "last file" and date-range searches
        Index("ix_spool_files_channel_finished", "channel", "finished_at"),
    )

    id: Mapped[BigId]
    channel: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(255))
    work_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), default=FileState.CLAIMED)
    route: Mapped[str | None] = mapped_column(String(255))
    handler: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[dt.datetime | None]
    dedup_key: Mapped[str | None] = mapped_column(String(64))
    duplicate_of: Mapped[int | None] = mapped_column(BigInteger)
    claimed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    #: where the file was (or is to be) filed: processed/... or error/...
    final_path: Mapped[str | None] = mapped_column(Text)
    counts: Mapped[dict[str, Any] | None]
    totals: Mapped[dict[str, Any] | None]
    summary: Mapped[dict[str, Any] | None]
    error: Mapped[dict[str, Any] | None]


class OutboundState(StrEnum):
    STAGED = "staged"  #: content fsynced under a hidden temp name; committed decision
    DELIVERED = "delivered"  #: renamed into place and its signal written


class OutboundFile(Base):
    """Every file we write for pickup, with what it carries."""

    __tablename__ = "outbound_files"
    __table_args__ = (UniqueConstraint("folder", "name", name="uq_outbound_files_folder_name"),
                      Index("ix_outbound_files_state", "state"),
                      #: the console's file story: what a file produced
                      Index("ix_outbound_files_source", "source"))

    id: Mapped[BigId]
    target: Mapped[str] = mapped_column(String(64))
    folder: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(255))
    temp_name: Mapped[str] = mapped_column(String(300))
    signal_name: Mapped[str | None] = mapped_column(String(300))
    signal_style: Mapped[str] = mapped_column(String(16))
    mode: Mapped[int] = mapped_column(Integer, default=0o640)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    records: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default=OutboundState.STAGED)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[dt.datetime | None]
    #: what produced it: ``file:<spool_files.id>`` or ``job:<job_runs.id>``
    source: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[dict[str, Any] | None]
    items: Mapped[list[OutboundItem]] = relationship(back_populates="outbound", cascade="all, delete-orphan")


class OutboundItem(Base):
    """Answers "which file carried payment X"."""

    __tablename__ = "outbound_items"
    __table_args__ = (Index("ix_outbound_items_kind_ref", "kind", "ref"),)

    id: Mapped[BigId]
    outbound_id: Mapped[int] = mapped_column(ForeignKey("outbound_files.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    outbound: Mapped[OutboundFile] = relationship(back_populates="items")


class JobRun(Base):
    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)

    id: Mapped[BigId]
    job: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(16), default="schedule")
    owner: Mapped[str | None] = mapped_column(String(128))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    #: running, success, failure, noop
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    counts: Mapped[dict[str, Any] | None]
    message: Mapped[str | None] = mapped_column(Text)


class JobState(Base):
    """Schedule and mutual exclusion per job, shared by every daemon on the database."""

    __tablename__ = "job_state"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_run_at: Mapped[dt.datetime | None]
    last_run_id: Mapped[int | None] = mapped_column(BigInteger)
    lock_owner: Mapped[str | None] = mapped_column(String(128))
    lock_until: Mapped[dt.datetime | None]


class Notification(Base):
    """The outgoing message queue; the immediate lane is never delayed by the bulk lane."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_state_lane", "state", "lane"),)

    id: Mapped[BigId]
    lane: Mapped[str] = mapped_column(String(16), default="immediate")
    kind: Mapped[str] = mapped_column(String(64), default="message")
    recipients: Mapped[list[Any]]
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    #: pending, sent, failed
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    #: stable Message-ID so a resend after a crash is recognisable downstream
    message_id: Mapped[str | None] = mapped_column(String(255))
    ref: Mapped[str | None] = mapped_column(String(64))


class FetchedRemote(Base):
    """Remote files already downloaded from servers that forbid deletes."""

    __tablename__ = "fetched_remote"
    __table_args__ = (UniqueConstraint("endpoint", "name", "size", "mtime",
                                       name="uq_fetched_remote_endpoint_name"),)

    id: Mapped[BigId]
    endpoint: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    mtime: Mapped[int] = mapped_column(BigInteger)
    fetched_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class NotificationAttachment(Base):
    """Files sent with a notification (seed 000 NTF_ATTACHMENT); deleted with it."""

    __tablename__ = "notification_attachments"
    __table_args__ = (Index("ix_notification_attachments_notification", "notification_id"),)

    id: Mapped[BigId]
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128), default="application/octet-stream")
    data: Mapped[bytes] = mapped_column(LargeBinary)
