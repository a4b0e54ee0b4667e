"""Bills channel tables, plus the audit trail and notification attachments (seed 000).

Bills come from bill files (``bills.load``); line items are rows unless the
channel stores bill data compressed (``data_compress``), in which case the
whole bill document lives zlib-compressed in ``bills.data``. Bill notify marks
each bill with the run that told its user (``notified_run``), in the same
transaction as the queued message, so a failed run leaves them pending.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.db import Base, BigId, Cents, utcnow


class BillStatus(StrEnum):
    LOADED = "LOADED"  #: waits for a manual publish
    PUBLISHED = "PUBLISHED"  #: visible to users, notified by bill notify
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"


class DataEncoding(StrEnum):
    JSON = "json"
    ZLIB_JSON = "zlib+json"


class Bill(Base):
    __tablename__ = "bills"
    __table_args__ = (
        UniqueConstraint("bill_id", name="uq_bills_bill_id"),
        Index("ix_bills_loaded_at", "loaded_at"),
        Index("ix_bills_notify", "notified_run", "status"),
        Index("ix_bills_account_number", "account_number"),
    )

    id: Mapped[BigId]
    bill_id: Mapped[str] = mapped_column(String(64))
    account_number: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(64))
    payer_name: Mapped[str] = mapped_column(String(200))
    document_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    amount_due: Mapped[Cents]
    minimum_amount_due: Mapped[Cents]
    currency: Mapped[str] = mapped_column(String(3))
    pdf_ref: Mapped[str | None] = mapped_column(String(1024))
    status: Mapped[str] = mapped_column(String(16), default=BillStatus.LOADED)
    #: spool_files.id of the file that brought it
    file_id: Mapped[int | None] = mapped_column(BigInteger)
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    #: the bill document (line items included) when stored compressed
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    data_encoding: Mapped[str | None] = mapped_column(String(16))
    #: job_runs.id of the bill-notify run that told the user; NULL while pending
    notified_run: Mapped[int | None] = mapped_column(BigInteger)


def encode_bill_data(doc: dict[str, Any], *, compress: bool) -> tuple[bytes, str]:
    raw = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
    if compress:
        return zlib.compress(raw, 6), DataEncoding.ZLIB_JSON
    return raw, DataEncoding.JSON


def decode_bill_data(data: bytes, encoding: str) -> dict[str, Any]:
    raw = zlib.decompress(data) if encoding == DataEncoding.ZLIB_JSON else data
    doc: dict[str, Any] = json.loads(raw)
    return doc


class BillLineItem(Base):
    __tablename__ = "bill_line_items"
    __table_args__ = (Index("ix_bill_line_items_bill", "bill_pk"),)

    id: Mapped[BigId]
    bill_pk: Mapped[int] = mapped_column(ForeignKey("bills.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Cents]
    code: Mapped[str | None] = mapped_column(String(64))


class BillUser(Base):
    """Who gets told about new bills: the portal's user id and e-mail address."""

    __tablename__ = "bill_users"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: the first address; ``emails`` holds them all when a bill file carried them
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))
    notify: Mapped[bool] = mapped_column(default=True)
    #: every notification address of the user, from the latest bill file that named them
    emails: Mapped[list[Any] | None]
    #: the spool file (ledger id) that last set the addresses
    emails_file_id: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def addresses(self) -> list[str]:
        return list(self.emails or ([self.email] if self.email else []))


class BillNotice(Base):
    """One consolidated message per user per bill-notify run."""

    __tablename__ = "bill_notices"
    __table_args__ = (UniqueConstraint("run_id", "user_id", name="uq_bill_notices_run_id"),)

    id: Mapped[BigId]
    run_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[str] = mapped_column(String(64))
    accounts: Mapped[int] = mapped_column(Integer)
    bills: Mapped[int] = mapped_column(Integer)
    #: notifications.id, or NULL when the user has no address (counted, not retried)
    notification_id: Mapped[int | None] = mapped_column(BigInteger)
    template: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TransferState(StrEnum):
    PLACING = "placing"  #: copy fsynced under the temp name; rename and source removal may be pending
    DONE = "done"


class BillTransfer(Base):
    """bill-xfer's journal for COPY_AND_DELETE, so a crash never leaves two copies or none."""

    __tablename__ = "bill_transfers"
    __table_args__ = (Index("ix_bill_transfers_state", "state"),)

    id: Mapped[BigId]
    source: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    temp: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), default=TransferState.PLACING)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]


class AuditEvent(Base):
    """Seed 000 AUD_EVENT: who did what to which object, kept N days then exported and purged."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_created_at", "created_at"),)

    id: Mapped[BigId]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    job_name: Mapped[str | None] = mapped_column(String(128))
    event_type: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(128))
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[dict[str, Any] | None]


class AuditExport(Base):
    """One exported-and-deleted chunk: the export file is valid up to ``end_offset``.

    Committed in the same transaction as the delete of the chunk's events, so after
    a crash the bytes past the last committed offset are known to be uncommitted
    and are cut off (their events are still in the table).
    """

    __tablename__ = "audit_exports"
    __table_args__ = (Index("ix_audit_exports_file", "file"),)

    id: Mapped[BigId]
    file: Mapped[str] = mapped_column(String(255))
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    first_event: Mapped[int] = mapped_column(BigInteger)
    last_event: Mapped[int] = mapped_column(BigInteger)
    events: Mapped[int] = mapped_column(Integer)
    start_offset: Mapped[int] = mapped_column(BigInteger)
    end_offset: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
