"""store.bulk on both databases: COPY (PostgreSQL) and statements write the same rows in the caller's transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import delete, select

from store.bulk import insert_dicts, insert_keyed, page_cache, update_rows
from store.db import Database
from store.models.bills import Bill, BillLineItem

NOW = dt.datetime(2024, 3, 1, 13, 30, 15, 250000, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def bill(n: int, **over: Any) -> dict[str, Any]:
    return {"bill_id": f"B{n}", "account_number": f"ACC-{n}", "user_id": None if n % 2 else f"u{n}",
            "payer_name": f"Payer \\ {n}\ttab", "document_date": dt.date(2024, 1, 31), "due_date": dt.date(2024, 2, 15),
            "amount_due": -n, "minimum_amount_due": 0, "currency": "USD", "pdf_ref": None, "status": "LOADED",
            "file_id": 7, "loaded_at": NOW, "line_count": 1, "data": b"\x00\x01\\x" if n % 3 else None,
            "data_encoding": None, "notified_run": None, **over}


def rows(db: Database) -> list[tuple[Any, ...]]:
    with db.transaction() as s:
        return [tuple(r) for r in s.execute(select(Bill.bill_id, Bill.account_number, Bill.user_id, Bill.payer_name,
                                                   Bill.document_date, Bill.amount_due, Bill.pdf_ref, Bill.loaded_at,
                                                   Bill.data).order_by(Bill.bill_id))]


def test_insert_dicts_writes_what_returning_inserts_write(db_url: str) -> None:
    """Without ``returning`` PostgreSQL takes ``COPY``; with it ``INSERT ... SELECT FROM unnest``."""
    db = Database(db_url)
    try:
        with db.transaction() as s:
            insert_dicts(s, "bills", [bill(n) for n in range(1, 6)], returning=("id",))
        inserted = rows(db)
        with db.transaction() as s:
            s.execute(delete(Bill))
            insert_dicts(s, "bills", [bill(n) for n in range(1, 6)])
            insert_dicts(s, "bills", [])
        assert rows(db) == inserted
        assert inserted[0][7] == dt.datetime(2024, 3, 1, 11, 30, 15, 250000, tzinfo=dt.UTC)
        assert inserted[0][3] == "Payer \\ 1\ttab" and inserted[0][8] == b"\x00\x01\\x"
    finally:
        db.dispose()


def test_insert_dicts_is_part_of_the_callers_transaction(db_url: str) -> None:
    db = Database(db_url)
    try:
        with pytest.raises(RuntimeError), db.transaction() as s:
            insert_dicts(s, "bills", [bill(1)])
            assert s.scalar(select(Bill.bill_id)) == "B1"
            raise RuntimeError("roll back")
        assert rows(db) == []
    finally:
        db.dispose()


def test_insert_keyed_gives_each_row_its_new_id(db_url: str) -> None:
    db = Database(db_url)
    try:
        with db.transaction() as s:
            first = insert_keyed(s, "bills", [bill(n) for n in range(1, 4)], "bill_id")
            second = insert_keyed(s, "bills", [bill(n) for n in range(4, 6)], "bill_id")
            assert insert_keyed(s, "bills", [], "bill_id") == {}
            insert_dicts(s, "bill_line_items", [{"bill_pk": pk, "position": 1, "description": bid, "amount": 5,
                                               "code": None} for bid, pk in {**first, **second}.items()])
        with db.transaction() as s:
            stored = dict(s.execute(select(Bill.bill_id, Bill.id)).all())
            items = dict(s.execute(select(BillLineItem.description, BillLineItem.bill_pk)).all())
        assert {**first, **second} == stored == items
        assert len(set(stored.values())) == 5
    finally:
        db.dispose()


def test_update_rows_sets_the_named_columns_of_the_keyed_rows(db_url: str) -> None:
    db = Database(db_url)
    try:
        with db.transaction() as s:
            insert_dicts(s, "bills", [bill(n) for n in range(1, 4)])
            ids = dict(s.execute(select(Bill.bill_id, Bill.id)).all())
            later = NOW + dt.timedelta(days=1)
            update_rows(s, "bills", "id", [
                {"id": ids["B1"], "payer_name": "New \\ name", "loaded_at": later, "pdf_ref": "x"},
                {"id": ids["B3"], "payer_name": "Other", "loaded_at": NOW, "pdf_ref": None}])
            update_rows(s, "bills", "id", [])
        utc = dt.datetime(2024, 3, 1, 11, 30, 15, 250000, tzinfo=dt.UTC)
        got = {r[0]: (r[3], r[6], r[7]) for r in rows(db)}
        assert got == {"B1": ("New \\ name", "x", utc + dt.timedelta(days=1)), "B2": ("Payer \\ 2\ttab", None, utc),
                       "B3": ("Other", None, utc)}
    finally:
        db.dispose()


def test_fetch_rows_reads_what_the_result_reads(db_url: str) -> None:
    """Dates, UTC datetimes, NULLs, bytes and JSON come back as the Core result gives them."""
    from store.bulk import fetch_rows
    from store.models.core import Notification

    db = Database(db_url)
    try:
        with db.transaction() as s:
            insert_dicts(s, "bills", [bill(n) for n in range(1, 6)])
            s.add(Notification(lane="bulk", kind="k", recipients=["a@example.test"], subject="s", body="b",
                               state="pending", attempts=0, created_at=NOW, ref="r"))
        with db.transaction() as s:
            conn = s.connection()
            for stmt in (select(Bill.__table__).order_by(Bill.bill_id),
                         select(Bill.bill_id, Bill.due_date, Bill.loaded_at).where(Bill.bill_id == "none"),
                         select(Notification.__table__)):
                keys, got = fetch_rows(conn, stmt)
                result = conn.execute(stmt)
                assert keys == list(result.keys())
                assert got == [tuple(r) for r in result]
            assert got[0][keys.index("recipients")] == ["a@example.test"]
    finally:
        db.dispose()


def test_page_cache_holds_for_the_chunk_and_is_given_back(db_url: str) -> None:
    """SQLite: the larger cache while the block runs, the connection's own size after (also after an error);
    PostgreSQL: nothing to set."""
    db = Database(db_url)
    try:
        with db.transaction() as s:
            conn = s.connection()
            sqlite = conn.dialect.name == "sqlite"
            before = conn.exec_driver_sql("PRAGMA cache_size").scalar() if sqlite else None
            with page_cache(conn, 64):
                if sqlite:
                    assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -65536
            with pytest.raises(RuntimeError), page_cache(conn, 8):
                raise RuntimeError("the chunk failed")
            if sqlite:
                assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == before
    finally:
        db.dispose()
