"""Deciding when a dropped file is complete.

Two modes per channel: a signal file beside the data file, or a quiet period
in which size, mtime and ctime do not change. ctime is used because a writer
cannot set it: a copied file with an old or future mtime still shows a fresh
ctime while it is being written.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, StrEnum
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from spool.fsops import Entry, lstat_entry


class Completeness(StrEnum):
    QUIET = "quiet"  #: size, mtime and ctime unchanged for ``quiet_ms``
    SIGNAL = "signal"  #: a signal file beside the data file


class CompletenessRule(Protocol):
    """What the tracker needs of a channel's settings (``store.config.Channel`` is one)."""

    @property
    def completeness(self) -> Completeness: ...
    @property
    def quiet_ms(self) -> int: ...
    def is_denied(self, name: str) -> bool: ...
    def is_signal_name(self, name: str) -> bool: ...
    def signal_names(self, name: str) -> list[str]: ...


class Verdict(Enum):
    WAIT = "wait"
    READY = "ready"
    GONE = "gone"  #: vanished (claimed by someone else, or deleted)
    IGNORE = "ignore"  #: a deny-listed name, a signal file or a folder: never data
    REFUSE = "refuse"  #: a symlink, FIFO or device: filed to error/ without being opened


@dataclass(slots=True)
class _Seen:
    size: int
    mtime_ns: int
    ctime_ns: int
    since: float  # monotonic time the current observation was first seen


R = TypeVar("R", bound=CompletenessRule)


class CompletenessTracker(Generic[R]):
    """Per-channel state of files seen but not yet claimed. Not thread-safe: one intake thread."""

    def __init__(self, channel: R, *, monotonic: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.channel = channel
        self._seen: dict[Path, _Seen] = {}
        self._monotonic = monotonic
        self._wall = wall

    def __len__(self) -> int:
        return len(self._seen)

    def pending(self) -> list[Path]:
        return list(self._seen)

    def oldest_age(self) -> float:
        if not self._seen:
            return 0.0
        now = self._monotonic()
        return max(now - s.since for s in self._seen.values())

    def classify_name(self, name: str) -> Verdict | None:
        ch = self.channel
        if ch.is_denied(name) or ch.is_signal_name(name):
            return Verdict.IGNORE
        return None

    def observe(self, path: Path, entry: Entry | None = None) -> Verdict:
        verdict = self.classify_name(path.name)
        if verdict is not None:
            self._seen.pop(path, None)
            return verdict
        entry = entry if entry is not None else lstat_entry(path)
        if entry is None:
            self._seen.pop(path, None)
            return Verdict.GONE
        if entry.kind == "dir":
            return Verdict.IGNORE
        if entry.kind != "file":
            self._seen.pop(path, None)
            return Verdict.REFUSE
        now = self._monotonic()
        seen = self._seen.get(path)
        if seen is None or (seen.size, seen.mtime_ns, seen.ctime_ns) != (entry.size, entry.mtime_ns,
                                                                         entry.ctime_ns):
            seen = _Seen(entry.size, entry.mtime_ns, entry.ctime_ns, now)
            self._seen[path] = seen
        if self.channel.completeness is Completeness.SIGNAL:
            folder = os.path.dirname(path)
            if any(os.path.exists(os.path.join(folder, s)) for s in self.channel.signal_names(path.name)):
                self._seen.pop(path, None)
                return Verdict.READY
            return Verdict.WAIT
        quiet_s = self.channel.quiet_ms / 1000.0
        still_for = now - seen.since
        ctime_age = self._wall() - entry.ctime_ns / 1e9
        # A first sighting whose ctime is already older than the quiet period means
        # nothing has touched the file for that long (present at start-up, moved in).
        if still_for >= quiet_s or ctime_age >= quiet_s:
            self._seen.pop(path, None)
            return Verdict.READY
        return Verdict.WAIT

    def wait_hint(self, path: Path) -> float:
        """Seconds until ``path`` could become ready (for the intake's sleep)."""
        seen = self._seen.get(path)
        if seen is None:
            return 0.0
        return max(0.0, self.channel.quiet_ms / 1000.0 - (self._monotonic() - seen.since))
