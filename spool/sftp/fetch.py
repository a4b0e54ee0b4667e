"""Downloads: every matching remote file lands in the inbox only complete (``spool.atomic``), is
recorded as fetched, then removed on the server, so none is fetched twice."""

from __future__ import annotations

import fnmatch
import logging
import posixpath
import stat
from collections.abc import Callable
from pathlib import Path

import paramiko

from spool.atomic import AtomicFile
from spool.sftp.connection import Link, timeout_check
from spool.sftp.endpoint import SftpEndpoint
from spool.sftp.errors import Attempt, TransferError, TransferErrorCode
from spool.sftp.registry import FetchedRegistry
from spool.sftp.results import DownloadedFile, DownloadReport
from spool.sftp.retry import Retrier

log = logging.getLogger("spool.sftp")

_CHUNK = 32 * 1024
#: names a partner may be writing right now: never fetched
_PARTIAL_PATTERNS = (".*", "*.part", "*.tmp", "*.filepart")


class Downloader:
    """The downloads of one public call of :class:`spool.sftp.SftpStage`."""

    def __init__(self, ep: SftpEndpoint, make_link: Callable[[], Link], retrier: Retrier) -> None:
        self.ep = ep
        self._link = make_link
        self._run = retrier.run

    def run(self, local_inbox: Path, fetched_registry: FetchedRegistry) -> DownloadReport:
        """Fetch every matching file of ``download_dir`` into ``local_inbox``.

        Per file: skip if the registry has it; download to a hidden temp file, fsync,
        link (never over an existing file), record it in the registry, then
        delete it on the server (when configured and allowed). A file that fails
        after all attempts is reported in ``failed`` and stays on the server.
        Listing the folder failing for good raises :class:`TransferError`.
        """
        report = DownloadReport()
        link = self._link()
        try:
            listing, _ = self._run("list", None, self.ep.download_dir, lambda _n: self._list(link))
            for attr in listing:
                self._download_one(link, attr, local_inbox, fetched_registry, report)
        finally:
            link.close()
        return report

    def _download_one(self, link: Link, attr: paramiko.SFTPAttributes, inbox: Path,
                      registry: FetchedRegistry, report: DownloadReport) -> None:
        name = attr.filename
        mtime = int(attr.st_mtime or 0)
        size = int(attr.st_size or 0)
        remote = posixpath.join(self.ep.download_dir, name)
        if registry.is_fetched(name, size, mtime):
            report.skipped.append(name)
            if self.ep.delete_after_download:
                self._try_remove(link, remote)
            return
        try:
            got, attempts = self._run("download", inbox / name, remote,
                                      lambda _n: self._fetch(link, remote, name, size, inbox))
        except TransferError as exc:
            log.error("%s", exc)
            report.failed.append(exc)
            return
        local_path, sha = got
        registry.mark_fetched(name, size, mtime, sha256=sha, local_path=local_path)
        deleted = self.ep.delete_after_download and self._try_remove(link, remote)
        report.fetched.append(DownloadedFile(name, local_path, size, mtime, sha, attempts, deleted))
        log.info("%s: downloaded %s (%d bytes)%s", self.ep.name, remote, size,
                 "" if deleted else "; kept on the server, recorded as fetched")

    def _list(self, link: Link) -> list[paramiko.SFTPAttributes]:
        with link.attempt() as (_conn, sftp):
            entries = sftp.listdir_attr(self.ep.download_dir)
        keep = [a for a in entries
                if a.st_mode is not None and stat.S_ISREG(a.st_mode)
                and fnmatch.fnmatchcase(a.filename, self.ep.download_pattern)
                and not any(fnmatch.fnmatchcase(a.filename, p) for p in _PARTIAL_PATTERNS)]
        return sorted(keep, key=lambda a: (a.st_mtime or 0, a.filename))

    def _fetch(self, link: Link, remote: str, name: str, size: int, inbox: Path) -> tuple[Path, str]:
        if "/" in name or name in (".", ".."):
            raise Attempt(TransferErrorCode.REMOTE_ERROR, f"server listed an unsafe name {name!r}")
        final = inbox / name
        try:
            out = AtomicFile(final, mode=0o640)  # hidden; recovery sweeps it if this process dies
        except OSError as exc:
            raise Attempt(TransferErrorCode.LOCAL_IO, f"cannot create a temporary file in {inbox}: "
                          f"{exc.strerror}") from exc
        with out:
            with link.attempt() as (conn, sftp), sftp.open(remote, "rb") as rf:
                rf.prefetch(size)
                while chunk := rf.read(_CHUNK):
                    out.write(chunk)
                    timeout_check(conn)
            if out.size != size:
                raise Attempt(TransferErrorCode.SIZE_MISMATCH,
                              f"received {out.size} bytes, the server listed {size}")
            try:
                out.publish()
            except FileExistsError:
                raise Attempt(TransferErrorCode.LOCAL_NAME_CONFLICT,
                              f"{final} already exists in the inbox; left on the server") from None
            except OSError as exc:
                raise Attempt(TransferErrorCode.LOCAL_IO, f"cannot place {final}: {exc.strerror}") from exc
        return final, out.sha256

    def _try_remove(self, link: Link, remote: str) -> bool:
        """Delete a fetched file on the server; False when refused or failing (the registry has it)."""
        try:
            with link.attempt() as (_conn, sftp):
                try:
                    sftp.remove(remote)
                except FileNotFoundError:
                    pass
            return True
        except Attempt as exc:
            log.warning("%s: %s not removed after download (%s); recorded as fetched",
                        self.ep.name, remote, exc.reason)
            return False
