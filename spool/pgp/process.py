"""Running gpg under a watchdog: every process of one call is tracked so a timeout kills exactly
those, and every ``[GNUPG:]`` status line is kept (python-gnupg keeps only a summary)."""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import subprocess
import threading
from typing import Any

import gnupg

#: how many of gpg's last human lines an error shows
STDERR_TAIL = 6


class ProcTracker:
    """The gpg processes of one watched call, so its watchdog kills exactly those.

    Once cancelled it refuses to start more (a call may run gpg several times).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: list[subprocess.Popen[bytes]] = []
        self._cancelled = False

    def start(self, cmd: list[str], env: dict[str, str] | None) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._cancelled:
                raise OSError("gpg call was cancelled by its timeout")
            # Own process group: a gpg wrapper script's children die with it.
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env, start_new_session=True)
            self._procs.append(proc)
            return proc

    def kill(self) -> None:
        with self._lock:
            self._cancelled = True
            procs = list(self._procs)
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)


class TimedGPG(gnupg.GPG):  # type: ignore[misc]  # python-gnupg ships no types
    """python-gnupg whose processes are started (and killable) through a tracker.

    Relies on python-gnupg 0.5's ``_open_subprocess`` being the one place a
    process is started, and on ``_handle_io`` (used directly so the result object,
    with its status, survives gpg closing its input early).
    """

    def __init__(self, tracker: ProcTracker, **kwargs: Any) -> None:
        self.tracker = tracker
        super().__init__(**kwargs)

    def _open_subprocess(self, args: list[str], passphrase: bool = False) -> subprocess.Popen[bytes]:
        return self.tracker.start(self.make_args(args, passphrase), self.env)

    def for_call(self, tracker: ProcTracker) -> TimedGPG:
        """A per-call copy: own tracker and ``on_data``, shared configuration."""
        clone = copy.copy(self)
        clone.tracker = tracker
        clone.on_data = None
        return clone


class Status:
    """Every ``[GNUPG:]`` status line of one call, in order (python-gnupg keeps only a summary)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def has(self, key: str) -> bool:
        return any(k == key for k, _ in self.lines)

    def first(self, key: str) -> str | None:
        return next((v for k, v in self.lines if k == key), None)

    def values(self, key: str) -> list[str]:
        return [v for k, v in self.lines if k == key]


def _recording(result_cls: type[Any]) -> type[Any]:
    class Recording(result_cls):  # type: ignore[misc]  # a python-gnupg result class (untyped)
        def __init__(self, gpg: gnupg.GPG) -> None:
            super().__init__(gpg)
            self.status_log = Status()

        def handle_status(self, key: str, value: str) -> None:
            self.status_log.lines.append((key, value))
            super().handle_status(key, value)

    return Recording


RecordingCrypt = _recording(gnupg.Crypt)
RecordingImport = _recording(gnupg.ImportResult)


def messages(stderr: str | None) -> list[str]:
    """gpg's human lines (not status lines), last few: the part worth showing an operator."""
    lines = [ln.strip() for ln in (stderr or "").splitlines()
             if ln.strip() and not ln.startswith("[GNUPG:]")]
    return lines[-STDERR_TAIL:]


class BytesReader:
    """A minimal binary reader python-gnupg can stream from."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._data) if n < 0 else min(len(self._data), self._pos + n)
        chunk = bytes(self._data[self._pos:end])
        self._pos = end
        return chunk

    def close(self) -> None:
        pass
