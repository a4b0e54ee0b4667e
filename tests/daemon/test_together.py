"""Group commit of plain files (``daemon/together.py``): one commit for the group, and the per-file
path for every file of a group that is not plain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from daemon import together
from daemon.pipeline import Transient
from store.models.core import FileState, OutboundFile, SpoolFile
from tests.handlers_for_tests import FaultyArchiveHandler
from tests.support import check_invariants, drop


@contextmanager
def commits(db) -> Iterator[list[int]]:
    """Counts the database commits made inside the block."""
    seen: list[int] = []

    def on_commit(_conn) -> None:
        seen.append(1)

    event.listen(db.engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(db.engine, "commit", on_commit)


@contextmanager
def groups_of(monkeypatch) -> Iterator[list[list[int]]]:
    """Records the file ids of every group ``decide_together`` is given."""
    seen: list[list[int]] = []
    real = together.decide_together

    def spy(pipe, group):
        seen.append([p.file_id for p in group])
        return real(pipe, group)

    monkeypatch.setattr(together, "decide_together", spy)
    yield seen


def _claim(settings, pipe, files: dict[str, bytes]) -> list[int]:
    for name, data in files.items():
        drop(settings, name, data)
    ids = pipe.claim_many("drop", [settings.channels["drop"].inbox / n for n in files])
    assert len(ids) == len(files)
    return ids


def _digests(files: dict[str, bytes]) -> dict[str, str]:
    return {n: hashlib.sha256(d).hexdigest() for n, d in files.items()}


def test_plain_files_are_decided_in_one_commit_and_each_filed_with_its_ack(env, tmp_path):
    settings, db, pipe = env()
    files = {f"g{i}.txt": f"group {i}\nline\n".encode() for i in range(5)}
    ids = _claim(settings, pipe, files)
    with commits(db) as seen:
        outcomes = together.process_many(pipe, ids)
    assert [o.state for o in outcomes] == [FileState.DONE] * 5
    assert [o.file_id for o in outcomes] == ids and all(o.counts == {"lines": 2} for o in outcomes)
    assert len(seen) == 2  # the group's commit, then its acks marked delivered (per file: 2 each)
    check_invariants(tmp_path, settings.database_url, _digests(files))
    with db.transaction() as s:
        rows = list(s.scalars(select(SpoolFile)))
        acks = list(s.scalars(select(OutboundFile)))
    assert all(r.state == FileState.DONE and r.attempts == 1 and r.counts == {"lines": 2} for r in rows)
    assert len(acks) == 5 and not pipe.inflight and not pipe.ledger.claimed
    assert sorted(a.source for a in acks) == sorted(f"file:{i}" for i in ids)  # each ack is its file's


def test_a_file_that_is_not_plain_abandons_the_group_and_each_file_is_decided_alone(env, monkeypatch):
    settings, db, pipe = env()
    ch = settings.channels["drop"]
    files = {"a.txt": b"first\n", "bad.txt": b"ok\nFAIL here\n", "c.txt": b"third\n", "dup.txt": b"first\n"}
    ids = _claim(settings, pipe, files)
    with groups_of(monkeypatch) as groups:
        outcomes = together.process_many(pipe, ids)
    assert groups == [ids]  # tried together, then each on its own
    assert {o.name: o.state for o in outcomes} == {
        "a.txt": FileState.DONE, "bad.txt": FileState.ERROR, "c.txt": FileState.DONE, "dup.txt": FileState.DUPLICATE}
    report = json.loads((ch.error / "bad.txt.error.json").read_text())
    assert report["reason"] == "line 2 contains the fail marker" and report["code"] == "fail_marker"
    dup = json.loads((ch.error / "dup.txt.error.json").read_text())
    assert dup["code"] == "duplicate"
    with db.transaction() as s:
        rows = {r.original_name: r for r in s.scalars(select(SpoolFile))}
        acks = list(s.scalars(select(OutboundFile)))
    assert rows["dup.txt"].duplicate_of == rows["a.txt"].id
    assert all(r.attempts == 1 for r in rows.values())  # abandoning is not an attempt
    assert len(acks) == 2  # the abandoned group's acks were rolled back with it
    assert not list(ch.work.iterdir()) and not list(ch.inbox.iterdir())
    assert sorted(p.name for p in ch.processed.rglob("*.txt")) == ["a.txt", "c.txt"]
    assert sorted(p.name for p in ch.error.glob("*.txt")) == ["bad.txt", "dup.txt"]
    assert all(str(p) == rows[p.name].final_path for p in [*ch.processed.rglob("*.txt"), *ch.error.glob("*.txt")])


def test_an_empty_file_in_the_group_gets_the_per_file_report(env):
    settings, _db, pipe = env()
    ids = _claim(settings, pipe, {"x.txt": b"x\n", "e.txt": b"", "y.txt": b"y\n"})
    states = {o.name: o.state for o in together.process_many(pipe, ids)}
    assert states == {"x.txt": FileState.DONE, "e.txt": FileState.ERROR, "y.txt": FileState.DONE}
    report = json.loads((settings.channels["drop"].error / "e.txt.error.json").read_text())
    assert report["reason"] == "empty file"


def test_files_of_handlers_that_are_not_batchable_get_a_commit_each(env, tmp_path, monkeypatch):
    monkeypatch.setattr(FaultyArchiveHandler, "batchable", False)
    settings, db, pipe = env()
    files = {f"s{i}.txt": f"single {i}\n".encode() for i in range(3)}
    ids = _claim(settings, pipe, files)
    with groups_of(monkeypatch) as groups, commits(db) as seen:
        outcomes = together.process_many(pipe, ids)
    assert groups == [] and [o.state for o in outcomes] == [FileState.DONE] * 3
    assert len(seen) == 6  # each file's commit and its ack's
    check_invariants(tmp_path, settings.database_url, _digests(files))


def test_a_file_taken_over_after_an_interruption_is_never_grouped(env, monkeypatch):
    settings, db, pipe = env()
    ids = _claim(settings, pipe, {f"r{i}.txt": f"r {i}\n".encode() for i in range(4)})
    pipe.ledger.recovered.add(ids[1])
    with groups_of(monkeypatch) as groups:
        outcomes = together.process_many(pipe, ids)
    assert groups == [[ids[0], ids[2], ids[3]]]
    assert all(o.state == FileState.DONE for o in outcomes)
    with db.transaction() as s:
        attempts = {r.id: r.attempts for r in s.scalars(select(SpoolFile))}
    assert attempts[ids[1]] == 2 and attempts[ids[0]] == 1  # its new start was recorded on its own


def test_one_file_failing_alone_never_leaves_the_others_undecided(env, monkeypatch):
    settings, db, pipe = env()
    ids = _claim(settings, pipe, {"t0.txt": b"FAIL\n", "t1.txt": b"one\n", "t2.txt": b"two\n"})
    real = pipe.process

    def process(file_id):
        if file_id == ids[1]:
            raise Transient("database locked")
        return real(file_id)

    monkeypatch.setattr(pipe, "process", process)
    with pytest.raises(Transient):
        together.process_many(pipe, ids)
    with db.transaction() as s:
        states = {r.id: r.state for r in s.scalars(select(SpoolFile))}
    assert states == {ids[0]: FileState.ERROR, ids[1]: FileState.PROCESSING, ids[2]: FileState.DONE}


def test_a_commit_the_database_refuses_decides_each_file_alone(env, tmp_path, monkeypatch):
    settings, _db, pipe = env()
    files = {f"c{i}.txt": f"commit {i}\n".encode() for i in range(3)}
    ids = _claim(settings, pipe, files)
    failures = [RuntimeError("disk I/O error at commit")]
    real_commit = together.UnitOfWork.commit

    def commit(unit):
        if failures:
            unit.rollback()
            raise failures.pop()
        return real_commit(unit)

    monkeypatch.setattr(together.UnitOfWork, "commit", commit)
    outcomes = together.process_many(pipe, ids)
    assert [o.state for o in outcomes] == [FileState.DONE] * 3 and not failures
    check_invariants(tmp_path, settings.database_url, _digests(files))
