"""Write-behind: a chunk's write statements run in a helper thread while the caller reads on.

On PostgreSQL the server works in its own process: a handler that parses chunk N+1 while the
server applies chunk N's writes uses both cores instead of taking turns with the server. The
statements are the same, on the same connection, in the same transaction and in the same order;
only one thread uses the connection at a time: ``submit`` and ``wait`` hand it over, so a caller
must ``wait`` before its next statement. An error in the writes is raised by the next ``wait``
(or ``submit``), so the handler fails as if it had run them itself and the unit rolls back.

On SQLite the writes run in the caller's thread: the engine works in this process and under the
same lock, so there is nothing to overlap with.
"""

from __future__ import annotations

import contextlib
import contextvars
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from collections.abc import Callable

    from store.session import UnitSession


class WriteBehind:
    """At most one batch of writes in flight; use as a context manager so none outlives the unit."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[object] | None = None

    @classmethod
    def on(cls, session: UnitSession) -> WriteBehind:
        """Enabled on PostgreSQL."""
        return cls(enabled=session.get_bind().dialect.name == "postgresql")

    def submit(self, writes: Callable[[], object]) -> None:
        """Run ``writes`` (after the previous batch): in the helper thread, or here when disabled.

        ``writes`` must not read state the caller changes afterwards: build its values first."""
        self.wait()
        if not self.enabled:
            writes()
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="write-behind")
        # the caller's context (the file being processed, for log lines) goes with the writes
        self._pending = self._pool.submit(contextvars.copy_context().run, writes)

    def wait(self) -> None:
        """Until the writes in flight are done; their error, if any, is raised here."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is None:
            self.close()
            return
        # the caller's error wins; the writes still finish before the unit may roll back
        with contextlib.suppress(Exception):
            self.close()
