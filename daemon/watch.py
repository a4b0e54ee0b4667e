"""Inbox watches: one inotify observer for all channels, a polling observer where inotify cannot serve.

The watchdog handler only puts ``(channel, path)`` on intake's queue and returns; every decision
is intake's. A channel whose inbox cannot be watched is reported broken; the others go on.
"""

from __future__ import annotations

import errno
import logging
import queue
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from store.config import Channel

log = logging.getLogger("spoolgate.daemon")

#: what the watches put on intake's queue: the channel's name and the path an event named
Event = tuple[str, Path]


def os_reason(exc: BaseException) -> str:
    """An OS error as its reason alone (``Permission denied``), for one-line reports."""
    return exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc)


def shorten_move_grouping(delay_s: float = 0.02) -> None:
    """Every claim renames a file *out of* an inbox: an unpaired IN_MOVED_FROM, which watchdog
    holds at the head of its event FIFO for 0.5 s waiting for a partner that never comes, delaying
    every later event. Renames inside an inbox arrive in one read and still pair up; an unpaired
    moved-to is reported as a created file, which is all intake needs."""
    try:
        from watchdog.observers.inotify_move_event_grouper import InotifyMoveEventGrouper
    except ImportError:  # another watchdog layout: keep its default
        return
    if getattr(InotifyMoveEventGrouper, "delay", None) is not None:
        InotifyMoveEventGrouper.delay = delay_s


class Enqueue(FileSystemEventHandler):
    """The watchdog callback: put the path on the intake queue and return."""

    def __init__(self, channel: str, events: queue.SimpleQueue[Event]) -> None:
        self.channel = channel
        self.events = events

    def dispatch(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        path = event.dest_path if isinstance(event, FileMovedEvent) else event.src_path
        if path:
            self.events.put((self.channel, Path(str(path))))


class OverflowHook(logging.Handler):
    """watchdog only logs an inotify queue overflow; turn that into an immediate rescan."""

    def __init__(self, on_overflow: Callable[[], None]) -> None:
        super().__init__(logging.WARNING)
        self.on_overflow = on_overflow

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self.on_overflow()

    def install(self) -> None:
        for name in ("watchdog.observers.inotify_c", "watchdog.observers.inotify"):
            logging.getLogger(name).addHandler(self)


@dataclass
class _Watch:
    observer: BaseObserver
    watch: ObservedWatch | None
    inode: int | None


class Watches:
    """The watch of each channel's inbox, re-armed when the inbox is recreated.

    ``on_armed`` is called whenever a new watch starts: events before it were missed, so intake
    rescans.
    """

    def __init__(self, events: queue.SimpleQueue[Event], on_armed: Callable[[], None]) -> None:
        self.events = events
        self.on_armed = on_armed
        self._watches: dict[str, _Watch] = {}
        self._inotify: BaseObserver | None = None
        self._polling_only = False

    def arm(self, channels: Mapping[str, Channel], *, should_stop: Callable[[], bool],
            on_broken: Callable[[str, str], None]) -> None:
        """Watch every channel's inbox; one that cannot be watched is reported through ``on_broken``."""
        if self._inotify is None and not self._polling_only:
            shorten_move_grouping()
            try:
                self._inotify = Observer()
                self._inotify.daemon = True
                self._inotify.start()
            except OSError as exc:  # inotify instances or watches exhausted: poll rather than stop
                log.error("inotify unavailable (%s): every channel falls back to polling its inbox", os_reason(exc))
                self._inotify = None
                self._polling_only = True
        for name in list(self._watches):
            if name not in channels:
                self.disarm(name)
        for name, ch in channels.items():
            if should_stop():
                return
            try:
                self._arm_one(name, ch)
            except Exception as exc:
                self.disarm(name)
                on_broken(name, f"inbox {ch.inbox} cannot be watched: {os_reason(exc)}")

    def _arm_one(self, name: str, ch: Channel) -> None:
        try:
            st = ch.inbox.stat()
            inode: int | None = st.st_ino
        except FileNotFoundError:
            inode = None
        else:
            if not stat.S_ISDIR(st.st_mode):
                raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(ch.inbox))
        current = self._watches.get(name)
        if current is not None and current.inode == inode and current.watch is not None:
            return
        if current is not None:
            self.disarm(name)
        if inode is None:
            log.warning("channel %s: inbox %s does not exist; watching resumes when it is created", name, ch.inbox)
            self._watches[name] = _Watch(self._inotify or Observer(), None, None)
            return
        handler = Enqueue(name, self.events)
        if ch.polling or self._inotify is None:
            obs = self._polling(ch)
            watch = obs.schedule(handler, str(ch.inbox), recursive=False)
        else:
            obs = self._inotify
            try:
                watch = obs.schedule(handler, str(ch.inbox), recursive=False,
                                     event_filter=[FileCreatedEvent, FileMovedEvent, FileClosedEvent])
            except OSError as exc:
                if exc.errno not in (errno.ENOSPC, errno.EMFILE):
                    raise
                # inotify watches exhausted: this channel polls rather than stops
                log.error("channel %s: no inotify watch left (%s); polling its inbox", name, os_reason(exc))
                obs = self._polling(ch)
                watch = obs.schedule(handler, str(ch.inbox), recursive=False)
        self._watches[name] = _Watch(obs, watch, inode)
        if current is not None:
            log.info("channel %s: inbox %s re-armed (recreated)", name, ch.inbox)
        self.on_armed()

    @staticmethod
    def _polling(ch: Channel) -> BaseObserver:
        obs = PollingObserver(timeout=ch.poll_interval_s)
        obs.daemon = True
        obs.start()
        return obs

    def disarm(self, name: str) -> None:
        w = self._watches.pop(name, None)
        if w is None or w.watch is None:
            return
        try:
            w.observer.unschedule(w.watch)
        except (KeyError, OSError):
            pass
        if w.observer is not self._inotify:
            w.observer.stop()

    def shutdown(self) -> None:
        for w in self._watches.values():
            if w.observer is not self._inotify and w.watch is not None:
                w.observer.stop()
        self._watches.clear()
        if self._inotify is not None:
            self._inotify.stop()
            self._inotify.join(timeout=5)
            self._inotify = None
