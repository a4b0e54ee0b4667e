"""Named places where a test can make the process die as if by ``kill -9``.

Off unless ``SPOOLGATE_CRASHPOINT`` names the point (a comma-separated list is
allowed); used only by the crash-recovery tests, which run the real daemon.
"""

from __future__ import annotations

import os
import signal

_ARMED = frozenset(filter(None, os.environ.get("SPOOLGATE_CRASHPOINT", "").split(",")))


def crashpoint(name: str) -> None:
    if name in _ARMED:
        os.kill(os.getpid(), signal.SIGKILL)
