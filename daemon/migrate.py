"""Schema management through alembic; the migrations are the schema source."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

#: the ``migrations`` package (its ``versions/`` are package data: alembic loads them by path)
MIGRATIONS = Path(str(resources.files("migrations")))


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(MIGRATIONS / "versions"))
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to the newest revision of every branch (channels have their own)."""
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Two daemons starting at once must not migrate concurrently.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7426001)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def check(engine: Engine) -> None:
    """Raise if the models and the migrations disagree (``alembic check``)."""
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.check(cfg)


def revision(engine: Engine, message: str, *, head: str = "head", branch_label: str | None = None) -> None:
    """Autogenerate a revision (development helper)."""
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True, head=head,
                         branch_label=branch_label)


def schema_state(engine: Engine) -> str:
    """``current``, ``old`` (migrations to apply) or ``empty`` (no spoolgate schema at all)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as conn:
        current = tuple(MigrationContext.configure(conn).get_current_heads())
    if not current:
        return "empty"
    # Not a comparison of head sets: a revision another one depends on (0002_ach under 0003_console)
    # leaves the version table once the dependent is applied. Current means `upgrade heads` has nothing to do.
    return "old" if pending_upgrades(script, current) else "current"


def schema_current(engine: Engine) -> bool:
    return schema_state(engine) == "current"


def pending_upgrades(script: Any, current: tuple[str, ...]) -> list[Any]:
    """The steps ``alembic upgrade heads`` would run from ``current`` (alembic's own computation)."""
    return list(script._upgrade_revs("heads", current))
