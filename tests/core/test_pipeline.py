"""The pipeline in-process: outcomes, reports, duplicates, retry, dry-run, recovery of each crash state."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from pathlib import Path

import pytest
from sqlalchemy import select

from daemon.pipeline import Pipeline
from store.config import Settings
from store.db import Database
from store.models.core import FileState, OutboundFile, SpoolFile
from tests.support import archive_config, check_invariants, sha

#: the identity of a daemon that died (a PID that does not exist on this host)
DEAD = f"{socket.gethostname()}:999999:dead"


@pytest.fixture
def env(tmp_path: Path, db_url: str):
    def make(identity=None, **over):
        settings = Settings(**archive_config(tmp_path, db_url, **over))
        for ch in settings.channels.values():
            for f in (ch.inbox, ch.work, ch.processed, ch.error):
                f.mkdir(parents=True, exist_ok=True)
        for o in settings.outbound.values():
            o.folder.mkdir(parents=True, exist_ok=True)
        db = Database(settings.database_url)
        return settings, db, Pipeline(settings, db, identity=identity)

    made = []

    def factory(identity=None, **over):
        s, d, p = make(identity, **over)
        made.append(d)
        return s, d, p

    yield factory
    for d in made:
        d.dispose()


def drop(settings: Settings, name: str, data: bytes) -> Path:
    p = settings.channels["drop"].inbox / name
    p.write_bytes(data)
    return p


def run(pipe: Pipeline, settings: Settings, name: str) -> str:
    fid = pipe.claim("drop", settings.channels["drop"].inbox / name)
    assert fid is not None
    return pipe.process(fid).state


def test_processed_file_lands_dated_and_ledger_agrees(env, tmp_path):
    settings, db, pipe = env()
    drop(settings, "a.txt", b"one\ntwo\n")
    assert run(pipe, settings, "a.txt") == "done"
    info = check_invariants(tmp_path, settings.database_url, {"a.txt": sha(next(
        (settings.channels["drop"].processed).rglob("a.txt")))})
    assert info["done"] == 1
    with db.transaction() as s:
        row = s.scalar(select(SpoolFile))
        assert row.counts == {"lines": 2}
        assert row.size == 8 and row.attempts == 1
        assert "/processed/20" in row.final_path


def test_bad_file_gets_report_next_to_it_and_nothing_else_changes(env, tmp_path):
    settings, db, pipe = env()
    drop(settings, "bad.txt", b"ok\nFAIL here\n")
    assert run(pipe, settings, "bad.txt") == "error"
    err = settings.channels["drop"].error
    report = json.loads((err / "bad.txt.error.json").read_text())
    assert report["reason"] == "line 2 contains the fail marker"
    assert report["code"] == "fail_marker" and report["handler"] == "archive"
    assert report["exception"] == "Rejected"
    with db.transaction() as s:
        assert s.scalars(select(OutboundFile)).all() == []  # the ack was rolled back with the file
    check_invariants(tmp_path, settings.database_url, {"bad.txt": sha(err / "bad.txt")}, expect_error={"bad.txt"})
    assert list((tmp_path / "spool/acks/out").iterdir()) == []


def test_no_route_and_empty_file(env, tmp_path):
    settings, _db, pipe = env(channel={"routes": [{"pattern": "*.ach", "handler": "archive"}]})
    drop(settings, "x.csv", b"data\n")
    drop(settings, "e.ach", b"")
    assert run(pipe, settings, "x.csv") == "error"
    assert run(pipe, settings, "e.ach") == "error"
    err = settings.channels["drop"].error
    assert json.loads((err / "x.csv.error.json").read_text())["reason"] == "no route"
    assert json.loads((err / "e.ach.error.json").read_text())["reason"] == "empty file"


def test_empty_file_allowed_by_route(env):
    settings, _db, pipe = env(channel={"routes": [{"pattern": "*", "handler": "archive", "allow_empty": True}]})
    drop(settings, "e.dat", b"")
    assert run(pipe, settings, "e.dat") == "done"


@pytest.mark.parametrize("policy", ["reject", "ignore", "reprocess"])
def test_duplicate_policies(env, policy):
    settings, db, pipe = env(channel={"dedup": policy})
    drop(settings, "a.txt", b"same\n")
    assert run(pipe, settings, "a.txt") == "done"
    drop(settings, "b.txt", b"same\n")
    state = run(pipe, settings, "b.txt")
    ch = settings.channels["drop"]
    with db.transaction() as s:
        first = s.scalar(select(SpoolFile).where(SpoolFile.original_name == "a.txt"))
        second = s.scalar(select(SpoolFile).where(SpoolFile.original_name == "b.txt"))
        outbound = s.scalars(select(OutboundFile)).all()
    if policy == "reject":
        assert state == "duplicate" and (ch.error / "b.txt").exists()
        report = json.loads((ch.error / "b.txt.error.json").read_text())
        assert report["duplicate_of"] == first.id and f"duplicate of file {first.id}" in report["reason"]
        assert len(outbound) == 1  # the database was not touched by the duplicate
    elif policy == "ignore":
        assert state == "duplicate" and second.duplicate_of == first.id
        assert "/processed/duplicates/" in second.final_path and Path(second.final_path).exists()
        assert len(outbound) == 1
    else:
        assert state == "done" and len(outbound) == 2


def test_retry_sends_file_back_and_it_is_processed(env):
    settings, db, pipe = env()
    drop(settings, "r.txt", b"FAIL\n")
    assert run(pipe, settings, "r.txt") == "error"
    ch = settings.channels["drop"]
    (ch.error / "r.txt").write_bytes(b"fixed\n")  # the operator fixes the cause
    assert pipe.retry("r.txt") == ["drop/r.txt"]
    assert not (ch.error / "r.txt").exists() and not (ch.error / "r.txt.error.json").exists()
    assert run(pipe, settings, "r.txt") == "done"
    with db.transaction() as s:
        states = sorted(r.state for r in s.scalars(select(SpoolFile)))
    assert states == ["done", "retried"]


def test_dry_run_changes_nothing(env):
    settings, db, pipe = env()
    p = drop(settings, "d.txt", b"a\nb\nc\n")
    report = pipe.dry_run(p, "drop")
    assert report["outcome"] == "would process" and report["handler"] == "archive"
    assert report["counts"] == {"lines": 3}
    assert report["changes"] == {"insert outbound_files": 1, "insert outbound_items": 1}
    assert p.exists()
    with db.transaction() as s:
        assert s.scalars(select(SpoolFile)).all() == []
        assert s.scalars(select(OutboundFile)).all() == []
    assert [f for f in (settings.spool_root / "acks/out").iterdir()] == []


def test_symlink_and_unsafe_names_are_refused(env, tmp_path):
    settings, _db, pipe = env()
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    inbox = settings.channels["drop"].inbox
    os.symlink(secret, inbox / "link.txt")
    pipe.refuse("drop", inbox / "link.txt", "not a regular file")
    err = settings.channels["drop"].error
    assert (err / "link.txt").is_symlink() and secret.read_text() == "do not read"
    assert json.loads((err / "link.txt.error.json").read_text())["code"] == "refused"
    (inbox / "bad\nname").write_text("x")
    assert pipe.claim("drop", inbox / "bad\nname") is None
    assert (err / "bad_name").exists()


# -- recovery of each interrupted state -----------------------------------------------------------
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
    settings, db, pipe = env(identity=DEAD)
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


def test_recover_after_commit_before_move_does_not_reapply(env, tmp_path):
    settings, db, pipe = env()
    drop(settings, "c.txt", b"x\n")
    fid = pipe.claim("drop", settings.channels["drop"].inbox / "c.txt")
    pipe._file_away = lambda *a: None  # the process dies right after the commit
    pipe.process(fid)
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
    import handlers.core.archive as archive

    real = archive.ArchiveHandler.handle

    def dies(self, ctx, stream):
        raise SystemExit("killed inside the handler")

    archive.ArchiveHandler.handle = dies  # type: ignore[method-assign]
    try:
        with pytest.raises(SystemExit):
            pipe.process(fid)
    finally:
        archive.ArchiveHandler.handle = real  # type: ignore[method-assign]


def test_file_that_keeps_crashing_goes_to_error_after_max_attempts(env):
    settings, db, pipe = env(identity=DEAD, max_attempts=2)
    drop(settings, "k.txt", b"x\n")
    fid = pipe.claim("drop", settings.channels["drop"].inbox / "k.txt")
    _start_then_die(pipe, fid)  # attempt 1 (the claim's own)
    second = Pipeline(settings, db, identity=DEAD + "2")
    assert second.recover(startup=True) == [fid]
    _start_then_die(second, fid)  # attempt 2, recorded before the handler ran
    third = Pipeline(settings, db)
    assert third.recover(startup=True) == [fid]
    assert third.process(fid).state == "error"  # attempt 3 would exceed the maximum
    report = json.loads((settings.channels["drop"].error / "k.txt.error.json").read_text())
    assert report["code"] == "max_attempts" and "interrupted 2 times" in report["reason"]


def test_files_killed_before_any_worker_started_them_are_not_counted(env, tmp_path):
    """Recovered files queued behind others, killed again and again before a start: never max_attempts."""
    settings, db, pipe = env(identity=DEAD, max_attempts=2)
    drop(settings, "q.txt", b"q\n")
    fid = pipe.claim("drop", settings.channels["drop"].inbox / "q.txt")
    for n in range(5):  # the old code counted each of these takeovers and gave up after the second
        assert Pipeline(settings, db, identity=f"{DEAD}{n}").recover(startup=True) == [fid]  # then killed
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


def test_state_names_are_stable():
    assert [s.value for s in FileState] == ["claimed", "processing", "done", "error", "duplicate", "retried"]


def test_error_alert_is_queued_with_the_error(env):
    from store.models.core import Notification

    settings, db, pipe = env(channel={"alert_on_error": True, "alert_recipients": ["ops@example.com"]})
    drop(settings, "bad.txt", b"FAIL\n")
    assert run(pipe, settings, "bad.txt") == "error"
    drop(settings, "good.txt", b"fine\n")
    assert run(pipe, settings, "good.txt") == "done"
    with db.transaction() as s:
        alerts = s.scalars(select(Notification)).all()
        assert [(a.kind, a.recipients, a.lane) for a in alerts] == [("file-error", ["ops@example.com"], "immediate")]
        assert "bad.txt" in alerts[0].subject and "fail marker" in alerts[0].body


def test_stale_recovery_snapshot_never_reopens_a_decided_file(env):
    """The recovery pass works from a snapshot; a file decided meanwhile must stay decided."""
    settings, db, pipe = env()
    drop(settings, "s.txt", b"x\n")
    fid = pipe.claim("drop", settings.channels["drop"].inbox / "s.txt")
    assert pipe.process(fid).state == "done"
    assert pipe._take_over(fid, pipe.identity) is None  # a DONE row is never taken over
    pipe._fail(fid, settings.channels["drop"], {"reason": "file missing from work folder", "code": "missing"})
    with db.transaction() as s:
        row = s.get(SpoolFile, fid)
        assert row.state == "done" and row.error is None


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


def test_transient_retries_end_at_shutdown(env):
    """A database outage is retried, but a stopping daemon gives up at once; the file stays claimed."""
    from sqlalchemy.exc import OperationalError

    settings, db, _pipe = env(transient_retry_s=60.0)
    stopping = {"now": False}
    pipe = Pipeline(settings, db, should_stop=lambda: stopping["now"])
    calls = []

    def attempt_once() -> None:
        for attempt in pipe._retrying("test"):
            with attempt:
                calls.append(1)
                if len(calls) == 2:
                    stopping["now"] = True
                raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    with pytest.raises(OperationalError):
        attempt_once()
    assert len(calls) == 2  # retried once, then stopped by the shutdown, not by the 60 s budget


def test_claim_many_commits_a_batch_and_skips_what_vanished_or_is_unsafe(env, tmp_path):
    settings, db, pipe = env()
    ch = settings.channels["drop"]
    dropped = {f"b{i}.txt": f"batch {i}\n".encode() for i in range(5)}
    for name, data in dropped.items():
        drop(settings, name, data)
    gone = ch.inbox / "gone.txt"  # taken by someone else between intake and claim
    ids = pipe.claim_many("drop", [ch.inbox / n for n in dropped] + [gone, ch.inbox / "bad\x01name"])
    assert len(ids) == 5 and len(set(ids)) == 5
    with db.transaction() as s:
        rows = {r.id: r for r in s.scalars(select(SpoolFile))}
    assert sorted(r.original_name for r in rows.values()) == sorted(dropped)
    assert all(r.state == FileState.PROCESSING and r.attempts == 1 and r.owner == pipe.identity
               and r.sha256 == sha(ch.work / r.work_name) for r in rows.values())
    assert [rows[i].original_name for i in ids] == list(dropped)  # ids in the order of the paths
    for fid in ids:
        assert pipe.process(fid).state == "done"
    check_invariants(tmp_path, settings.database_url,
                     {n: hashlib.sha256(d).hexdigest() for n, d in dropped.items()})


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


def test_release_never_touches_a_file_another_daemon_holds(env):
    settings, db, pipe = env()
    drop(settings, "h.txt", b"h\n")
    fid = pipe.claim("drop", settings.channels["drop"].inbox / "h.txt")
    Pipeline(settings, db, identity="other:2:y").release([fid])
    with db.transaction() as s:
        row = s.get(SpoolFile, fid)
        assert (row.owner, row.attempts) == (pipe.identity, 1)
