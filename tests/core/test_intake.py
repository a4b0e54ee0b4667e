"""Completeness decisions with controlled clocks: quiet period, ctime, signals, deny list, odd entries."""

from __future__ import annotations

import os
import time
from pathlib import Path

from spool.intake import CompletenessTracker, Verdict
from store.config import Channel


def _channel(tmp_path: Path, **over) -> Channel:
    base = {"inbox": tmp_path, "work": tmp_path / "w", "processed": tmp_path / "p", "error": tmp_path / "e",
            "quiet_ms": 2000}
    base.update(over)
    return Channel(**base)


class Clock:
    """Monotonic time under test control; wall time stays real so it matches the files' ctime."""

    def __init__(self) -> None:
        self.mono = 1000.0

    @property
    def wall(self) -> float:
        return time.time()

    def advance(self, s: float) -> None:
        self.mono += s


def test_quiet_period_waits_for_stillness(tmp_path):
    clock = Clock()
    t = CompletenessTracker(_channel(tmp_path), monotonic=lambda: clock.mono, wall=lambda: clock.wall)
    f = tmp_path / "a.dat"
    f.write_bytes(b"1")
    assert t.observe(f) is Verdict.WAIT  # fresh ctime, first sighting
    clock.advance(1.5)
    f.write_bytes(b"12")  # still being written: the clock restarts
    assert t.observe(f) is Verdict.WAIT
    clock.advance(1.5)
    assert t.observe(f) is Verdict.WAIT
    clock.advance(0.6)
    assert t.observe(f) is Verdict.READY


def test_old_file_present_at_start_is_ready_at_once(tmp_path):
    t = CompletenessTracker(_channel(tmp_path, quiet_ms=200))
    f = tmp_path / "old.dat"
    f.write_bytes(b"x")
    os.utime(f, (0, 0))  # an ancient mtime alone proves nothing: ctime is fresh
    assert t.observe(f) is Verdict.WAIT
    time.sleep(0.25)
    assert t.observe(f) is Verdict.READY


def test_future_mtime_does_not_skip_the_quiet_period(tmp_path):
    clock = Clock()
    t = CompletenessTracker(_channel(tmp_path), monotonic=lambda: clock.mono, wall=lambda: clock.wall)
    f = tmp_path / "future.dat"
    f.write_bytes(b"x")
    future = time.time() + 10 * 86400
    os.utime(f, (future, future))
    assert t.observe(f) is Verdict.WAIT
    clock.advance(2.1)
    assert t.observe(f) is Verdict.READY


def test_signal_mode(tmp_path):
    t = CompletenessTracker(_channel(tmp_path, completeness="signal", signal_patterns=("{name}.ok", "{stem}.sig")))
    f = tmp_path / "pay.ach"
    f.write_bytes(b"x")
    assert t.observe(f) is Verdict.WAIT
    (tmp_path / "pay.sig").write_bytes(b"")
    assert t.observe(f) is Verdict.READY
    assert t.observe(tmp_path / "pay.sig") is Verdict.IGNORE
    assert t.observe(tmp_path / "pay.ach.ok") is Verdict.IGNORE


def test_deny_list_links_and_folders(tmp_path):
    t = CompletenessTracker(_channel(tmp_path))
    for name in (".x", "a.tmp", "a.part", "a.filepart", "a.partial", "a.writing", "a.inprogress"):
        (tmp_path / name).write_bytes(b"x")
        assert t.observe(tmp_path / name) is Verdict.IGNORE, name
    os.symlink("/etc/passwd", tmp_path / "link")
    assert t.observe(tmp_path / "link") is Verdict.REFUSE
    os.mkfifo(tmp_path / "fifo")
    assert t.observe(tmp_path / "fifo") is Verdict.REFUSE
    (tmp_path / "sub").mkdir()
    assert t.observe(tmp_path / "sub") is Verdict.IGNORE
    assert t.observe(tmp_path / "vanished") is Verdict.GONE
