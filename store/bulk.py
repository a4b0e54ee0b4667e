"""Many rows in few statements, for the bulk paths of every channel.

SQLite: ``executemany`` of one prepared statement. PostgreSQL: one statement per 10,000 rows
with one array parameter per column, ``INSERT ... SELECT FROM unnest(...)`` (a multi-row
``VALUES`` has a placeholder per value, parsed again for every chunk, and the ORM's
per-object flush costs more than the database work). Where no ``RETURNING`` is needed,
:func:`copy_dicts` streams the rows with ``COPY ... FROM STDIN`` instead: psycopg writes COPY
rows in C where it builds array parameters element by element in Python, and the server
inserts COPY rows in batches (measured in ``bench/bills/load.py``); :func:`insert_keyed` draws
the new ids from the table's sequence first, so parent rows can go the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, any_, literal
from sqlalchemy.orm import QueryableAttribute, Session

#: rows per ``unnest(...)`` statement on PostgreSQL
PG_ROWS = 10_000


def array_params(session: Session, table: str, columns: Sequence[str]) -> str:
    """``CAST(%s AS type[])`` per column, the types from the table's model (a list of ``None`` or of
    naive datetimes has no array type of its own)."""
    from store.db import Base

    dialect = session.get_bind().dialect
    t = Base.metadata.tables[table]
    return ", ".join(f"CAST(%s AS {t.c[n].type.compile(dialect=dialect)}[])" for n in columns)


def insert_dicts(session: Session, table: str, rows: Sequence[dict[str, Any]],
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
    procs = _procs(session, table, columns)
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


def _procs(session: Session, table: str, columns: Sequence[str]) -> list[tuple[str, Any]]:
    from store.db import Base

    t = Base.metadata.tables[table]
    dialect = session.get_bind().dialect
    return [(c, t.c[c].type._cached_bind_processor(dialect)) for c in columns]


def copy_dicts(session: Session, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows as :func:`insert_dicts` does (same values, same transaction), without reading
    anything back; on PostgreSQL in one ``COPY ... FROM STDIN``."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        insert_dicts(session, table, rows)
        return
    procs = _procs(session, table, list(rows[0]))
    cursor = session.connection().connection.cursor()
    try:
        with cursor.copy(f"COPY {table} ({', '.join(c for c, _ in procs)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row([r[c] if p is None else p(r[c]) for c, p in procs])
    finally:
        cursor.close()


def insert_keyed(session: Session, table: str, rows: Sequence[dict[str, Any]], key: str) -> dict[Any, int]:
    """Insert rows that carry no ``id``; the new ``id`` of each row by its (unique) ``key`` value.

    PostgreSQL: the ids come from the table's sequence in one statement and the rows go in by
    :func:`copy_dicts`; elsewhere ``INSERT ... RETURNING``."""
    if not rows:
        return {}
    if session.get_bind().dialect.name != "postgresql":
        return {k: pk for k, pk in insert_dicts(session, table, rows, returning=(key, "id"))}
    ids = session.connection().exec_driver_sql(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", (table, len(rows))
    ).scalars().all()
    copy_dicts(session, table, [{**r, "id": pk} for r, pk in zip(rows, ids, strict=True)])
    return {r[key]: pk for r, pk in zip(rows, ids, strict=True)}


def among(session: Session, column: QueryableAttribute[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``= ANY(array)``: one parameter, one plan, however many
    values (an ``IN`` list of a thousand placeholders is parsed and planned again for every batch)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(list(values), ARRAY(column.type)))
    return column.in_(values)


def update_dicts(session: Session, table: str, rows: Sequence[dict[str, Any]], key: str = "id") -> None:
    """Set the columns each row names on the row whose ``key`` column matches; every row carries the
    same keys. PostgreSQL: one ``UPDATE ... FROM unnest(arrays)`` per 10,000 rows (an ``executemany``
    runs the statement once per row); elsewhere ``executemany``."""
    if not rows:
        return
    from sqlalchemy import bindparam, update

    from store.db import Base

    t = Base.metadata.tables[table]
    columns = [c for c in rows[0] if c != key]
    if session.get_bind().dialect.name != "postgresql":
        stmt = update(t).where(t.c[key] == bindparam("_key", type_=t.c[key].type)).values(
            {c: bindparam(f"_{c}", type_=t.c[c].type) for c in columns})
        session.execute(stmt, [{"_key": r[key], **{f"_{c}": r[c] for c in columns}} for r in rows])
        return
    procs = _procs(session, table, [key, *columns])
    sql = (f"UPDATE {table} SET {', '.join(f'{c} = u.{c}' for c in columns)} "
           f"FROM unnest({array_params(session, table, [key, *columns])}) AS u({key}, {', '.join(columns)}) "
           f"WHERE {table}.{key} = u.{key}")
    conn = session.connection()
    for i in range(0, len(rows), PG_ROWS):
        part = rows[i:i + PG_ROWS]
        conn.exec_driver_sql(sql, tuple([r[c] for r in part] if p is None else [p(r[c]) for r in part]
                                        for c, p in procs))
