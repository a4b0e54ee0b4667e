"""Attempts of one operation under tenacity: exponential backoff with jitter, permanent causes not
retried, and the last failure as a :class:`TransferError`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from spool import events
from spool.sftp.endpoint import SftpEndpoint
from spool.sftp.errors import PERMANENT, Attempt, TransferError

log = logging.getLogger("spool.sftp")

T = TypeVar("T")


class Retrier:
    """Runs attempts against one endpoint; ``sleep`` is the backoff sleep."""

    def __init__(self, ep: SftpEndpoint, sleep: Callable[[float], None]) -> None:
        self.ep = ep
        self._sleep = sleep

    def run(self, operation: str, local: Path | None, remote: str | None,
             attempt: Callable[[int], T]) -> tuple[T, int]:
        """``attempt(number)`` under tenacity; the final failure as a :class:`TransferError`."""
        ep = self.ep
        number = 0

        def counted() -> T:
            nonlocal number
            number += 1
            return attempt(number)

        def log_retry(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning("%s %s %s: attempt %d failed (%s); retrying in %.1f s", ep.name, operation,
                        remote, state.attempt_number, exc,
                        state.next_action.sleep if state.next_action else 0.0)

        retrying = Retrying(
            stop=stop_after_attempt(ep.retry_max_attempts),
            wait=wait_random_exponential(multiplier=ep.backoff_min, min=ep.backoff_min, max=ep.backoff_max),
            retry=retry_if_exception(lambda e: isinstance(e, Attempt) and e.code not in PERMANENT),
            sleep=self._sleep,
            before_sleep=log_retry,
            reraise=True,
        )
        try:
            result = retrying(counted), number
        except Attempt as exc:
            events.emit("sftp", ep.name, operation, "failure")
            reason = exc.reason if exc.code in PERMANENT or number == 1 else \
                f"gave up after {number} attempts; last: {exc.reason}"
            raise TransferError(exc.code, reason, endpoint=ep.name, operation=operation,
                                local_path=local, remote_path=remote, attempts=number) from exc
        events.emit("sftp", ep.name, operation, "success")
        return result
