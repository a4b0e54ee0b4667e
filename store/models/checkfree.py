"""CheckFree channel tables: outbound transfer stages and the inbound files processed."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.db import Base, BigId, utcnow


class TransferState(StrEnum):
    """Outbound stages; each is entered only after its filesystem step is durable."""

    NEW = "new"  #: plaintext debit file in out/bd
    ARCHIVED = "archived"  #: plaintext copied to out/history
    ENCRYPTED = "encrypted"  #: NAME.pgp complete in out/ftp (plaintext in out/bd may still exist)
    UPLOADING = "uploading"  #: an upload was started (it may have reached the server)
    UPLOADED = "uploaded"  #: the server confirmed the complete file under its final name
    DONE = "done"  #: removed from out/ftp
    ERROR = "error"  #: upload gave up; NAME.pgp is in out/error with a report


class CheckfreeTransfer(Base):
    """One outbound CDP file on its way from out/bd to CheckFree."""

    __tablename__ = "checkfree_transfers"
    __table_args__ = (UniqueConstraint("name", name="uq_checkfree_transfers_name"),
                      Index("ix_checkfree_transfers_state", "state"))

    id: Mapped[BigId]
    #: plaintext CDP name (``test.user.debit.dat.CCCCMMDDHHMMSS``); the upload adds ``.pgp``
    name: Mapped[str] = mapped_column(String(255))
    payee: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=TransferState.NEW)
    plain_sha256: Mapped[str | None] = mapped_column(String(64))
    plain_size: Mapped[int | None] = mapped_column(BigInteger)
    detail_count: Mapped[int | None] = mapped_column(Integer)
    total_amount: Mapped[int | None] = mapped_column(BigInteger)
    encrypted_sha256: Mapped[str | None] = mapped_column(String(64))
    encrypted_size: Mapped[int | None] = mapped_column(BigInteger)
    remote_path: Mapped[str | None] = mapped_column(Text)
    upload_attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: after the cut-off (noon Eastern) when written: CheckFree processes it a day later
    late: Mapped[bool] = mapped_column(default=False)
    #: ``job:<run id>`` that wrote the debit file, when known
    source: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    uploaded_at: Mapped[dt.datetime | None]


class CheckfreeFile(Base):
    """Every inbound CDP file applied (or archived): type, payee, client id, controls."""

    __tablename__ = "checkfree_files"
    __table_args__ = (Index("ix_checkfree_files_type_payee", "file_type", "payee"),)

    id: Mapped[BigId]
    spool_file_id: Mapped[int] = mapped_column(ForeignKey("spool_files.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    file_type: Mapped[str] = mapped_column(String(16))
    payee: Mapped[str] = mapped_column(String(64))
    system: Mapped[str] = mapped_column(String(8))
    client_id: Mapped[str] = mapped_column(String(16))
    #: the name's CCCCMMDDHHMMSS stamp (CheckFree's local time, kept as written)
    stamp: Mapped[str] = mapped_column(String(14))
    records: Mapped[int] = mapped_column(Integer, default=0)
    detail_count: Mapped[int] = mapped_column(Integer, default=0)
    total_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    #: what the file did: accepted, failed, returned, noc, unmatched, archived ...
    counts: Mapped[dict[str, Any] | None]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
