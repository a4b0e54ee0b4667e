"""What the EXPLAIN scripts of the benches share: a scratch PostgreSQL database with the schema, and
a plan printed with its time and the machine's load."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from daemon import migrate
from store.db import make_engine


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A fresh database at ``$SPOOLGATE_BENCH_PG``'s server, migrated; dropped afterwards."""
    admin = os.environ.get("SPOOLGATE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = f"{admin.rpartition('/')[0]}/{name}"
    try:
        engine = make_engine(url, pool=False)
        migrate.upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def explain(cur: psycopg.Cursor[Any], title: str, sql: str, params: Any, width: int = 200) -> None:
    t = time.perf_counter()
    cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
    plan = [r[0] for r in cur.fetchall()]
    print(f"\n-- {title} ({time.perf_counter() - t:.3f} s with EXPLAIN; load {os.getloadavg()[0]:.1f})")
    for line in plan:
        print("   " + (line if len(line) <= width else line[:width] + "..."))
