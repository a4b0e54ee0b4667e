"""store.behind on both databases: the writes run behind the caller, in the caller's transaction."""

from __future__ import annotations

import contextvars
import functools
import threading

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from store.behind import WriteBehind
from store.bulk import insert_dicts
from store.db import Database
from store.models.bills import Bill
from tests.store.test_bulk import bill

WHO = contextvars.ContextVar("who", default="nobody")


def count(db: Database) -> int:
    with db.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(Bill)) or 0)


def test_writes_run_behind_on_postgresql_and_here_on_sqlite(db_url: str) -> None:
    db = Database(db_url)
    seen: list[tuple[int, str]] = []
    try:
        with db.transaction() as s, WriteBehind.on(s) as behind:
            WHO.set("file 7")

            def writes(n: int) -> None:
                seen.append((threading.get_ident(), WHO.get()))
                insert_dicts(s, "bills", [bill(n)])

            for n in range(1, 4):
                behind.submit(functools.partial(writes, n))
            behind.wait()
            assert s.scalar(select(func.count()).select_from(Bill)) == 3  # the caller sees its writes
        assert count(db) == 3
        assert [who for _, who in seen] == ["file 7"] * 3  # the caller's context goes with the writes
        here = threading.get_ident()
        if db.engine.dialect.name == "postgresql":
            assert behind.enabled and all(t != here for t, _ in seen)
        else:
            assert not behind.enabled and all(t == here for t, _ in seen)
    finally:
        db.dispose()


def test_writes_behind_roll_back_with_the_unit(db_url: str) -> None:
    db = Database(db_url)
    try:
        with pytest.raises(RuntimeError, match="later chunk"), db.transaction() as s, \
                WriteBehind(enabled=True) as behind:
            behind.submit(lambda: insert_dicts(s, "bills", [bill(n) for n in range(1, 50)]))
            raise RuntimeError("a later chunk is invalid")
        assert count(db) == 0
        with db.transaction() as s:  # the connection went back to the pool usable
            insert_dicts(s, "bills", [bill(1)])
        assert count(db) == 1
    finally:
        db.dispose()


def test_an_error_in_the_writes_is_the_callers_error_at_the_next_wait(db_url: str) -> None:
    db = Database(db_url)
    done = threading.Event()
    try:
        with pytest.raises(IntegrityError), db.transaction() as s, WriteBehind(enabled=True) as behind:
            behind.submit(lambda: s.execute(insert(Bill), [bill(1), bill(1)]))  # the same bill_id twice
            done.set()
            behind.wait()
            pytest.fail("wait() returned after a failed write")
        assert done.is_set() and count(db) == 0
    finally:
        db.dispose()


def test_the_block_waits_for_writes_in_flight_before_the_callers_error_leaves_it(db_url: str) -> None:
    db = Database(db_url)
    finished = threading.Event()
    release = threading.Event()

    def slow() -> None:
        assert release.wait(60)
        insert_dicts(s, "bills", [bill(1)])
        finished.set()

    try:
        with pytest.raises(KeyError), db.transaction() as s, WriteBehind(enabled=True) as behind:
            behind.submit(slow)
            release.set()
            raise KeyError("caller fails while the writes run")
        assert finished.is_set()  # the unit rolled back only after the writes were done
        assert count(db) == 0
    finally:
        db.dispose()
