"""The intake thread's decisions, called directly: ready files queued once, odd entries refused,
a broken inbox reported once and taken back when usable."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from daemon.intake import Intake
from daemon.threads import Crew
from daemon.workqueue import WorkQueue
from store.config import Settings
from tests.support import archive_config


class Reports:
    def __init__(self) -> None:
        self.states: list[tuple[str, str | None]] = []
        self.problems: list[str] = []


def _intake(tmp_path: Path, **over: Any) -> tuple[Intake, WorkQueue, Reports, Path]:
    """Signal completeness: a file is ready the moment its ``.ok`` is there (no clock involved)."""
    over.setdefault("channel", {"completeness": "signal", "signal_patterns": ["{name}.ok"]})
    settings = Settings(**archive_config(tmp_path, f"sqlite:///{tmp_path}/unused.db", **over))
    inbox = settings.channels["drop"].inbox
    inbox.mkdir(parents=True)
    work, reports = WorkQueue(), Reports()
    intake = Intake(Crew(), settings, work, on_channel_state=lambda n, r: reports.states.append((n, r)),
                    on_problem=reports.problems.append, on_tick=lambda: None)
    return intake, work, reports, inbox


def test_a_ready_file_is_queued_once_until_released(tmp_path):
    intake, work, _reports, inbox = _intake(tmp_path)
    (inbox / "pay.txt").write_bytes(b"x\n")
    intake.full_scan()
    assert work.qsize() == 0 and intake.pending_count() == 1  # waits for its signal
    (inbox / "pay.txt.ok").write_bytes(b"")
    intake.full_scan()
    intake.full_scan()  # a rescan while it is in flight queues nothing more
    intake.observe("drop", inbox / "pay.txt")  # nor does a late watch event
    assert work.get(0.01, batch=10) == [("claim", "drop", inbox / "pay.txt")]
    assert work.qsize() == 0 and work.in_flight(inbox / "pay.txt")
    work.release(inbox / "pay.txt")
    (inbox / "pay.txt").unlink()
    intake.full_scan()
    assert work.qsize() == 0


def test_a_symlink_is_queued_for_refusal_and_unknown_channels_are_ignored(tmp_path):
    intake, work, reports, inbox = _intake(tmp_path)
    os.symlink("/etc/passwd", inbox / "link")
    intake.observe("nosuch", inbox / "link")
    intake.observe("drop", tmp_path / "link")  # not in the channel's inbox
    assert work.qsize() == 0
    intake.full_scan()
    assert work.get(0.01, batch=10) == [("refuse", "drop", inbox / "link")]
    assert reports.problems == []


def test_a_broken_inbox_is_reported_once_and_taken_back_when_usable(tmp_path):
    intake, work, reports, inbox = _intake(tmp_path)
    shutil.rmtree(inbox)
    inbox.write_bytes(b"not a folder")
    intake.full_scan()
    intake.full_scan()
    assert reports.states == [("drop", f"inbox {inbox} cannot be read: Not a directory")]
    assert list(intake.down) == ["drop"]
    (inbox.parent / "pay.txt").write_bytes(b"x")
    intake.observe("drop", inbox / "pay.txt")  # a down channel takes nothing
    inbox.unlink()
    inbox.mkdir()
    (inbox / "pay.txt").write_bytes(b"x\n")
    (inbox / "pay.txt.ok").write_bytes(b"")
    intake.full_scan()
    assert reports.states[-1] == ("drop", None) and intake.down == {}
    intake.full_scan()
    assert work.get(0.01, batch=10) == [("claim", "drop", inbox / "pay.txt")]


def test_ready_files_found_in_one_pass_are_queued_at_once(tmp_path, monkeypatch):
    """A worker woken by the first must find them all, so they are claimed and decided together."""
    intake, work, _reports, inbox = _intake(tmp_path)
    for i in range(4):
        (inbox / f"f{i}.txt").write_bytes(b"x\n")
        (inbox / f"f{i}.txt.ok").write_bytes(b"")
    queued: list[int] = []
    put_many = work.put_many

    def put_many_counted(items: list[Any]) -> None:
        queued.append(len(items))
        put_many(items)

    monkeypatch.setattr(work, "put", lambda item: queued.append(-1))
    monkeypatch.setattr(work, "put_many", put_many_counted)
    intake.full_scan()
    assert queued == [4]
    with intake.together():
        intake.observe("drop", inbox / "f0.txt")  # in flight: nothing more
        (inbox / "g.txt").write_bytes(b"y\n")
        (inbox / "g.txt.ok").write_bytes(b"")
        intake.observe("drop", inbox / "g.txt")
        intake.observe("drop", inbox / "g.txt")  # twice in one pass: queued once
        assert work.qsize() == 4
    assert queued == [4, 1] and work.qsize() == 5
    assert sorted(p.name for _, _, p in work.get(0.01, batch=10)) == ["f0.txt", "f1.txt", "f2.txt", "f3.txt", "g.txt"]
