"""The migrations are the schema source: they build every table and agree with the models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event, inspect, text

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


def _schema(engine: Engine) -> dict[str, Any]:
    insp = inspect(engine)
    return {t: (sorted((c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(t)),
                sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(t)),
                sorted((u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(t)),
                sorted((f["name"], f["referred_table"], tuple(f["constrained_columns"]))
                       for f in insp.get_foreign_keys(t)))
            for t in insp.get_table_names()}


def test_upgrade_is_idempotent(db_url):
    """Upgrading a schema at every head again only reads: no statement that changes anything, the same
    schema, the same revisions (every head of the scripts)."""
    from alembic.script import ScriptDirectory

    engine = make_engine(db_url, pool=False)
    try:
        heads = set(ScriptDirectory.from_config(migrate.alembic_config(engine)).get_heads())
        before = _schema(engine), _versions(engine)
        assert before[1] == heads
        statements: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            migrate.upgrade(engine)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert any("alembic_version" in st for st in statements)  # it did look
        writes = [st for st in statements if not st.lstrip().upper().startswith(("SELECT", "PRAGMA", "BEGIN", "SHOW"))]
        assert writes == []
        assert (_schema(engine), _versions(engine)) == before
    finally:
        engine.dispose()


def _versions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def test_schema_current_with_dependency_merged_heads(db_url):
    """A revision with depends_on merges its dependency out of alembic_version: still current."""
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
