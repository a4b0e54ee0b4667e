"""Where a bench run spends its PostgreSQL time, per statement text: wall time at the client and
CPU time of the server backend that ran it (read from ``/proc``: a local server only).

psycopg's cursor methods are wrapped for the duration of :func:`tally`, so ``COPY`` and statements
sent past SQLAlchemy are counted too; reading ``/proc`` twice per statement costs ~20 µs, noise
against statements of milliseconds.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Stat:
    calls: int = 0
    wall: float = 0.0
    server: float = 0.0


@dataclass
class Tally:
    stats: dict[str, Stat] = field(default_factory=dict)

    def add(self, sql: str, wall: float, server: float) -> None:
        s = self.stats.setdefault(_shape(sql), Stat())
        s.calls += 1
        s.wall += wall
        s.server += server

    def report(self, title: str, top: int = 8) -> str:
        rows = sorted(self.stats.items(), key=lambda kv: -kv[1].wall)
        wall, server = sum(s.wall for s in self.stats.values()), sum(s.server for s in self.stats.values())
        lines = [f"  {title}: {sum(s.calls for s in self.stats.values())} statements, {wall:.2f}s wall, "
                 f"{server:.2f}s server CPU"]
        lines += [f"    {s.calls:5d} x {s.wall:7.2f}s wall {s.server:6.2f}s server  {sql[:110]}"
                  for sql, s in rows[:top]]
        return "\n".join(lines)


def _shape(sql: Any) -> str:
    text = sql if isinstance(sql, str) else str(getattr(sql, "as_string", lambda _c=None: sql)(None))
    return re.sub(r"\s+", " ", re.sub(r"(%s|\?)(, (%s|\?))+", "%s...", text)).strip()


def backend_cpu(pid: int) -> float:
    """CPU seconds so far of the local process ``pid`` (a PostgreSQL backend); 0 where unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


@contextmanager
def tally() -> Iterator[Tally]:
    """Count every statement, ``COPY`` and commit run through psycopg while the block runs."""
    out = Tally()
    cls = psycopg.Cursor
    execute, executemany, copy = cls.execute, cls.executemany, cls.copy

    def timed(fn: Any) -> Any:
        def wrapper(self: Any, query: Any, *args: Any, **kw: Any) -> Any:
            pid = self.connection.info.backend_pid
            t, c = time.perf_counter(), backend_cpu(pid)
            try:
                return fn(self, query, *args, **kw)
            finally:
                out.add(query, time.perf_counter() - t, backend_cpu(pid) - c)
        return wrapper

    @contextmanager
    def timed_copy(self: Any, statement: Any, *args: Any, **kw: Any) -> Iterator[Any]:
        pid = self.connection.info.backend_pid
        t, c = time.perf_counter(), backend_cpu(pid)
        try:
            with copy(self, statement, *args, **kw) as cp:
                yield cp
        finally:
            out.add(statement, time.perf_counter() - t, backend_cpu(pid) - c)

    def timed_commit(self: Any) -> None:
        pid = self.info.backend_pid
        t, c = time.perf_counter(), backend_cpu(pid)
        try:
            commit(self)
        finally:
            out.add("COMMIT", time.perf_counter() - t, backend_cpu(pid) - c)

    conn = psycopg.Connection
    commit = conn.commit
    cls.execute, cls.executemany, cls.copy = timed(execute), timed(executemany), timed_copy  # type: ignore[method-assign]
    conn.commit = timed_commit  # type: ignore[method-assign]
    try:
        yield out
    finally:
        cls.execute, cls.executemany, cls.copy = execute, executemany, copy  # type: ignore[method-assign]
        conn.commit = commit  # type: ignore[method-assign]
