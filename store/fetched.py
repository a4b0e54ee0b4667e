"""The DB-backed :class:`spool.sftp.FetchedRegistry` on the core ``fetched_remote`` table.

Each mark commits on its own: the file is already in the inbox when it is
marked, so the record must outlive whatever the caller does next.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from store.db import Database
from store.models.core import FetchedRemote


class DbFetchedRegistry:
    """Remote files already downloaded from ``endpoint`` (by name, size and mtime)."""

    def __init__(self, db: Database, endpoint: str) -> None:
        self.db = db
        self.endpoint = endpoint

    def is_fetched(self, name: str, size: int, mtime: int) -> bool:
        with self.db.transaction() as s:
            found = s.scalar(select(FetchedRemote.id).where(
                FetchedRemote.endpoint == self.endpoint, FetchedRemote.name == name,
                FetchedRemote.size == size, FetchedRemote.mtime == mtime))
        return found is not None

    def mark_fetched(self, name: str, size: int, mtime: int, *, sha256: str, local_path: Path) -> None:
        try:
            with self.db.transaction() as s:
                s.add(FetchedRemote(endpoint=self.endpoint, name=name, size=size, mtime=mtime))
        except IntegrityError:
            pass  # another daemon recorded it first: the same fact
