"""What a successful gpg operation proved or produced."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class EncryptResult:
    path: Path
    size: int
    sha256: str
    signed_by: str | None


@dataclass(frozen=True, slots=True)
class DecryptResult:
    """What a successful decryption proved.

    ``signature_valid`` is True only for a good signature by a key in the
    keyring; ``signer_fingerprint`` is the signer's primary key fingerprint.
    """

    path: Path
    size: int
    sha256: str
    signed: bool
    signature_valid: bool
    signer_fingerprint: str | None
    signer_uid: str | None


@dataclass(frozen=True, slots=True)
class ImportSummary:
    fingerprints: tuple[str, ...]
    imported: int
    unchanged: int
    secret_imported: int


@dataclass(frozen=True, slots=True)
class KeyInfo:
    fingerprint: str
    uids: tuple[str, ...]
    secret: bool
    expires: str | None


def norm_fpr(fpr: str) -> str:
    """A fingerprint as gpg prints it in status lines: no spaces, upper case."""
    return fpr.replace(" ", "").upper()
