"""The migrations are the schema source: they build every table and agree with the models."""

from __future__ import annotations

from sqlalchemy import inspect

from daemon import migrate
from store.db import make_engine, metadata


def test_models_and_migrations_agree(db_url):
    engine = make_engine(db_url, pool=False)
    try:
        migrate.check(engine)  # raises if autogenerate would produce any operation
        tables = set(inspect(engine).get_table_names())
        assert set(metadata.tables) <= tables
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(db_url):
    engine = make_engine(db_url, pool=False)
    try:
        migrate.upgrade(engine)
        migrate.upgrade(engine)
    finally:
        engine.dispose()


def test_schema_current_with_dependency_merged_heads(db_url):
    """A revision with depends_on merges its dependency out of alembic_version: still current."""
    from sqlalchemy import text

    from daemon.migrate import schema_current
    from store.db import Database

    db = Database(db_url)
    try:
        assert schema_current(db.engine)
        with db.engine.begin() as conn:
            # the PBS branch's head (no other revision depends on it): its migrations are then missing
            gone = conn.execute(text("DELETE FROM alembic_version WHERE version_num LIKE '%_pbs'")).rowcount
        assert gone == 1
        assert not schema_current(db.engine)
    finally:
        db.dispose()
