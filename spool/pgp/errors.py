"""What a failed gpg operation tells the caller: a stable code and the operator's reason."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any


class PgpErrorCode(StrEnum):
    TIMEOUT = "timeout"
    GPG_UNAVAILABLE = "gpg_unavailable"
    NOT_PGP = "not_pgp"
    NOT_ENCRYPTED = "not_encrypted"
    NO_SECRET_KEY = "no_secret_key"
    MISSING_PASSPHRASE = "missing_passphrase"
    BAD_PASSPHRASE = "bad_passphrase"
    CORRUPT_INPUT = "corrupt_input"
    UNSIGNED = "unsigned"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_SIGNER = "unknown_signer"
    UNTRUSTED_SIGNER = "untrusted_signer"
    INVALID_RECIPIENT = "invalid_recipient"
    INVALID_SIGNER = "invalid_signer"
    IMPORT_FAILED = "import_failed"
    IO_ERROR = "io_error"
    DESTINATION_EXISTS = "destination_exists"
    GPG_FAILED = "gpg_failed"


class PgpError(Exception):
    """A gpg operation failed; ``code`` is stable, ``reason`` is for the operator.

    Nothing of the failed operation's output exists any more when this is raised.
    """

    def __init__(self, code: PgpErrorCode, reason: str, *, operation: str,
                 path: Path | None = None, key_id: str | None = None,
                 returncode: int | None = None, gpg_messages: Sequence[str] = ()) -> None:
        where = f" ({path.name})" if path is not None else ""
        super().__init__(f"{operation}{where}: {code}: {reason}")
        self.code = code
        self.reason = reason
        self.operation = operation
        self.path = path
        self.key_id = key_id
        self.returncode = returncode
        self.gpg_messages = list(gpg_messages)

    def to_dict(self) -> dict[str, Any]:
        """For the ``NAME.error.json`` the core writes beside a failed file."""
        return {
            "stage": "pgp",
            "code": str(self.code),
            "reason": self.reason,
            "operation": self.operation,
            "file": str(self.path) if self.path else None,
            "key_id": self.key_id,
            "returncode": self.returncode,
            "gpg_messages": self.gpg_messages,
        }
