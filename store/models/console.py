"""Tables of the operator console: users and sessions, the operator action log, daemon heartbeats."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.db import Base, BigId, utcnow


class Role(StrEnum):
    VIEWER = "viewer"  #: reads every page
    OPERATOR = "operator"  #: also retries files, releases batches, runs jobs
    AUDITOR = "auditor"  #: reads every page and exports audit history


class ConsoleUser(Base):
    """A local console user; the password is an argon2 hash, never the password."""

    __tablename__ = "console_users"

    id: Mapped[BigId]
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ConsoleSession(Base):
    """A login. The cookie holds a random token; only its sha256 is stored, with the CSRF token."""

    __tablename__ = "console_sessions"
    __table_args__ = (Index("ix_console_sessions_user_id", "user_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]


class OperatorAction(Base):
    """Who did what to which target, why, when, from where (web, cli, daemon) and how it ended."""

    __tablename__ = "operator_actions"
    __table_args__ = (
        Index("ix_operator_actions_at", "at"),
        Index("ix_operator_actions_target", "target"),
    )

    id: Mapped[BigId]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    via: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    #: ok, failed, refused
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)


class DaemonHeartbeat(Base):
    """One row per running daemon process, refreshed while it runs."""

    __tablename__ = "daemon_heartbeats"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    beat_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[dt.datetime | None]
    status: Mapped[str | None] = mapped_column(String(255))
    files_done: Mapped[int] = mapped_column(BigInteger, default=0)
