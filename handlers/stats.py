"""Planner statistics for bulk paths on PostgreSQL, without relying on autovacuum.

A table that was just bulk-loaded (or never analyzed) has no statistics or stale ones;
the planner then guesses, and a 2,000-key lookup turns into a sequential scan of a
million rows. Before a bulk path reads a table (and after it changed one a lot) it
calls :func:`analyze_if_stale`: cheap catalog reads, and ``ANALYZE`` (a sample of
~30,000 rows) only where the table grew or changed by more than a fraction since the
last analyze. ``ANALYZE`` runs in the caller's transaction (allowed there, unlike
``VACUUM``) under a short lock timeout in a savepoint: if another session is
analyzing the same table, the statistics it is writing will do and nothing waits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from store.unit import UnitSession

log = logging.getLogger(__name__)

#: a table this small is read by a sequential scan whatever the statistics say
MIN_PAGES = 128
#: re-analyze when this fraction of the rows changed (or the table grew by it) since the last analyze
STALE_FRACTION = 0.2
LOCK_TIMEOUT = "200ms"
#: SQLSTATE of a lock timeout: another session is analyzing the table
LOCK_NOT_AVAILABLE = "55P03"

_STATE = text("""
SELECT c.relname, c.relpages, c.reltuples,
       pg_relation_size(c.oid) / current_setting('block_size')::int AS pages,
       COALESCE(s.n_mod_since_analyze, 0) AS modified
FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relname = ANY(:names) AND c.relkind = 'r' AND c.relnamespace = to_regnamespace(current_schema())
""")


def stale(relpages: int, reltuples: float, pages: int, modified: int) -> bool:
    """Never analyzed, grown by more than the fraction, or that many rows modified."""
    if pages < MIN_PAGES:
        return False
    if reltuples < 0:
        return True
    return pages > relpages * (1 + STALE_FRACTION) or modified > max(reltuples, 1) * STALE_FRACTION


def analyze_if_stale(session: UnitSession, tables: Sequence[str]) -> list[str]:
    """``ANALYZE`` the tables among ``tables`` whose statistics are missing or stale; returns them.

    A no-op on other databases (SQLite plans these statements by index without statistics).
    """
    if session.get_bind().dialect.name != "postgresql":
        return []
    rows = session.execute(_STATE, {"names": list(tables)}).all()
    todo = sorted(r.relname for r in rows if stale(r.relpages, r.reltuples, r.pages, r.modified))
    done = []
    for name in todo:
        try:
            with session.begin_nested():
                old = session.execute(text("SELECT current_setting('lock_timeout')")).scalar_one()
                session.execute(text("SELECT set_config('lock_timeout', :v, true)"), {"v": LOCK_TIMEOUT})
                session.execute(text(f'ANALYZE "{name}"'))
                session.execute(text("SELECT set_config('lock_timeout', :v, true)"), {"v": old})
            done.append(name)
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            log.info("statistics of %s not refreshed: %s", name, str(exc.orig).strip().splitlines()[0])
    if done:
        log.info("refreshed planner statistics of %s", ", ".join(done))
    return done
