"""Payees, named counters and payment_log reports: the small shared pieces of the ACH channel."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence as Sequence_
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from handlers.ach.settings import AchSettings, PayeeSettings
from store.bulk import bind_processor, can_copy, copy_rows
from store.config import Settings
from store.models.ach import PaymentCounter, PaymentPayee
from store.session import UnitSession


@dataclass(frozen=True)
class Payee:
    payee_id: int
    name: str
    settings: PayeeSettings


class PayeeError(Exception):
    """A payee is unknown or its settings are invalid."""


def ach_settings(settings: Settings) -> AchSettings:
    from handlers.registry import section

    value: AchSettings = section(settings, "ach")
    return value


def load_payees(session: UnitSession, settings: Settings) -> dict[str, Payee]:
    """Every payee, table settings merged with ``[ach.payees.NAME]`` overrides."""
    from pydantic import ValidationError

    overrides = ach_settings(settings).payees
    out: dict[str, Payee] = {}
    for row in session.scalars(select(PaymentPayee).order_by(PaymentPayee.payee_id)):
        data = {**(row.settings or {}), "gateway": row.gateway, **overrides.get(row.name, {})}
        try:
            out[row.name] = Payee(row.payee_id, row.name, PayeeSettings.model_validate(data))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise PayeeError(f"payee {row.name}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    unknown = sorted(set(overrides) - set(out))
    if unknown:
        raise PayeeError(f"[ach.payees] names unknown payee(s): {', '.join(unknown)}")
    return out


class Sequence:
    """A payment_counters row used as a sequence inside the caller's transaction.

    The row is locked (``FOR UPDATE``) on first use and written back by :meth:`save`,
    so numbers handed out in a transaction that rolls back are given back.
    """

    def __init__(self, session: UnitSession, name: str, *, min_value: int = 1, max_value: int = 9_999_999) -> None:
        self.session = session
        self.name = name
        row = session.get(PaymentCounter, name, with_for_update=True)
        if row is None:
            row = PaymentCounter(counter_name=name, counter_value=min_value - 1, seed=min_value, incremental=1,
                                 min_value=min_value, max_value=max_value)
            session.add(row)
            session.flush()
        self.row = row
        self.value = row.counter_value
        self.used = 0

    def __call__(self) -> int:
        v = self.value + self.row.incremental
        if v > self.row.max_value or v < self.row.min_value:
            v = self.row.min_value
        self.value = v
        self.used += 1
        return v

    def save(self) -> None:
        self.row.counter_value = self.value


def next_value(session: UnitSession, name: str, **kw: Any) -> int:
    seq = Sequence(session, name, **kw)
    v = seq()
    seq.save()
    return v


def new_log_id(session: UnitSession) -> int:
    return next_value(session, "payment_log", max_value=10**18)


#: file ID modifiers A-Z then 0-9 (NACHA)
MODIFIERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def file_id_modifier(session: UnitSession, key: str) -> str:
    """Per destination/origin and day: the first file is A, the next B, ..."""
    return MODIFIERS[(next_value(session, f"fidmod:{key}"[:40], max_value=len(MODIFIERS)) - 1)]


def write_log(session: UnitSession, log_id: int, rows: Iterable[tuple[str, object]]) -> int:
    """A report: name/value rows in order (batch_index keeps the order)."""
    values = [(log_id, name[:80], None if v is None else str(v)[:512], i) for i, (name, v) in enumerate(rows)]
    bulk_insert(session, "payment_log", ("log_id", "param_name", "param_value", "batch_index"), values)
    return len(values)


def _sql(session: UnitSession, sql: str) -> str:
    return sql if session.get_bind().dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def driver_many(session: UnitSession, sql: str, rows: Sequence_[tuple[Any, ...]]) -> None:
    """``executemany`` at the driver for hot bulk paths (qmark SQL; SQLAlchemy's per-row parameter
    processing costs more than the database work there). Values must already be in database form
    (see :func:`db_value`)."""
    if rows:
        session.connection().exec_driver_sql(_sql(session, sql), list(rows))


#: rows per ``unnest(...)`` statement on PostgreSQL
PG_ROWS = 10_000


def _is_sqlite(session: UnitSession) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def bulk_insert(session: UnitSession, table: str, columns: Sequence_[str], rows: Sequence_[tuple[Any, ...]]) -> None:
    """Insert many rows: ``executemany`` on SQLite; ``COPY`` on PostgreSQL (no statement to
    parse, no arrays to build and unpack: half the CPU of ``INSERT ... SELECT FROM unnest``
    for the report rows of a return file), else (statements observed: :func:`store.bulk.can_copy`)
    one ``INSERT ... SELECT FROM unnest(arrays)`` per 10,000 rows. Values must already be in
    database form."""
    if not rows:
        return
    if _is_sqlite(session):
        one = f"({', '.join('?' * len(columns))})"
        driver_many(session, f"INSERT INTO {table} ({', '.join(columns)}) VALUES {one}", rows)
        return
    if can_copy(session):
        copy_rows(session, table, columns, rows)
        return
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({_arrays(session, table, columns)})"
    conn = session.connection()
    for i in range(0, len(rows), PG_ROWS):
        conn.exec_driver_sql(sql, tuple(list(col) for col in zip(*rows[i:i + PG_ROWS], strict=True)))


def _types(session: UnitSession, table: str, columns: Sequence_[str]) -> list[str]:
    from store.db import Base

    dialect = session.get_bind().dialect
    t = Base.metadata.tables[table]
    return [t.c[n].type.compile(dialect=dialect) for n in columns]


def _arrays(session: UnitSession, table: str, columns: Sequence_[str]) -> str:
    """``CAST(%b AS type[])`` per column, the types from the table's model (a list of ``None`` or of
    naive datetimes has no array type of its own). Binary (``%b``): psycopg dumps a list in binary
    at half the CPU of the text form, and the server reads it without parsing."""
    return ", ".join(f"CAST(%b AS {t}[])" for t in _types(session, table, columns))


def key_filter(session: UnitSession, column: str, keys: Sequence_[Any]) -> tuple[str, tuple[Any, ...]]:
    """``column`` matches one of ``keys``: an ``IN`` list on SQLite, ``= ANY(array)`` on PostgreSQL
    (one parameter: the statement text is the same for every chunk, so it is parsed and planned
    once and prepared by the driver, where 2,000 placeholders cost a parse per chunk; sent in
    binary, see :func:`_arrays`)."""
    if _is_sqlite(session):
        return f"{column} IN ({', '.join('?' * len(keys))})", tuple(keys)
    return f"{column} = ANY(%b)", (list(keys),)


def _same(values: Sequence_[Any]) -> bool:
    first = values[0]
    return all(v is first or (type(v) is type(first) and v == first) for v in values)


def bulk_update(session: UnitSession, table: str, key: str, columns: Sequence_[str],
                rows: Sequence_[tuple[Any, ...]]) -> None:
    """Update many rows by ``key``; each row is ``(key value, *column values)``, a key given twice
    takes its last values. SQLite: one prepared statement, ``executemany``. PostgreSQL: per 10,000
    rows one statement of a parameter per column, not per value: a column with one value in
    every row is one scalar, the others arrays joined by ``UPDATE ... FROM unnest(arrays)``; when
    every column is a scalar (a return code's status updates) a plain ``UPDATE ... WHERE key =
    ANY(keys)``: no arrays to build and expand, no join (about a third less CPU, both sides)."""
    if not rows:
        return
    if _is_sqlite(session):
        sets = ", ".join(f"{c} = ?" for c in columns)
        driver_many(session, f"UPDATE {table} SET {sets} WHERE {key} = ?", [(*r[1:], r[0]) for r in rows])
        return
    names = (key, *columns)
    types = dict(zip(names, _types(session, table, names), strict=True))
    last = list({r[0]: r for r in rows}.values())
    conn = session.connection()
    for i in range(0, len(last), PG_ROWS):
        part = last[i:i + PG_ROWS]
        cols = dict(zip(names, ([*col] for col in zip(*part, strict=True)), strict=True))
        scalars = [c for c in columns if _same(cols[c])]
        arrays = [c for c in columns if c not in scalars]
        sets = ", ".join(f"{c} = CAST(%s AS {types[c]})" if c in scalars else f"{c} = v.{c}" for c in columns)
        params = [cols[c][0] for c in columns if c in scalars]
        keys = f"CAST(%b AS {types[key]}[])"
        if not arrays:
            conn.exec_driver_sql(f"UPDATE {table} SET {sets} WHERE {key} = ANY({keys})", (*params, cols[key]))
            continue
        # The key list again as ``= ANY``: without it the planner joins the array against a sequential
        # scan of the whole table (a hash join: the array's rows are many); with it, an index scan.
        v = (key, *arrays)
        conn.exec_driver_sql(f"UPDATE {table} AS t SET {sets} FROM unnest({_arrays(session, table, v)}) "
                             f"AS v({', '.join(v)}) WHERE t.{key} = v.{key} AND t.{key} = ANY({keys})",
                             (*params, *(cols[c] for c in v), cols[key]))


def driver_rows(session: UnitSession, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in session.connection().exec_driver_sql(_sql(session, sql), params)]


def db_value(session: UnitSession, column: Any, value: Any) -> Any:
    """``value`` as the column's type would bind it (e.g. UTC datetimes stored naive)."""
    proc = bind_processor(column.type, session.get_bind().dialect)
    return proc(value) if proc is not None else value


def cents(amount: int) -> str:
    sign = "-" if amount < 0 else ""
    a = abs(amount)
    return f"{sign}{a // 100}.{a % 100:02d}"
