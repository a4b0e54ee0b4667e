"""Process-wide outcome events of the spool stages, for the daemon's metrics.

The stages run inside handlers and jobs, far from the daemon object that owns the metrics;
they report here and whoever listens (the daemon) counts. No listener: nothing happens.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("spoolgate.events")

#: ``(kind, labels)``: kind ``outbound`` (target, outcome) or ``sftp`` (endpoint, operation, outcome)
Listener = Callable[[str, tuple[str, ...]], None]

_listeners: list[Listener] = []
_lock = threading.Lock()


def subscribe(fn: Listener) -> None:
    with _lock:
        _listeners.append(fn)


def unsubscribe(fn: Listener) -> None:
    with _lock:
        if fn in _listeners:
            _listeners.remove(fn)


def emit(kind: str, *labels: str) -> None:
    """Never raises: a broken listener must not fail a transfer."""
    for fn in list(_listeners):
        try:
            fn(kind, labels)
        except Exception:
            log.warning("event listener failed for %s %s", kind, labels, exc_info=True)
