"""Why a transfer failed: a stable code, whether retrying can help, the operator's reason."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any


class TransferErrorCode(StrEnum):
    HOST_KEY_UNKNOWN = "host_key_unknown"
    HOST_KEY_CHANGED = "host_key_changed"
    AUTH_FAILED = "auth_failed"
    KEY_UNUSABLE = "key_unusable"
    CONNECT_FAILED = "connect_failed"
    TIMEOUT = "timeout"
    CONNECTION_LOST = "connection_lost"
    REMOTE_ERROR = "remote_error"
    SIZE_MISMATCH = "size_mismatch"
    LOCAL_IO = "local_io"
    LOCAL_NAME_CONFLICT = "local_name_conflict"


#: retrying these cannot help (configuration or security problems)
PERMANENT = frozenset({
    TransferErrorCode.HOST_KEY_UNKNOWN, TransferErrorCode.HOST_KEY_CHANGED, TransferErrorCode.AUTH_FAILED,
    TransferErrorCode.KEY_UNUSABLE, TransferErrorCode.LOCAL_IO, TransferErrorCode.LOCAL_NAME_CONFLICT,
})


class TransferError(Exception):
    """A transfer failed for good (permanent cause, or every attempt failed)."""

    def __init__(self, code: TransferErrorCode, reason: str, *, endpoint: str, operation: str,
                 local_path: Path | None = None, remote_path: str | None = None, attempts: int = 1) -> None:
        super().__init__(f"{endpoint} {operation}: {code}: {reason}")
        self.code = code
        self.reason = reason
        self.endpoint = endpoint
        self.operation = operation
        self.local_path = local_path
        self.remote_path = remote_path
        self.attempts = attempts

    @property
    def retryable(self) -> bool:
        return self.code not in PERMANENT

    def to_dict(self) -> dict[str, Any]:
        """For the ``NAME.error.json`` the core writes beside a failed file."""
        return {
            "stage": "sftp",
            "code": str(self.code),
            "reason": self.reason,
            "endpoint": self.endpoint,
            "operation": self.operation,
            "local_path": str(self.local_path) if self.local_path else None,
            "remote_path": self.remote_path,
            "attempts": self.attempts,
        }


class Attempt(Exception):
    """One attempt failed; carries the code tenacity decides on."""

    def __init__(self, code: TransferErrorCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
