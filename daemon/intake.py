"""The intake thread: turns watch events and scans into complete files on the work queue.

It decides completeness (``spool/intake.py``), rescans on a timer and whenever a watch was
(re)armed or inotify overflowed, and takes a channel whose inbox breaks out of intake (and back
in once it is usable) without stopping the others. It never waits on the database, which is why
the supervisor holds it to a heartbeat.
"""

from __future__ import annotations

import heapq
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from daemon.threads import Crew, ServiceThread
from daemon.watch import Event, Watches, os_reason
from daemon.workqueue import Entry, WorkQueue
from spool import fsops
from spool.intake import CompletenessTracker, Verdict
from store.config import Channel, Completeness, Settings

log = logging.getLogger("spoolgate.daemon")


class Intake(ServiceThread):
    """Turns events and scans into complete files on the work queue.

    ``on_channel_state(name, reason)`` hears of a channel going down (with the reason) or back up
    (``None``); ``on_problem(where)`` of an entry skipped after logging it; ``on_tick()`` is called
    once per loop (gauges).
    """

    def __init__(self, crew: Crew, settings: Settings, work: WorkQueue, *,
                 on_channel_state: Callable[[str, str | None], None], on_problem: Callable[[str], None],
                 on_tick: Callable[[], None]) -> None:
        super().__init__("intake", crew)
        self.work = work
        self.on_channel_state = on_channel_state
        self.on_problem = on_problem
        self.on_tick = on_tick
        self.events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self.scan_now = threading.Event()
        self.watches = Watches(self.events, on_armed=self.scan_now.set)
        self.trackers: dict[str, CompletenessTracker[Channel]] = {}
        self._due: list[tuple[float, str, str]] = []
        #: entries found ready during one pass (a burst of events, a scan), queued together at its end
        self._found: dict[str, Entry] | None = None
        #: channels whose inbox cannot be watched or read, with the reason; the others go on
        self.down: dict[str, str] = {}
        self.configure(settings)

    def configure(self, settings: Settings) -> None:
        self.settings = settings
        self.trackers = {name: CompletenessTracker(ch) for name, ch in settings.channels.items() if ch.enabled}
        self.scan_now.set()

    # channels --------------------------------------------------------------------------------
    def arm(self) -> None:
        self.watches.arm({name: t.channel for name, t in self.trackers.items()},
                         should_stop=self.stopped.is_set, on_broken=self.channel_down)

    def channel_down(self, name: str, reason: str) -> None:
        """One channel's inbox is broken: that channel only stops taking files, with a report."""
        if name not in self.down:
            log.error("channel %s: intake stopped for this channel: %s; the other channels go on", name, reason)
            self.down[name] = reason
            self.on_channel_state(name, reason)

    def channel_up(self, name: str) -> None:
        if self.down.pop(name, None) is not None:
            log.warning("channel %s: inbox usable again, intake resumed", name)
            self.on_channel_state(name, None)
            self.watches.disarm(name)
            self.scan_now.set()

    # gauges ----------------------------------------------------------------------------------
    def oldest_waiting_s(self) -> float:
        return max([self.work.oldest_in_flight_s(), *(t.oldest_age() for t in self.trackers.values())])

    def pending_count(self) -> int:
        return sum(len(t) for t in self.trackers.values())

    # the loop --------------------------------------------------------------------------------
    def loop(self) -> None:
        tick = self.settings.tick_ms / 1000.0
        next_scan = 0.0
        while not self.stopped.is_set():
            self.beat()
            now = time.monotonic()
            timeout = max(0.0, min(tick * 4, next_scan - now, (self._due[0][0] - now) if self._due else tick * 4))
            with self.together():
                try:
                    channel, path = self.events.get(timeout=timeout)
                    self._observe_isolated(channel, path)
                    for _ in range(5000):
                        channel, path = self.events.get_nowait()
                        self._observe_isolated(channel, path)
                except queue.Empty:
                    pass
                now = time.monotonic()
                while self._due and self._due[0][0] <= now and not self.stopped.is_set():
                    _, channel, p = heapq.heappop(self._due)
                    path = Path(p)
                    if channel in self.trackers and path in self.trackers[channel].pending():
                        self._observe_isolated(channel, path)
            if now >= next_scan or self.scan_now.is_set():
                self.scan_now.clear()
                self.arm()
                self.full_scan()
                next_scan = time.monotonic() + self.settings.scan_interval_s
            self.on_tick()

    @contextmanager
    def together(self) -> Iterator[None]:
        """Entries found ready inside the block go on the work queue at its end, all at once."""
        if self._found is not None:  # nested: the outer block queues them
            yield
            return
        self._found = {}
        try:
            yield
        finally:
            found, self._found = list(self._found.values()), None
            self.work.put_many(found)

    def _queue(self, item: Entry) -> None:
        if self._found is None:
            self.work.put(item)
        else:
            self._found[str(item[2])] = item

    def full_scan(self) -> None:
        with self.together():
            self._scan()

    def _scan(self) -> None:
        for name, tracker in list(self.trackers.items()):
            try:
                entries = list(fsops.scan(tracker.channel.inbox, skip=self.work.in_flight))
            except OSError as exc:
                self.channel_down(name, f"inbox {tracker.channel.inbox} cannot be read: {os_reason(exc)}")
                continue
            if name in self.down and tracker.channel.inbox.is_dir():
                self.channel_up(name)
            for entry in entries:
                if self.stopped.is_set():
                    return
                try:
                    self.observe(name, entry.path, entry)
                except Exception as exc:  # one entry never stops the scan
                    log.error("channel %s: entry %s skipped: %s", name, fsops.escape_name(entry.name), exc)
                    self.on_problem("intake")

    def _observe_isolated(self, channel: str, path: Path) -> None:
        try:
            self.observe(channel, path)
        except Exception as exc:
            log.error("channel %s: entry %s skipped: %s", channel, fsops.escape_name(path.name), exc)
            self.on_problem("intake")

    def observe(self, channel: str, path: Path, entry: fsops.Entry | None = None) -> None:
        tracker = self.trackers.get(channel)
        if tracker is None or channel in self.down:
            return
        inbox = tracker.channel.inbox
        if os.path.dirname(str(path)) != str(inbox) and path.parent != inbox:  # the text first: cheap
            return
        if self.work.in_flight(path) or (self._found is not None and str(path) in self._found):
            return
        verdict = tracker.observe(path, entry)
        if verdict is Verdict.READY:
            self._queue(("claim", channel, path))
        elif verdict is Verdict.REFUSE:
            self._queue(("refuse", channel, path))
        elif verdict is Verdict.WAIT:
            ch = tracker.channel
            delay = tracker.wait_hint(path) if ch.completeness is Completeness.QUIET else 0.5
            heapq.heappush(self._due, (time.monotonic() + max(delay, 0.01), channel, str(path)))
        elif (verdict is Verdict.IGNORE and tracker.channel.completeness is Completeness.SIGNAL
              and tracker.channel.is_signal_name(path.name)):
            for p in tracker.pending():
                if path.name in tracker.channel.signal_names(p.name):
                    self.observe(channel, p)
