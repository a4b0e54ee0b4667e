"""Many rows in few statements, for the bulk paths of every channel.

SQLite: ``executemany`` of one prepared statement. PostgreSQL: ``COPY`` where nothing comes
back, else one statement per 10,000 rows with one array parameter per column,
``INSERT ... SELECT FROM unnest(...)`` (a multi-row ``VALUES`` has a placeholder per value,
parsed again for every chunk, and the ORM's per-object flush costs more than the database work).

``one_of`` is ``column IN (...)`` with one parameter whatever the number of values. ``insert_rows``
and ``update_rows`` go to the driver directly on both: SQLAlchemy's own executemany builds and
binds a parameter dict per row, which costs more than SQLite's insert of that row.
``insert_keyed`` gives parent rows their ids from the sequence first, so they can go by ``COPY`` too.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import ARRAY, ColumnElement, any_, func, literal, literal_column, select

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Connection, Dialect, Select
    from sqlalchemy.types import TypeEngine

    from store.session import UnitSession

#: rows per ``unnest(...)`` statement on PostgreSQL
PG_ROWS = 10_000


def bind_processor(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """How SQLAlchemy binds a value of ``type_`` on ``dialect`` (None: as it is), for values a bulk
    path sends to the driver itself; the type's own dialect implementation, so decorators apply."""
    return type_.dialect_impl(dialect).bind_processor(dialect)


def result_processor(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """How SQLAlchemy reads a driver's value of ``type_`` on ``dialect`` (None: as it is)."""
    return type_.dialect_impl(dialect).result_processor(dialect, None)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while one chunk builds its rows (it allocates a few million small
    dicts and tuples that die by reference count; the collector's passes over them cost a sixth of a
    run). Enabled again after the chunk, so cycles made elsewhere are still collected."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@contextmanager
def page_cache(conn: Connection, mb: int) -> Iterator[None]:
    """SQLite: a page cache of ``mb`` for this connection while a bulk chunk runs, the previous size
    after (pooled connections keep the small default). A chunk touches most pages of the randomly
    keyed indexes; with SQLite's 2 MB default it reads them again and again. Bounded: memory stays
    flat in the number of rows. Other databases: nothing."""
    if conn.dialect.name != "sqlite" or mb <= 0:
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{int(mb) * 1024}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={-2000 if before is None else int(before)}")


def fetch_rows(conn: Connection, stmt: Select[*tuple[Any, ...]]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The column names and rows of a Core ``select``, as plain tuples from the driver's cursor.

    Each column's result processor (the same one SQLAlchemy applies: dates from SQLite's text,
    UTC time zones) runs once per distinct value of the batch, not per row; no ``Row`` objects.
    Reading a chunk of 10,000 wide rows costs about a third of going through the result."""
    result = conn.execute(stmt)
    keys = list(result.keys())
    cursor = result.cursor
    assert cursor is not None
    raw = cursor.fetchall()
    result.close()
    dialect = conn.dialect
    procs = [(i, p) for i, c in enumerate(stmt.selected_columns)
             if (p := result_processor(c.type, dialect)) is not None]
    if not procs or not raw:
        return keys, [tuple(r) for r in raw]
    cols = [list(c) for c in zip(*raw, strict=True)]
    for i, proc in procs:
        vals = cols[i]
        try:
            memo = {v: proc(v) for v in set(vals)}
            cols[i] = [memo[v] for v in vals]
        except TypeError:  # unhashable (JSON values)
            cols[i] = [proc(v) for v in vals]
    return keys, list(zip(*cols, strict=True))


def one_of(session: UnitSession, column: Any, values: Iterable[int | str]) -> ColumnElement[bool]:
    """``column IN values`` as one parameter: an array on PostgreSQL, a JSON array read by ``json_each``
    on SQLite. An IN list of thousands of placeholders is expanded, rendered and bound again for
    every statement, which costs more than the lookups."""
    vals = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(vals, ARRAY(column.type)))
    return column.in_(select(literal_column("value")).select_from(func.json_each(literal(json.dumps(vals)))))


def array_params(session: UnitSession, table: str, columns: Sequence[str], *, binary: bool = False) -> str:
    """``CAST(%s AS type[])`` per column, the types from the table's model (a list of ``None`` or of
    naive datetimes has no array type of its own); ``%b`` with ``binary``: psycopg dumps a list in
    binary for a fraction of the CPU of its text form."""
    from store.db import Base

    dialect = session.get_bind().dialect
    t = Base.metadata.tables[table]
    mark = "%b" if binary else "%s"
    return ", ".join(f"CAST({mark} AS {t.c[n].type.compile(dialect=dialect)}[])" for n in columns)


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
    procs = [(c, bind_processor(t.c[c].type, dialect)) for c in columns]
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


def _defaults(table: Any, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The Python-side defaults of the columns the rows leave out (what ``insert(table)`` adds)."""
    out: dict[str, Any] = {}
    for col in table.columns:
        if col.name in rows[0] or col.default is None:
            continue
        d = col.default
        if d.is_scalar:
            out[col.name] = d.arg
        elif d.is_callable:
            out[col.name] = d.arg(None)
    return out


def column_defaults(table: Any, columns: Sequence[str]) -> dict[str, Any]:
    """What :func:`insert_rows` adds to rows that carry only ``columns``."""
    return _defaults(table, [dict.fromkeys(columns)])


def _bound(session: UnitSession, table: Any, columns: Sequence[str], rows: Sequence[dict[str, Any]],
           extra: dict[str, Any] | None = None) -> list[list[Any]]:
    """Per column, the rows' values through the column type's bind processor (each distinct value once)."""
    dialect = session.get_bind().dialect
    out: list[list[Any]] = []
    for c in columns:
        vals = [extra[c]] * len(rows) if extra and c in extra else [r[c] for r in rows]
        proc = bind_processor(table.c[c].type, dialect)
        if proc is not None:
            try:
                memo = {v: proc(v) for v in set(vals)}
                vals = [memo[v] for v in vals]
            except TypeError:  # unhashable (JSON lists and dicts)
                vals = [proc(v) for v in vals]
        out.append(vals)
    return out


def insert_rows(session: UnitSession, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows given as dicts (same keys in each), with the column defaults ``insert(table)`` applies."""
    if not rows:
        return
    from store.db import Base

    t = Base.metadata.tables[table]
    extra = _defaults(t, rows)
    columns = [*rows[0], *extra]
    if session.get_bind().dialect.name == "postgresql":
        insert_dicts(session, table, [{**r, **extra} for r in rows] if extra else rows)
        return
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    session.connection().exec_driver_sql(sql, list(zip(*_bound(session, t, columns, rows, extra), strict=True)))


def update_rows(session: UnitSession, table: str, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """``UPDATE table SET <the other keys> WHERE key = row[key]`` for each row (same keys in each).

    PostgreSQL: ``UPDATE ... FROM unnest(...)`` per 10,000 rows (keys must be distinct)."""
    if not rows:
        return
    from store.db import Base

    t = Base.metadata.tables[table]
    columns = [c for c in rows[0] if c != key]
    conn = session.connection()
    if session.get_bind().dialect.name != "postgresql":
        sql = f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in columns)} WHERE {key} = ?"
        conn.exec_driver_sql(sql, list(zip(*_bound(session, t, [*columns, key], rows), strict=True)))
        return
    names = [key, *columns]
    # The keys again as ``= ANY``: without it the planner hashes the whole table to join a few
    # hundred rows (a sequential scan of every row per statement; growth with the table's size).
    sql = (f"UPDATE {table} SET {', '.join(f'{c} = v.{c}' for c in columns)} "
           f"FROM unnest({array_params(session, table, names, binary=True)}) AS v({', '.join(names)}) "
           f"WHERE {table}.{key} = v.{key} AND {table}.{key} = ANY({array_params(session, table, [key], binary=True)})")
    for i in range(0, len(rows), PG_ROWS):
        arrays = _bound(session, t, names, rows[i:i + PG_ROWS])
        conn.exec_driver_sql(sql, (*arrays, arrays[0]))


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


def insert_keyed(session: UnitSession, table: str, rows: Sequence[dict[str, Any]], key: str) -> dict[Any, int]:
    """Insert rows that carry no ``id``; the new ``id`` of each row by its (unique) ``key`` value.

    PostgreSQL: the ids come from the table's sequence in one statement and the rows go in as
    :func:`insert_dicts` puts them (``COPY``); elsewhere ``INSERT ... RETURNING``."""
    if not rows:
        return {}
    if session.get_bind().dialect.name != "postgresql":
        return {k: pk for k, pk in insert_dicts(session, table, rows, returning=(key, "id"))}
    ids = session.connection().exec_driver_sql(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", (table, len(rows))
    ).scalars().all()
    insert_dicts(session, table, [{**r, "id": pk} for r, pk in zip(rows, ids, strict=True)])
    return {r[key]: pk for r, pk in zip(rows, ids, strict=True)}
