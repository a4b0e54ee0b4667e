"""SFTP stage (paramiko): upload and download with pinned host keys, timeouts and retries.

Why so careful: files here carry money. An upload appears on the server under
its final name once and complete (written to a temporary name, size verified,
then renamed; a partial upload is never resumed, it is written again). A
download lands in the inbox only complete (``spool.atomic``: hidden temp file,
fsync, link) and is never fetched twice (removed on the server, or recorded in a
registry when the server forbids deletes).

Every transfer runs in the caller's thread and is bounded three ways: the TCP
connect timeout, a read timeout on the SSH channel, and an overall deadline per
attempt enforced by a watchdog timer that shuts the socket down (a stalled
server cannot hold the caller past it). Failed attempts are retried with
exponential backoff and jitter (tenacity); after the last one a
:class:`TransferError` says why, for the caller to file into its error folder.

The package: ``stage`` (:class:`SftpStage`, what callers use), ``connection`` (the SSH connection,
host-key pinning, the client key, the per-attempt deadline), ``put`` (uploads), ``fetch``
(downloads), ``retry`` (attempts under tenacity), ``endpoint``, ``errors``, ``registry``, ``results``.
"""

from __future__ import annotations

from spool.sftp.endpoint import SftpEndpoint
from spool.sftp.errors import TransferError, TransferErrorCode
from spool.sftp.registry import FetchedRegistry, MemoryFetchedRegistry
from spool.sftp.results import DownloadedFile, DownloadReport, UploadResult
from spool.sftp.stage import SftpStage

__all__ = [
    "DownloadReport",
    "DownloadedFile",
    "FetchedRegistry",
    "MemoryFetchedRegistry",
    "SftpEndpoint",
    "SftpStage",
    "TransferError",
    "TransferErrorCode",
    "UploadResult",
]
