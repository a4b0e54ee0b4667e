"""Primary keys for bulk inserts, reserved up front so rows go in with one executemany.

RETURNING with guaranteed order makes SQLite insert row by row; reserving the
ids first keeps a million-row insert a few statements. SQLite writers hold the
database lock (BEGIN IMMEDIATE) for the whole transaction, so max+1 is ours;
PostgreSQL draws from the column's sequence.
"""

from __future__ import annotations

from sqlalchemy import text

from store.session import UnitSession


def reserve_ids(s: UnitSession, table: str, column: str, n: int) -> list[int]:
    """``n`` fresh ids of ``table.column`` (names from code, never from input)."""
    if n <= 0:
        return []
    if s.get_bind().dialect.name == "postgresql":
        seq = text("SELECT nextval(pg_get_serial_sequence(:t, :c)) FROM generate_series(1, :n)")
        return [int(i) for i in s.scalars(seq, {"t": table, "c": column, "n": n})]
    top = top_id(s, table, column)
    return list(range(top + 1, top + n + 1))


def top_id(s: UnitSession, table: str, column: str) -> int:
    """SQLite: the highest id so far; the next ids are ours while the transaction holds the lock."""
    return int(s.scalar(text(f"SELECT COALESCE(MAX({column}), 0) FROM {table}")) or 0)
