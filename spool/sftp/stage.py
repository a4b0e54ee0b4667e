"""The SFTP stage of one endpoint: what handlers call."""

from __future__ import annotations

import posixpath
import time
from collections.abc import Callable
from pathlib import Path

import paramiko

from spool.sftp import put
from spool.sftp.connection import Link, load_key
from spool.sftp.endpoint import SftpEndpoint
from spool.sftp.fetch import Downloader
from spool.sftp.registry import FetchedRegistry
from spool.sftp.results import DownloadReport, UploadResult
from spool.sftp.retry import Retrier


class SftpStage:
    """Upload and download against one :class:`SftpEndpoint`.

    Each public call opens its own connection and closes it before returning;
    ``sleep`` is the backoff sleep (injectable so a caller can keep pinging a
    watchdog while it waits).
    """

    def __init__(self, endpoint: SftpEndpoint, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.ep = endpoint
        self._sleep = sleep
        self._pkey: paramiko.PKey | None = None

    def _link(self) -> Link:
        if self._pkey is None:
            self._pkey = load_key(self.ep)
        return Link(self.ep, self._pkey)

    def remote_size(self, remote_name: str) -> int | None:
        """Size of ``remote_name`` in the upload folder, None when absent (one attempt; raises on errors).

        Lets a caller that died during an upload ask whether the complete file already arrived.
        """
        link = self._link()
        try:
            with link.attempt() as (_conn, sftp):
                try:
                    return int(sftp.stat(posixpath.join(self.ep.upload_dir, remote_name)).st_size or 0)
                except FileNotFoundError:
                    return None
        finally:
            link.close()

    def upload(self, local_path: Path, remote_name: str | None = None) -> UploadResult:
        """Upload ``local_path`` as ``upload_dir/remote_name`` (default: the local name); see
        :func:`spool.sftp.put.upload`."""
        return put.upload(self.ep, self._link, Retrier(self.ep, self._sleep), local_path, remote_name)

    def download_all(self, local_inbox: Path, fetched_registry: FetchedRegistry) -> DownloadReport:
        """Fetch every matching file of ``download_dir`` into ``local_inbox``; see
        :meth:`spool.sftp.fetch.Downloader.run`."""
        return Downloader(self.ep, self._link, Retrier(self.ep, self._sleep)).run(local_inbox, fetched_registry)
