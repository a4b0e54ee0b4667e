"""Many rows in few statements, for the bulk paths of every channel.

SQLite: ``executemany`` of one prepared statement. PostgreSQL: ``COPY`` where nothing comes
back, else one statement per 10,000 rows with one array parameter per column,
``INSERT ... SELECT FROM unnest(...)`` (a multi-row ``VALUES`` has a placeholder per value,
parsed again for every chunk, and the ORM's per-object flush costs more than the database work).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from store.unit import UnitSession


#: rows per ``unnest(...)`` statement on PostgreSQL
PG_ROWS = 10_000


def array_params(session: UnitSession, table: str, columns: Sequence[str]) -> str:
    """``CAST(%s AS type[])`` per column, the types from the table's model (a list of ``None`` or of
    naive datetimes has no array type of its own)."""
    from store.db import Base

    dialect = session.get_bind().dialect
    t = Base.metadata.tables[table]
    return ", ".join(f"CAST(%s AS {t.c[n].type.compile(dialect=dialect)}[])" for n in columns)


def insert_dicts(session: UnitSession, table: str, rows: Sequence[dict[str, Any]],
                 returning: Sequence[str] = ()) -> list[tuple[Any, ...]]:
    """Insert rows given as dicts of Python values (bound through each column's type, e.g. aware
    datetimes stored as naive UTC); every row must carry the same keys. With ``returning``, the
    named columns of the inserted rows (in no particular order)."""
    if not rows:
        return []
    from sqlalchemy import insert

    from store.db import Base

    t = Base.metadata.tables[table]
    if session.get_bind().dialect.name != "postgresql":
        if returning:
            return [tuple(r) for r in session.execute(insert(t).returning(*(t.c[c] for c in returning)),
                                                      list(rows))]
        session.execute(insert(t), list(rows))
        return []
    columns = list(rows[0])
    dialect = session.get_bind().dialect
    procs = [(c, t.c[c].type._cached_bind_processor(dialect)) for c in columns]
    if not returning and can_copy(session):
        copy_rows(session, table, columns, [tuple(r[c] if p is None else p(r[c]) for c, p in procs) for r in rows])
        return []
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({array_params(session, table, columns)})"
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    conn = session.connection()
    out: list[tuple[Any, ...]] = []
    for i in range(0, len(rows), PG_ROWS):
        part = rows[i:i + PG_ROWS]
        result = conn.exec_driver_sql(sql, tuple([r[c] for r in part] if p is None else [p(r[c]) for r in part]
                                                 for c, p in procs))
        if returning:
            out.extend(tuple(r) for r in result)
    return out


def can_copy(session: UnitSession) -> bool:
    """PostgreSQL, and nothing listens to the statements: ``COPY`` goes past SQLAlchemy's cursor
    events, so where they are observed (the dry run counts the rows each statement changes
    through them) the rows go in by statements."""
    conn = session.connection()
    return conn.dialect.name == "postgresql" and not conn.dispatch.after_cursor_execute


def copy_rows(session: UnitSession, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """PostgreSQL ``COPY table (columns) FROM STDIN`` of rows in database form, on the session's
    connection (so in its transaction): no statement to parse and no arrays to build and unpack,
    half the CPU of ``INSERT ... SELECT FROM unnest`` on both sides."""
    if not rows:
        return
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for r in rows:
            copy.write_row(r)
