"""Alembic environment: the engine comes from ``daemon.migrate``, the models from ``store.models``."""

from __future__ import annotations

from alembic import context

import store.models  # noqa: F401  (registers every table on the metadata)
from store.db import metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from store.db import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url") or "", pool=False)
        with engine.connect() as conn:
            _run(conn)
        engine.dispose()
    else:
        _run(connection)


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
        compare_server_default=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `spoolgate db upgrade`")
run_migrations_online()
