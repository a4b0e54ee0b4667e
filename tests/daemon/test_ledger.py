"""Leases of in-flight files: renewal, release, takeover."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, NoResultFound

from daemon.pipeline import Pipeline
from store.models.core import SpoolFile
from tests.support import drop


def test_lease_renewal_extends_and_skips_rows_a_worker_holds(env):
    import datetime as dt
    import threading
    import time

    from sqlalchemy import text

    settings, db, _ = env()
    t0 = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
    clock = [t0]
    pipe = Pipeline(settings, db, clock=lambda: clock[0])
    drop(settings, "l.txt", b"x\n")
    fid = pipe.claim("drop", settings.channels["drop"].inbox / "l.txt")
    assert fid in pipe.inflight
    clock[0] = t0 + dt.timedelta(seconds=100)
    pipe.renew_leases()
    with db.transaction() as s:
        assert s.get(SpoolFile, fid).lease_until == clock[0] + dt.timedelta(seconds=settings.lease_s)
    if db.is_sqlite:
        return  # one daemon per SQLite spool: no row locks, leases are renewed only on PostgreSQL
    locked, release = threading.Event(), threading.Event()

    def worker_holds_row() -> None:
        with db.engine.connect() as conn, conn.begin():
            conn.execute(text("SELECT id FROM spool_files WHERE id = :i FOR UPDATE"), {"i": fid})
            locked.set()
            release.wait(10)

    t = threading.Thread(target=worker_holds_row)
    t.start()
    locked.wait(10)
    clock[0] = t0 + dt.timedelta(seconds=200)
    started = time.monotonic()
    pipe.renew_leases()  # must not wait for the worker's transaction
    assert time.monotonic() - started < 2
    release.set()
    t.join()
    with db.transaction() as s:
        assert s.get(SpoolFile, fid).lease_until == t0 + dt.timedelta(seconds=100 + settings.lease_s)


def test_release_never_touches_a_file_another_daemon_holds(env):
    settings, db, pipe = env()
    drop(settings, "h.txt", b"h\n")
    fid = pipe.claim("drop", settings.channels["drop"].inbox / "h.txt")
    Pipeline(settings, db, identity="other:2:y").release([fid])
    with db.transaction() as s:
        row = s.get(SpoolFile, fid)
        assert (row.owner, row.attempts) == (pipe.identity, 1)


def test_locking_select_is_planned_for_the_ledger_as_it_is(env):
    """PostgreSQL: the per-file SELECT is never a prepared statement, whose plan would stay the one
    made for a small ledger (a scan of the channel per file), however often a worker runs it."""
    from sqlalchemy import text

    from daemon.ledger import SELECT_ROW

    settings, db, pipe = env()
    drop(settings, "p.txt", b"p\n")
    fid = pipe.claim("drop", settings.channels["drop"].inbox / "p.txt")
    with db.engine.connect() as conn:
        # both databases: the option reaches the driver without changing what the statement returns
        for _ in range(10):
            assert conn.execute(SELECT_ROW, {"fid": fid}).one().id == fid
        prepared = [] if db.is_sqlite else \
            conn.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
    assert not [st for st in prepared if "FOR UPDATE" in st]


def test_per_file_statements_read_and_write_the_row_as_the_orm_does(env):
    """``Ledger.lock_row`` and ``mark_done`` (the driver's statements on both databases):
    the row and an earlier duplicate's id read back with a UTC timestamp; the done values written
    as the ORM reads them (JSON, NULL for None, naive UTC stored, the state's value)."""
    import datetime as dt

    from store.models.core import FileState
    from store.unit import UnitOfWork

    settings, db, pipe = env()
    drop(settings, "a.txt", b"same\n")
    drop(settings, "b.txt", b"same\n")
    inbox = settings.channels["drop"].inbox
    first, second = pipe.claim_many("drop", [inbox / "a.txt", inbox / "b.txt"])
    finished = dt.datetime(2026, 11, 30, 18, 0, 1, 250000, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    unit = UnitOfWork(db, settings)
    conn = unit.session.connection()
    row = pipe.ledger.lock_row(conn, first)
    assert (row.id, row.channel, row.original_name, row.size, row.state, row.owner, row.earlier) == \
        (first, "drop", "a.txt", 5, FileState.PROCESSING, pipe.identity, None)
    assert row.claimed_at.tzinfo is dt.UTC and len(row.sha256 or "") == 64
    pipe.ledger.mark_done(conn, {
        "fid": first, "b_state": FileState.DONE, "b_route": "*", "b_handler": "archive", "b_dedup_key": row.sha256,
        "b_counts": {"lines": 1}, "b_totals": None, "b_summary": {"warnings": [{"line": 2, "why": "ø"}]},
        "b_finished_at": finished, "b_final_path": "/p/a.txt"})
    unit.commit()
    with db.transaction() as s:
        got = s.get(SpoolFile, first)
        assert (got.state, got.route, got.handler, got.dedup_key, got.counts, got.totals, got.summary,
                got.finished_at, got.final_path) == (
            "done", "*", "archive", row.sha256, {"lines": 1}, None, {"warnings": [{"line": 2, "why": "ø"}]},
            finished, "/p/a.txt")
        assert s.execute(select(SpoolFile.id).where(SpoolFile.id == first, SpoolFile.totals.is_(None))).scalar() \
            == first  # SQL NULL, not JSON null
    unit = UnitOfWork(db, settings)
    try:
        assert pipe.ledger.lock_row(unit.session.connection(), second).earlier == first
        with pytest.raises(NoResultFound):
            pipe.ledger.lock_row(unit.session.connection(), 10**9)
        # the same content decided twice: the unique key refuses it as SQLAlchemy's IntegrityError,
        # which the pipeline turns into "decide again" (a duplicate now)
        with pytest.raises(IntegrityError):
            pipe.ledger.mark_done(unit.session.connection(), {
                "fid": second, "b_state": FileState.DONE, "b_route": "*", "b_handler": "archive",
                "b_dedup_key": row.sha256, "b_counts": None, "b_totals": None, "b_summary": None,
                "b_finished_at": finished, "b_final_path": "/p/b.txt"})
    finally:
        unit.rollback()


def test_a_groups_rows_are_locked_by_one_statement_and_marked_done_together(env):
    """``lock_rows`` / ``mark_done_many`` (``daemon/together.py``): the group's rows by id, as ``lock_row``
    reads each; the done values written for every row; a second row with the same content refused by the
    unique key as one statement of the batch."""
    import datetime as dt

    from store.models.core import FileState
    from store.unit import UnitOfWork

    settings, db, pipe = env()
    for name, data in (("a.txt", b"one\n"), ("b.txt", b"two\n"), ("c.txt", b"one\n")):
        drop(settings, name, data)
    inbox = settings.channels["drop"].inbox
    a, b, c = pipe.claim_many("drop", [inbox / n for n in ("a.txt", "b.txt", "c.txt")])
    finished = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)

    def done(row, path):
        return {"fid": row.id, "b_state": FileState.DONE, "b_route": "*", "b_handler": "archive",
                "b_dedup_key": row.sha256, "b_counts": {"lines": 1}, "b_totals": None, "b_summary": None,
                "b_finished_at": finished, "b_final_path": path}

    unit = UnitOfWork(db, settings)
    conn = unit.session.connection()
    rows = pipe.ledger.lock_rows(conn, [b, a, 10**9])
    assert sorted(rows) == [a, b] and rows[a] == pipe.ledger.lock_row(conn, a)
    pipe.ledger.mark_done_many(conn, [done(rows[a], "/p/a.txt"), done(rows[b], "/p/b.txt")])
    unit.commit()
    with db.transaction() as s:
        got = {r.id: (r.state, r.final_path, r.counts, r.finished_at) for r in s.scalars(select(SpoolFile))}
    assert got[a] == ("done", "/p/a.txt", {"lines": 1}, finished) and got[b] == ("done", "/p/b.txt", {"lines": 1},
                                                                                 finished)
    unit = UnitOfWork(db, settings)
    try:
        conn = unit.session.connection()
        row = pipe.ledger.lock_rows(conn, [c])[c]
        assert row.earlier == a
        with pytest.raises(IntegrityError):
            pipe.ledger.mark_done_many(conn, [done(row, "/p/c.txt")])
    finally:
        unit.rollback()
