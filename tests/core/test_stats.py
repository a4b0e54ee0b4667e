"""handlers.stats: planner statistics refreshed after bulk changes, without autovacuum."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from handlers.stats import analyze_if_stale, stale


def test_stale_rules():
    assert stale(0, -1, 10_000, 0)  # never analyzed
    assert not stale(0, -1, 10, 0)  # too small to matter
    assert not stale(1000, 100_000, 1100, 5_000)
    assert stale(1000, 100_000, 1300, 0)  # grew by 30 %
    assert stale(1000, 100_000, 1000, 30_000)  # 30 % of the rows changed


def test_analyze_if_stale_on_a_bulk_loaded_table(pg_url):
    engine = create_engine(pg_url)
    try:
        with Session(engine) as s, s.begin():
            s.execute(text("CREATE TABLE stats_probe (id integer PRIMARY KEY, v text)"))
            s.execute(text("INSERT INTO stats_probe SELECT g, md5(g::text) FROM generate_series(1, 100000) g"))
        with Session(engine) as s, s.begin():
            before = s.execute(text("SHOW lock_timeout")).scalar_one()
            assert analyze_if_stale(s, ["stats_probe", "no_such_table"]) == ["stats_probe"]
            tuples = s.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'stats_probe'")).scalar_one()
            assert 90_000 < tuples < 110_000
            assert s.execute(text("SHOW lock_timeout")).scalar_one() == before  # the short timeout undone
        with Session(engine) as s, s.begin():
            assert analyze_if_stale(s, ["stats_probe"]) == []
            s.execute(text("INSERT INTO stats_probe SELECT g, md5(g::text) FROM generate_series(100001, 200000) g"))
            assert analyze_if_stale(s, ["stats_probe"]) == ["stats_probe"]  # in the same transaction
    finally:
        engine.dispose()


def test_analyze_if_stale_is_a_no_op_on_sqlite(sqlite_url):
    engine = create_engine(sqlite_url)
    try:
        with Session(engine) as s, s.begin():
            assert analyze_if_stale(s, ["check_payments"]) == []
    finally:
        engine.dispose()
