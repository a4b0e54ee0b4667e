"""The database plumbing: errors that never quote the data they were writing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from store.db import Database, describe


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    d = Database(db_url)
    yield d
    d.dispose()


def test_database_errors_never_quote_statement_parameters(db):
    """Reproduction 8 of issue 11: a logged database error must not carry the account number it was writing."""
    with pytest.raises(IntegrityError) as info, db.transaction() as s:
        s.execute(text("INSERT INTO spool_files (id, channel, original_name, work_name, state, attempts) "
                       "VALUES (:i, :c, :n, :w, 'done', 1)"),
                  [{"i": 1, "c": "drop", "n": "DE44-5001-0517-33998", "w": "w1"},
                   {"i": 1, "c": "drop", "n": "DE44-5001-0517-33998", "w": "w2"}])
    assert "parameters hidden" in str(info.value)
    shown = describe(info.value)
    assert "33998" not in shown and "constraint" in shown.lower(), shown
