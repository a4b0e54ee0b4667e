"""The workers' queue and the workers.

Intake puts ready inbox entries here; an entry stays *in flight* from ``put`` until a worker has
claimed (or refused) it and calls ``release``, so a rescan never queues the same path twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError

from daemon.pipeline import Transient
from daemon.threads import Crew, ServiceThread
from store.db import DatabaseUnavailable, describe

log = logging.getLogger("spoolgate.daemon")

#: an inbox entry from intake: ``("claim" | "refuse", channel, path)``
Entry = tuple[str, str, Path]


class WorkQueue:
    """Claimed files first, then intake's ready files in arrival order.

    A worker takes either one claimed file or a run of ready files of one channel
    to claim together; claimed files go to the front so any idle worker picks them
    up before more are claimed.
    """

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._files: deque[int] = deque()
        self._items: deque[Entry] = deque()
        #: by the path's text: intake asks once per event and per scanned entry, and a ``Path`` built
        #: and hashed for each of those cost intake more than the rest of its check
        self._in_flight: dict[str, float] = {}

    def put(self, item: Entry) -> None:
        """A ready (``claim``) or refused (``refuse``) inbox entry from intake; in flight until released."""
        with self._cv:
            self._in_flight[str(item[2])] = time.monotonic()
            self._items.append(item)
            self._cv.notify()

    def put_many(self, items: list[Entry]) -> None:
        """Entries found in one pass, queued at once: a worker waking on the first finds them all, so
        ready files of one channel are claimed (and decided) together."""
        if not items:
            return
        with self._cv:
            now = time.monotonic()
            for item in items:
                self._in_flight[str(item[2])] = now
            self._items.extend(items)
            self._cv.notify(len(items))

    def put_files(self, ids: list[int]) -> None:
        with self._cv:
            self._files.extend(ids)
            self._cv.notify(len(ids))

    def get(self, timeout: float, batch: int = 1, files: int = 1) -> list[tuple[Any, ...]]:
        """Up to ``files`` claimed files, else up to ``batch`` ready entries of one channel."""
        with self._cv:
            if not self._files and not self._items:
                self._cv.wait(timeout)
            if self._files:
                return [("file", self._files.popleft()) for _ in range(min(files, len(self._files)))]
            if not self._items:
                return []
            first = self._items.popleft()
            got: list[tuple[Any, ...]] = [first]
            if first[0] == "claim":
                while (len(got) < batch and self._items and self._items[0][0] == "claim"
                       and self._items[0][1] == first[1]):
                    got.append(self._items.popleft())
            return got

    def release(self, path: Path) -> None:
        """The entry at ``path`` is dealt with (claimed, refused or failed): intake may see it again."""
        with self._cv:
            self._in_flight.pop(str(path), None)

    def in_flight(self, path: str | Path) -> bool:
        with self._cv:
            return str(path) in self._in_flight

    def oldest_in_flight_s(self) -> float:
        now = time.monotonic()
        with self._cv:
            return max((now - t for t in self._in_flight.values()), default=0.0)

    def take_files(self) -> list[int]:
        """Claimed files nobody started (at shutdown)."""
        with self._cv:
            ids = list(self._files)
            self._files.clear()
            return ids

    def qsize(self) -> int:
        with self._cv:
            return len(self._files) + len(self._items)


class Worker(ServiceThread):
    """Takes work from the queue and hands it to ``handle``; a failure costs that item only."""

    def __init__(self, name: str, crew: Crew, work: WorkQueue, *, handle: Callable[[list[tuple[Any, ...]]], None],
                 batch: Callable[[], int], on_problem: Callable[[str], None],
                 files: Callable[[], int] = lambda: 1) -> None:
        super().__init__(name, crew)
        self.work = work
        self.handle = handle
        self.batch = batch
        self.files = files
        self.on_problem = on_problem

    def loop(self) -> None:
        while not self.stopped.is_set():
            self.beat()
            items = self.work.get(timeout=0.25, batch=self.batch(), files=self.files())
            if not items:
                continue
            try:
                self.handle(items)
            except Transient:
                pass
            except (OSError, DBAPIError, DatabaseUnavailable) as exc:  # the environment, not a bug: one line
                log.error("worker %s: %s", self.name, describe(exc))
                self.on_problem("worker")
            except Exception:
                log.exception("worker %s: unexpected error on %s", self.name, items)
            finally:
                self.beat()
