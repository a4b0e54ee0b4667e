"""The pipeline in-process: outcomes, reports, duplicates, refusals, claims in runs."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from store.models.core import FileState, OutboundFile, SpoolFile
from tests.support import check_invariants, claim_and_process, drop, sha


def test_processed_file_lands_dated_and_ledger_agrees(env, tmp_path):
    settings, db, pipe = env()
    drop(settings, "a.txt", b"one\ntwo\n")
    assert claim_and_process(pipe, settings, "a.txt") == "done"
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
    assert claim_and_process(pipe, settings, "bad.txt") == "error"
    err = settings.channels["drop"].error
    report = json.loads((err / "bad.txt.error.json").read_text())
    assert report["reason"] == "line 2 contains the fail marker"
    assert report["code"] == "fail_marker" and report["handler"] == "test.archive"
    assert report["exception"] == "Rejected"
    with db.transaction() as s:
        assert s.scalars(select(OutboundFile)).all() == []  # the ack was rolled back with the file
    check_invariants(tmp_path, settings.database_url, {"bad.txt": sha(err / "bad.txt")}, expect_error={"bad.txt"})
    assert list((tmp_path / "spool/acks/out").iterdir()) == []


def test_no_route_and_empty_file(env, tmp_path):
    settings, _db, pipe = env(channel={"routes": [{"pattern": "*.ach", "handler": "archive"}]})
    drop(settings, "x.csv", b"data\n")
    drop(settings, "e.ach", b"")
    assert claim_and_process(pipe, settings, "x.csv") == "error"
    assert claim_and_process(pipe, settings, "e.ach") == "error"
    err = settings.channels["drop"].error
    assert json.loads((err / "x.csv.error.json").read_text())["reason"] == "no route"
    assert json.loads((err / "e.ach.error.json").read_text())["reason"] == "empty file"


def test_empty_file_allowed_by_route(env):
    settings, _db, pipe = env(channel={"routes": [{"pattern": "*", "handler": "archive", "allow_empty": True}]})
    drop(settings, "e.dat", b"")
    assert claim_and_process(pipe, settings, "e.dat") == "done"


@pytest.mark.parametrize("policy", ["reject", "ignore", "reprocess"])
def test_duplicate_policies(env, policy):
    settings, db, pipe = env(channel={"dedup": policy})
    drop(settings, "a.txt", b"same\n")
    assert claim_and_process(pipe, settings, "a.txt") == "done"
    drop(settings, "b.txt", b"same\n")
    state = claim_and_process(pipe, settings, "b.txt")
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


def test_state_names_are_stable():
    assert [s.value for s in FileState] == ["claimed", "processing", "done", "error", "duplicate", "retried"]


def test_error_alert_is_queued_with_the_error(env):
    from store.models.core import Notification

    settings, db, pipe = env(channel={"alert_on_error": True, "alert_recipients": ["ops@example.com"]})
    drop(settings, "bad.txt", b"FAIL\n")
    assert claim_and_process(pipe, settings, "bad.txt") == "error"
    drop(settings, "good.txt", b"fine\n")
    assert claim_and_process(pipe, settings, "good.txt") == "done"
    with db.transaction() as s:
        alerts = s.scalars(select(Notification)).all()
        assert [(a.kind, a.recipients, a.lane) for a in alerts] == [("file-error", ["ops@example.com"], "immediate")]
        assert "bad.txt" in alerts[0].subject and "fail marker" in alerts[0].body


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

