"""What an upload or a download run did."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from spool.sftp.errors import TransferError


@dataclass(frozen=True, slots=True)
class UploadResult:
    remote_path: str
    size: int
    attempts: int
    #: the server removed or moved the file right after the rename (it was consumed)
    vanished: bool
    #: a previous attempt's rename had in fact succeeded (found complete under the final name)
    already_present: bool = False


@dataclass(frozen=True, slots=True)
class DownloadedFile:
    remote_name: str
    local_path: Path
    size: int
    mtime: int
    sha256: str
    attempts: int
    #: deleted on the server; False: kept there and recorded in the registry
    remote_deleted: bool


@dataclass
class DownloadReport:
    fetched: list[DownloadedFile] = field(default_factory=list)
    #: already in the registry (kept on the server)
    skipped: list[str] = field(default_factory=list)
    failed: list[TransferError] = field(default_factory=list)
