"""Operator entry points on inbound files: retry from error/, dry run."""

from __future__ import annotations

from sqlalchemy import select

from daemon import operator
from store.models.core import OutboundFile, SpoolFile
from tests.support import claim_and_process, drop


def test_retry_sends_file_back_and_it_is_processed(env):
    settings, db, pipe = env()
    drop(settings, "r.txt", b"FAIL\n")
    assert claim_and_process(pipe, settings, "r.txt") == "error"
    ch = settings.channels["drop"]
    (ch.error / "r.txt").write_bytes(b"fixed\n")  # the operator fixes the cause
    assert operator.retry(settings, db, "r.txt") == ["drop/r.txt"]
    assert not (ch.error / "r.txt").exists() and not (ch.error / "r.txt.error.json").exists()
    assert claim_and_process(pipe, settings, "r.txt") == "done"
    with db.transaction() as s:
        states = sorted(r.state for r in s.scalars(select(SpoolFile)))
    assert states == ["done", "retried"]


def test_dry_run_changes_nothing(env):
    settings, db, _pipe = env()
    p = drop(settings, "d.txt", b"a\nb\nc\n")
    report = operator.dry_run(settings, db, p, "drop")
    assert report["outcome"] == "would process" and report["handler"] == "test.archive"
    assert report["counts"] == {"lines": 3}
    assert report["changes"] == {"insert outbound_files": 1, "insert outbound_items": 1}
    assert p.exists()
    with db.transaction() as s:
        assert s.scalars(select(SpoolFile)).all() == []
        assert s.scalars(select(OutboundFile)).all() == []
    assert [f for f in (settings.spool_root / "acks/out").iterdir()] == []

