"""Uploads: written to a temporary remote name (never resumed), size checked, then renamed, so the
file appears on the server under its final name once and complete."""

from __future__ import annotations

import contextlib
import logging
import posixpath
from collections.abc import Callable
from pathlib import Path

import paramiko

from spool.sftp.connection import Connection, Link, timeout_check
from spool.sftp.endpoint import SftpEndpoint
from spool.sftp.errors import Attempt, TransferError, TransferErrorCode
from spool.sftp.results import UploadResult
from spool.sftp.retry import Retrier

log = logging.getLogger("spool.sftp")

_CHUNK = 32 * 1024


def upload(ep: SftpEndpoint, make_link: Callable[[], Link], retrier: Retrier, local_path: Path,
           remote_name: str | None = None) -> UploadResult:
    """Upload ``local_path`` as ``upload_dir/remote_name`` (default: the local name).

    Written to the temporary name (an old one is removed first: never
    resumed), size checked, then renamed. If the server removes the file right
    after the rename, that is success (``vanished``): the rename's success and
    the size checked on the temporary name are the proof.
    """
    name = remote_name or local_path.name
    if "/" in name or name in ("", ".", ".."):
        raise ValueError(f"remote name must be a bare file name: {name!r}")
    final = posixpath.join(ep.upload_dir, name)
    temp = posixpath.join(ep.upload_dir, ep.upload_temp_name.format(name=name))
    try:
        size = local_path.stat().st_size
    except OSError as exc:
        raise TransferError(TransferErrorCode.LOCAL_IO, f"cannot read {local_path}: {exc.strerror}",
                            endpoint=ep.name, operation="upload", local_path=local_path,
                            remote_path=final) from exc
    link = make_link()
    rename_uncertain = False

    def attempt(number: int) -> UploadResult:
        nonlocal rename_uncertain
        with link.attempt() as (conn, sftp):
            if rename_uncertain:
                # The last attempt died around its rename, which may have happened.
                with contextlib.suppress(FileNotFoundError):
                    if sftp.stat(final).st_size == size:
                        return UploadResult(final, size, number, vanished=False, already_present=True)
            with contextlib.suppress(FileNotFoundError):
                sftp.remove(temp)
            _put(conn, sftp, local_path, temp)
            remote_size = sftp.stat(temp).st_size
            if remote_size != size:
                with contextlib.suppress(OSError):
                    sftp.remove(temp)
                raise Attempt(TransferErrorCode.SIZE_MISMATCH,
                               f"remote temporary file has {remote_size} bytes, local {size}")
            rename_uncertain = True
            _rename(sftp, temp, final)
            rename_uncertain = False
            try:
                after = sftp.stat(final)
            except FileNotFoundError:
                return UploadResult(final, size, number, vanished=True)
            if after.st_size != size:
                log.warning("%s: %s has %s bytes right after the rename (sent %d): changed by the server",
                            ep.name, final, after.st_size, size)
            return UploadResult(final, size, number, vanished=False)

    try:
        result, _ = retrier.run("upload", local_path, final, attempt)
    finally:
        link.close()
    log.info("%s: uploaded %s as %s (%d bytes, %d attempt(s)%s)", ep.name, local_path.name, final,
             result.size, result.attempts, ", consumed by the server" if result.vanished else "")
    return result


def _put(conn: Connection, sftp: paramiko.SFTPClient, local_path: Path, temp: str) -> None:
    try:
        src = open(local_path, "rb")  # noqa: SIM115 (closed by the with below)
    except OSError as exc:
        raise Attempt(TransferErrorCode.LOCAL_IO, f"cannot read {local_path}: {exc.strerror}") from exc
    with src, sftp.open(temp, "wb") as remote:
        remote.set_pipelined(True)
        while chunk := src.read(_CHUNK):
            remote.write(chunk)
            timeout_check(conn)


def _rename(sftp: paramiko.SFTPClient, temp: str, final: str) -> None:
    try:
        sftp.posix_rename(temp, final)
        return
    except OSError as exc:
        if isinstance(exc, FileNotFoundError | PermissionError):
            raise
        # posix-rename@openssh.com unsupported: a plain rename, which will not replace.
    with contextlib.suppress(FileNotFoundError):
        sftp.remove(final)
    sftp.rename(temp, final)

