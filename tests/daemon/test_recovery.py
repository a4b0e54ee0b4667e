"""Recovery of each interrupted state: nothing lost, nothing applied twice, attempts counted per start."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from daemon.pipeline import Pipeline
from store.models.core import FileState, OutboundFile, SpoolFile
from tests.support import DEAD_OWNER, check_invariants, drop, sha


def test_recover_claim_interrupted_before_insert(env, tmp_path):
    """A work file without a ledger row (renamed, then the claimer died before its insert) is left alone
    while its claimer may still be inserting, then taken once under its own name and content."""
    settings, db, pipe = env()
    ch = settings.channels["drop"]
    data = b"x\n"
    (ch.work / "abcdef012345.lost.txt").write_bytes(data)
    assert pipe.recover(grace_s=30) == []  # a periodic pass: a live claimer may be between rename and insert
    with db.transaction() as s:
        assert s.scalars(select(SpoolFile)).all() == []
    todo = pipe.recover(startup=True, grace_s=30)
    if not db.is_sqlite:  # only SQLite's daemon at start-up is sure to be alone
        assert todo == []
        todo = pipe.recover(startup=True, grace_s=0)
    assert len(todo) == 1
    with db.transaction() as s:
        row = s.get(SpoolFile, todo[0])
        assert (row.original_name, row.work_name, row.sha256, row.size) == (
            "lost.txt", "abcdef012345.lost.txt", hashlib.sha256(data).hexdigest(), len(data))
    assert pipe.process(todo[0]).state == "done"
    assert Pipeline(settings, db).recover(startup=True, grace_s=0) == []
    check_invariants(tmp_path, settings.database_url, {"lost.txt": hashlib.sha256(data).hexdigest()})
    with db.transaction() as s:
        assert len(s.scalars(select(SpoolFile)).all()) == 1


def test_recover_interrupted_processing_reprocesses_once(env, tmp_path):
    settings, db, pipe = env(identity=DEAD_OWNER)
    drop(settings, "p.txt", b"x\n")
    fid = pipe.claim("drop", settings.channels["drop"].inbox / "p.txt")  # claimed, then the process died
    fresh = Pipeline(settings, db)
    todo = fresh.recover(startup=True)
    assert todo == [fid]
    assert fresh.process(fid).state == "done"
    with db.transaction() as s:
        assert s.get(SpoolFile, fid).attempts == 2
    check_invariants(tmp_path, settings.database_url,
                     {"p.txt": sha(next(settings.channels["drop"].processed.rglob("p.txt")))})


def test_recover_after_commit_before_move_does_not_reapply(env, tmp_path, monkeypatch):
    from spool import filing

    settings, db, pipe = env()
    drop(settings, "c.txt", b"x\n")
    fid = pipe.claim("drop", settings.channels["drop"].inbox / "c.txt")

    def dies(*a, **kw):
        raise SystemExit("killed right after the commit")

    monkeypatch.setattr(filing, "file_away", dies)
    with pytest.raises(SystemExit):
        pipe.process(fid)
    monkeypatch.undo()
    ch = settings.channels["drop"]
    assert len(list(ch.work.iterdir())) == 1
    fresh = Pipeline(settings, db)
    assert fresh.recover(startup=True) == []
    check_invariants(tmp_path, settings.database_url, {"c.txt": sha(next(ch.processed.rglob("c.txt")))})


def test_recover_after_processed_link_before_work_unlink(env, tmp_path):
    """Filing links work/F into processed/ and then unlinks work/F; a death in between must be finished."""
    settings, db, pipe = env()
    drop(settings, "l.txt", b"x\n")
    ch = settings.channels["drop"]
    fid = pipe.claim("drop", ch.inbox / "l.txt")
    real_unlink = os.unlink

    def die_before_unlink(path, *a, **kw):
        if Path(path).parent == ch.work:
            raise SystemExit("killed between link and unlink")
        return real_unlink(path, *a, **kw)

    os.unlink = die_before_unlink
    try:
        with pytest.raises(SystemExit):
            pipe.process(fid)
    finally:
        os.unlink = real_unlink
    work = [p for p in ch.work.iterdir()]
    assert len(work) == 1 and work[0].stat().st_nlink == 2
    assert Pipeline(settings, db).recover(startup=True) == []
    assert list(ch.work.iterdir()) == []
    assert [p.name for p in ch.processed.rglob("*") if p.is_file()] == ["l.txt"]
    check_invariants(tmp_path, settings.database_url, {"l.txt": sha(next(ch.processed.rglob("l.txt")))})


def _start_then_die(pipe: Pipeline, fid: int) -> None:
    """A worker starts the file and the process dies inside the handler."""
    from tests.handlers_for_tests import FaultyArchiveHandler

    real = FaultyArchiveHandler.handle

    def dies(self, ctx, stream):
        raise SystemExit("killed inside the handler")

    FaultyArchiveHandler.handle = dies  # type: ignore[method-assign]
    try:
        with pytest.raises(SystemExit):
            pipe.process(fid)
    finally:
        FaultyArchiveHandler.handle = real  # type: ignore[method-assign]


def test_file_that_keeps_crashing_goes_to_error_after_max_attempts(env):
    settings, db, pipe = env(identity=DEAD_OWNER, max_attempts=2)
    drop(settings, "k.txt", b"x\n")
    fid = pipe.claim("drop", settings.channels["drop"].inbox / "k.txt")
    _start_then_die(pipe, fid)  # attempt 1 (the claim's own)
    second = Pipeline(settings, db, identity=DEAD_OWNER + "2")
    assert second.recover(startup=True) == [fid]
    _start_then_die(second, fid)  # attempt 2, recorded before the handler ran
    third = Pipeline(settings, db)
    assert third.recover(startup=True) == [fid]
    assert third.process(fid).state == "error"  # attempt 3 would exceed the maximum
    report = json.loads((settings.channels["drop"].error / "k.txt.error.json").read_text())
    assert report["code"] == "max_attempts" and "interrupted 2 times" in report["reason"]


def test_files_killed_before_any_worker_started_them_are_not_counted(env, tmp_path):
    """Recovered files queued behind others, killed again and again before a start: never max_attempts."""
    settings, db, pipe = env(identity=DEAD_OWNER, max_attempts=2)
    drop(settings, "q.txt", b"q\n")
    fid = pipe.claim("drop", settings.channels["drop"].inbox / "q.txt")
    for n in range(5):  # the old code counted each of these takeovers and gave up after the second
        assert Pipeline(settings, db, identity=f"{DEAD_OWNER}{n}").recover(startup=True) == [fid]  # then killed
    fresh = Pipeline(settings, db)
    assert fresh.recover(startup=True) == [fid]
    assert fresh.process(fid).state == "done"
    with db.transaction() as s:
        assert s.get(SpoolFile, fid).attempts == 2  # the claim's (never started) and this one
    check_invariants(tmp_path, settings.database_url,
                     {"q.txt": sha(next(settings.channels["drop"].processed.rglob("q.txt")))})


def test_outbound_staged_but_not_delivered_is_finished_by_recovery(env, tmp_path):
    settings, db, pipe = env()
    drop(settings, "o.txt", b"x\n")
    import store.unit as unit_mod

    real = unit_mod.UnitOfWork.deliver
    unit_mod.UnitOfWork.deliver = lambda self: []  # type: ignore[method-assign]  # dies before the rename
    try:
        fid = pipe.claim("drop", settings.channels["drop"].inbox / "o.txt")
        pipe.process(fid)
    finally:
        unit_mod.UnitOfWork.deliver = real  # type: ignore[method-assign]
    acks = settings.spool_root / "acks/out"
    assert [p.name for p in acks.iterdir() if not p.name.startswith(".")] == []
    Pipeline(settings, db).recover(startup=True)
    names = sorted(p.name for p in acks.iterdir())
    assert len(names) == 2 and names[1].endswith(".done")
    with db.transaction() as s:
        assert s.scalar(select(OutboundFile)).state == "delivered"
    signal = (acks / names[1]).read_text()
    assert signal.startswith("records=1 bytes=") and sha(acks / names[0]) in signal


def test_orphan_staging_file_from_rolled_back_transaction_is_removed(env):
    settings, db, _pipe = env()
    acks = settings.spool_root / "acks/out"
    acks.mkdir(parents=True, exist_ok=True)
    from spool.fsops import HOST_TAG

    orphan = acks / f".ack.txt.{HOST_TAG}.999999.abcd1234.sgtmp"  # staged by a process that died
    orphan.write_bytes(b"partial")
    signal_tmp = acks / f".ack.txt.done.{HOST_TAG}.999999.0badf00d.sgtmp"  # died inside write_atomic
    signal_tmp.write_bytes(b"")
    report_tmp = settings.channels["drop"].error / f".x.error.json.{HOST_TAG}.999999.12345678.sgtmp"
    report_tmp.write_bytes(b"{")
    from spool.fsops import temp_done, temp_path

    live = temp_path(acks / "other.txt")  # ours, still being written
    live.write_bytes(b"in progress")
    Pipeline(settings, db).recover()
    assert not orphan.exists() and not signal_tmp.exists() and not report_tmp.exists()
    assert live.exists()
    temp_done(live)


def test_stale_recovery_snapshot_never_reopens_a_decided_file(env):
    """The recovery pass works from a snapshot; a file decided meanwhile must stay decided."""
    settings, db, pipe = env()
    drop(settings, "s.txt", b"x\n")
    fid = pipe.claim("drop", settings.channels["drop"].inbox / "s.txt")
    assert pipe.process(fid).state == "done"
    assert pipe.ledger.take_over(fid, pipe.identity) is None  # a DONE row is never taken over
    pipe.fail(fid, settings.channels["drop"], {"reason": "file missing from work folder", "code": "missing"})
    with db.transaction() as s:
        row = s.get(SpoolFile, fid)
        assert row.state == "done" and row.error is None


def test_released_files_are_taken_over_without_counting_an_attempt(env, tmp_path):
    settings, db, pipe = env()
    ch = settings.channels["drop"]
    for n in ("r1.txt", "r2.txt"):
        drop(settings, n, n.encode())
    ids = pipe.claim_many("drop", [ch.inbox / "r1.txt", ch.inbox / "r2.txt"])
    pipe.release(ids)  # a stopping daemon hands back what no worker started
    with db.transaction() as s:
        rows = list(s.scalars(select(SpoolFile)))
    assert [(r.owner, r.attempts, r.state) for r in rows] == [(None, 0, FileState.PROCESSING)] * 2
    assert not pipe.inflight
    other = Pipeline(settings, db, identity="elsewhere:1:x")  # any daemon may take them at once
    todo = other.recover()
    assert sorted(todo) == sorted(ids)
    for fid in todo:
        assert other.process(fid).state == "done"
    with db.transaction() as s:
        assert [r.attempts for r in s.scalars(select(SpoolFile))] == [1, 1]
    check_invariants(tmp_path, settings.database_url,
                     {n: hashlib.sha256(n.encode()).hexdigest() for n in ("r1.txt", "r2.txt")})

