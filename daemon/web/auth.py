"""Local users, login sessions, CSRF tokens and the login rate limit.

Passwords are argon2 hashes. The session cookie carries a random token and the
database keeps only its sha256, so a leaked table opens no session. Each session
has its own CSRF token, checked on every POST.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from store.db import utcnow
from store.models.console import ConsoleSession, ConsoleUser, Role

SESSION_COOKIE = "sg_session"
LOGIN_COOKIE = "sg_login"
SESSION_LIFETIME = dt.timedelta(hours=8)
MIN_PASSWORD = 12

_hasher = PasswordHasher()
#: verified against when the user does not exist, so a wrong name costs as long as a wrong password
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class UserError(ValueError):
    """A refused user change (unknown role, short password, duplicate name)."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    csrf: str

    def can(self, *roles: Role) -> bool:
        return self.role in roles


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(s: Session, name: str, password: str, role: str) -> None:
    if role not in {r.value for r in Role}:
        raise UserError(f"unknown role {role!r}; one of {', '.join(r.value for r in Role)}")
    if not name or len(name) > 64 or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise UserError("a user name is 1-64 letters, digits, '.', '-' or '_'")
    if s.scalar(select(ConsoleUser.id).where(ConsoleUser.username == name)) is not None:
        raise UserError(f"user {name!r} exists")
    s.add(ConsoleUser(username=name, password_hash=hash_password(password), role=role))


def set_password(s: Session, name: str, password: str, role: str | None = None) -> None:
    user = s.scalar(select(ConsoleUser).where(ConsoleUser.username == name))
    if user is None:
        raise UserError(f"no user {name!r}")
    if role is not None and role not in {r.value for r in Role}:
        raise UserError(f"unknown role {role!r}")
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    if role is not None:
        user.role = role
    # a new password ends every open session of that user
    s.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))


def remove_user(s: Session, name: str) -> None:
    user = s.scalar(select(ConsoleUser).where(ConsoleUser.username == name))
    if user is None:
        raise UserError(f"no user {name!r}")
    s.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
    s.delete(user)


def verify(s: Session, name: str, password: str) -> int | None:
    """The user id if the password matches; constant work whether or not the user exists."""
    row = s.execute(select(ConsoleUser.id, ConsoleUser.password_hash).where(ConsoleUser.username == name)).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return row.id if row else None


def open_session(s: Session, user_id: int) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    s.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
    s.add(ConsoleSession(token_hash=token_hash(token), user_id=user_id, csrf_token=secrets.token_urlsafe(32),
                         created_at=now, expires_at=now + SESSION_LIFETIME))
    return token


def close_session(s: Session, token: str) -> None:
    s.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == token_hash(token)))


def session_user(s: Session, token: str | None) -> User | None:
    if not token:
        return None
    row = s.execute(select(ConsoleUser.id, ConsoleUser.username, ConsoleUser.role, ConsoleSession.csrf_token)
                    .join(ConsoleSession, ConsoleSession.user_id == ConsoleUser.id)
                    .where(ConsoleSession.token_hash == token_hash(token), ConsoleSession.expires_at > utcnow())
                    ).first()
    return User(row.id, row.username, row.role, row.csrf_token) if row else None


def same_token(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), str(given).encode())


class LoginLimiter:
    """At most ``limit`` failed logins per user name and per client address in ``window_s``."""

    def __init__(self, limit: int = 5, window_s: float = 900.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def retry_after(self, *keys: str) -> int:
        """Seconds until a login may be tried again (0: now)."""
        now = time.monotonic()
        with self._lock:
            waits = [self.window_s - (now - q[0]) for q in (self._recent(k, now) for k in keys)
                     if len(q) >= self.limit]
        return int(max(waits, default=0)) + (1 if waits else 0)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._fails) > 10000:  # many made-up names: forget the ones whose window has passed
                for k in [k for k, q in self._fails.items() if not q or now - q[-1] > self.window_s]:
                    del self._fails[k]
            for k in keys:
                self._recent(k, now).append(now)

    def succeeded(self, name_key: str) -> None:
        with self._lock:
            self._fails.pop(name_key, None)
