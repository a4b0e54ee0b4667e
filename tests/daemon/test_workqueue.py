"""The worker queue: claimed files before new claims, claim runs of one channel only, the in-flight set."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from daemon.workqueue import WorkQueue
from tests.support import wait_for


def test_claim_runs_stay_within_one_channel_and_batch_size():
    q = WorkQueue()
    for i in range(5):
        q.put(("claim", "a", Path(f"/in/a{i}")))
    q.put(("claim", "b", Path("/in/b0")))
    q.put(("refuse", "a", Path("/in/link")))
    q.put(("claim", "a", Path("/in/a5")))
    assert [p.name for _, _, p in q.get(0.01, batch=3)] == ["a0", "a1", "a2"]
    assert [p.name for _, _, p in q.get(0.01, batch=32)] == ["a3", "a4"]
    assert q.get(0.01, batch=32) == [("claim", "b", Path("/in/b0"))]
    assert q.get(0.01, batch=32) == [("refuse", "a", Path("/in/link"))]  # never batched with claims
    assert q.get(0.01, batch=32) == [("claim", "a", Path("/in/a5"))]
    assert q.get(0.01) == [] and q.qsize() == 0


def test_claimed_files_are_taken_several_at_a_time_up_to_files():
    q = WorkQueue()
    q.put(("claim", "a", Path("/in/x")))
    q.put_files([1, 2, 3, 4, 5])
    assert q.get(0.01, batch=32, files=3) == [("file", 1), ("file", 2), ("file", 3)]
    assert q.get(0.01, batch=32, files=3) == [("file", 4), ("file", 5)]  # never waits to fill a group
    assert q.get(0.01, batch=32, files=3) == [("claim", "a", Path("/in/x"))]


def test_claimed_files_go_before_new_claims_and_wake_idle_workers():
    q = WorkQueue()
    q.put(("claim", "a", Path("/in/x")))
    q.put_files([7, 8])
    q.put_files([9])
    assert [q.get(0.01) for _ in range(4)] == [[("file", 7)], [("file", 8)], [("file", 9)],
                                               [("claim", "a", Path("/in/x"))]]
    got: list[list[tuple]] = []
    waiter = threading.Thread(target=lambda: got.append(q.get(5.0)))
    waiter.start()
    time.sleep(0.05)
    started = time.monotonic()
    q.put_files([11])
    waiter.join(4.5)
    # woken by the put, not by its own 5 s timeout (a generous bound: CI shares 2 cores)
    assert got == [[("file", 11)]] and time.monotonic() - started < 4.0
    assert q.take_files() == [] and q.qsize() == 0


def test_take_files_empties_only_the_claimed_lane():
    q = WorkQueue()
    q.put_files([1, 2, 3])
    q.put(("claim", "a", Path("/in/y")))
    assert q.take_files() == [1, 2, 3]
    assert q.get(0.01) == [("claim", "a", Path("/in/y"))]


def test_an_entry_is_in_flight_from_put_until_released():
    """A rescan skips what is in flight, so one inbox entry is never queued twice."""
    q = WorkQueue()
    path = Path("/in/a")
    assert not q.in_flight(path) and q.oldest_in_flight_s() == 0.0
    q.put(("claim", "a", path))
    assert q.in_flight(path) and q.in_flight(str(path))  # the scan's skip hook gives a str
    assert q.get(0.01) == [("claim", "a", path)]
    assert q.in_flight(path), "taken by a worker is not released: the claim may still fail"
    assert q.oldest_in_flight_s() >= 0.0
    q.release(path)
    assert not q.in_flight(path) and q.oldest_in_flight_s() == 0.0
    q.release(path)  # releasing twice is harmless


def test_the_oldest_in_flight_entry_ages_until_released():
    q = WorkQueue()
    q.put(("claim", "a", Path("/in/old")))
    first = q.oldest_in_flight_s()
    wait_for(lambda: q.oldest_in_flight_s() > first, 5, what="the entry to age")
    q.put(("refuse", "a", Path("/in/new")))
    aged = q.oldest_in_flight_s()
    assert aged > first
    q.release(Path("/in/old"))
    assert q.oldest_in_flight_s() < aged
