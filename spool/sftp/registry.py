"""What was downloaded already, so a server that keeps its files is not read twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class FetchedRegistry(Protocol):
    """Remembers downloaded remote files so a server that keeps them is not read twice.

    A file is identified by name, size and mtime (seconds): a new file under an
    old name is fetched again.
    """

    def is_fetched(self, name: str, size: int, mtime: int) -> bool: ...

    def mark_fetched(self, name: str, size: int, mtime: int, *, sha256: str, local_path: Path) -> None: ...


@dataclass
class MemoryFetchedRegistry:
    """In-memory :class:`FetchedRegistry` (tests; the daemon uses a DB-backed one)."""

    entries: dict[tuple[str, int, int], tuple[str, Path]] = field(default_factory=dict)

    def is_fetched(self, name: str, size: int, mtime: int) -> bool:
        return (name, size, mtime) in self.entries

    def mark_fetched(self, name: str, size: int, mtime: int, *, sha256: str, local_path: Path) -> None:
        self.entries[(name, size, mtime)] = (sha256, local_path)
