"""How long the pipeline keeps retrying a transient failure, as one value.

Transient: the database down or locked, the disk full, a handler's ``RetryLater``. The
file stays claimed meanwhile; when the deadline passes (or the daemon stops) the error is
raised and the file waits in work/ for the next recovery pass. A handler's
``RetryLater.delay_s`` is honoured as the wait before the next attempt, within the deadline.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_delay
from tenacity.stop import stop_base

from handlers.base import RetryLater
from spool import fsops
from store.config import Settings
from store.db import is_transient

log = logging.getLogger("spoolgate.pipeline")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: ``min(first * 2**(n-1) + U(0, jitter), max)``."""

    first_delay_s: float = 0.2
    max_delay_s: float = 10.0
    #: retries stop once this long has passed since the first attempt
    deadline_s: float = 120.0
    jitter_s: float = 1.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        """The deadline is configured (``transient_retry_s``); the backoff shape is not."""
        return cls(deadline_s=settings.transient_retry_s)

    def delay(self, attempt: int, exc: BaseException | None, elapsed_s: float,
              rand: Callable[[float, float], float] = random.uniform) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based)."""
        if isinstance(exc, RetryLater):
            return max(0.0, min(exc.delay_s, self.deadline_s - elapsed_s))
        try:
            backoff = self.first_delay_s * 2 ** (attempt - 1)
        except OverflowError:
            backoff = self.max_delay_s
        return max(0.0, min(backoff + rand(0, self.jitter_s), self.max_delay_s))


def retryable(exc: BaseException) -> bool:
    """Worth another attempt while the file stays claimed."""
    return is_transient(exc) or isinstance(exc, RetryLater) or fsops.is_transient_os(exc)


class _StopWhen(stop_base):
    """Stops retrying once the daemon is shutting down (the file stays claimed for the next start)."""

    def __init__(self, predicate: Callable[[], bool]) -> None:
        self.predicate = predicate

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.predicate()


def retrying(policy: RetryPolicy, what: str, should_stop: Callable[[], bool],
             describe: Callable[[BaseException], str] = str,
             sleep: Callable[[float], None] | None = None) -> Retrying:
    """A tenacity loop for one step: ``for attempt in retrying(...): with attempt: ...``.

    ``sleep`` waits between attempts (default: in short steps, ending early when ``should_stop``)."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return policy.delay(state.attempt_number, exc, state.seconds_since_start or 0.0)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning("%s: transient error, retrying (attempt %d): %s", what, state.attempt_number,
                    describe(exc) if exc is not None else "")

    def nap(seconds: float) -> None:
        """Wakes early when the daemon stops, so a long ``RetryLater`` never delays a shutdown."""
        end = time.monotonic() + seconds
        while not should_stop():
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(0.1, left))

    stop: Any = stop_after_delay(policy.deadline_s) | _StopWhen(should_stop)
    return Retrying(retry=retry_if_exception(retryable), wait=wait, stop=stop, before_sleep=before_sleep,
                    sleep=sleep or nap, reraise=True)
