"""SFTP stage (paramiko): upload and download with pinned host keys, timeouts and retries.

Why so careful: files here carry money. An upload appears on the server under
its final name once and complete (written to a temporary name, size verified,
then renamed; a partial upload is never resumed, it is written again). A
download lands in the inbox only complete (hidden ``.NAME.part``, fsync,
rename) and is never fetched twice (removed on the server, or recorded in a
registry when the server forbids deletes).

Every transfer runs in the caller's thread and is bounded three ways: the TCP
connect timeout, a read timeout on the SSH channel, and an overall deadline per
attempt enforced by a watchdog timer that shuts the socket down (a stalled
server cannot hold the caller past it). Failed attempts are retried with
exponential backoff and jitter (tenacity); after the last one a
:class:`TransferError` says why, for the caller to file into its error folder.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import logging
import os
import posixpath
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, TypeVar

import paramiko
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from spool import events, fsops

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

log = logging.getLogger(__name__)

T = TypeVar("T")
_CHUNK = 32 * 1024
#: names a partner may be writing right now: never fetched
_PARTIAL_PATTERNS = (".*", "*.part", "*.tmp", "*.filepart")


class SftpEndpoint(BaseModel):
    """One remote SFTP endpoint, as configured.

    The host key is pinned: only ``known_hosts`` is loaded (never the system or
    user files) and an unknown or changed key refuses the connection.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "sftp"
    host: str
    port: int = Field(default=22, ge=1, le=65535)
    user: str
    key_file: Path
    key_passphrase: SecretStr | None = None
    known_hosts: Path
    upload_dir: str = "."
    download_dir: str = "."
    download_pattern: str = "*"
    #: temporary remote name while uploading; ``{name}`` is the final name
    upload_temp_name: str = ".{name}.part"
    connect_timeout: float = Field(default=15.0, gt=0)
    read_timeout: float = Field(default=30.0, gt=0)
    #: overall limit for one attempt of one file (connect included)
    transfer_timeout: float = Field(default=600.0, gt=0)
    retry_max_attempts: int = Field(default=5, ge=1)
    backoff_min: float = Field(default=2.0, ge=0)
    backoff_max: float = Field(default=120.0, ge=0)
    #: remove downloaded files on the server; if False (or the server refuses),
    #: the registry records them as fetched
    delete_after_download: bool = True

    @field_validator("upload_temp_name")
    @classmethod
    def _temp_has_name(cls, v: str) -> str:
        if "{name}" not in v or "/" in v:
            raise ValueError("upload_temp_name must contain {name} and no '/'")
        return v

    @model_validator(mode="after")
    def _backoff_order(self) -> SftpEndpoint:
        if self.backoff_max < self.backoff_min:
            raise ValueError("backoff_max must be >= backoff_min")
        return self


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
_PERMANENT = frozenset({
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
        return self.code not in _PERMANENT

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


class _Attempt(Exception):
    """One attempt failed; carries the code tenacity decides on."""

    def __init__(self, code: TransferErrorCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class FetchedRegistry(Protocol):
    """Remembers downloaded remote files so a server that keeps them is not read twice.

    A file is identified by name, size and mtime (seconds): a new file under an
    old name is fetched again.
    """

    def is_fetched(self, name: str, size: int, mtime: int) -> bool: ...

    def mark_fetched(self, name: str, size: int, mtime: int, *, sha256: str, local_path: Path) -> None: ...


@dataclass
class MemoryFetchedRegistry:
    """In-memory :class:`FetchedRegistry` (tests; the daemon uses a DB-backed one)."""

    entries: dict[tuple[str, int, int], tuple[str, Path]] = field(default_factory=dict)

    def is_fetched(self, name: str, size: int, mtime: int) -> bool:
        return (name, size, mtime) in self.entries

    def mark_fetched(self, name: str, size: int, mtime: int, *, sha256: str, local_path: Path) -> None:
        self.entries[(name, size, mtime)] = (sha256, local_path)


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


class _Deadline:
    """Shuts the connection's socket down when an attempt's overall time is up.

    Shutting the socket down wakes any paramiko read blocked on it, in the
    caller's thread, with an error; nothing else is touched from the timer thread.
    Armed afresh for every attempt, so one connection can serve several files.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = threading.Event()
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def arm(self) -> None:
        self.disarm()
        self.expired.clear()
        self._timer = threading.Timer(self.seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            if self.expired.is_set():
                _shutdown(sock)

    def _fire(self) -> None:
        self.expired.set()
        with self._lock:
            if self._sock is not None:
                _shutdown(self._sock)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _UnknownHostKey(paramiko.SSHException):
    pass


class _PinnedOnly(paramiko.RejectPolicy):
    """paramiko's RejectPolicy, with an exception of our own to tell it from other SSH errors."""

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise _UnknownHostKey(f"{hostname} ({key.get_name()} {key.fingerprint}) is not in known_hosts")


class _Connection:
    """One SSH connection and its SFTP session, built under a deadline."""

    def __init__(self, ep: SftpEndpoint, deadline: _Deadline, pkey: paramiko.PKey) -> None:
        self.ep = ep
        self.deadline = deadline
        self.pkey = pkey
        self.client = paramiko.SSHClient()
        self.sftp: paramiko.SFTPClient | None = None

    def open(self) -> paramiko.SFTPClient:
        ep = self.ep
        try:
            self.client.load_host_keys(str(ep.known_hosts))
        except OSError as exc:
            raise _Attempt(TransferErrorCode.HOST_KEY_UNKNOWN,
                           f"cannot read known_hosts {ep.known_hosts}: {exc.strerror or exc}") from exc
        self.client.set_missing_host_key_policy(_PinnedOnly())
        try:
            sock = socket.create_connection((ep.host, ep.port), timeout=ep.connect_timeout)
        except TimeoutError as exc:
            raise _Attempt(TransferErrorCode.TIMEOUT,
                           f"TCP connect to {ep.host}:{ep.port} timed out after {ep.connect_timeout:g} s") from exc
        except OSError as exc:
            raise _Attempt(TransferErrorCode.CONNECT_FAILED,
                           f"cannot connect to {ep.host}:{ep.port}: {exc.strerror or exc}") from exc
        self.deadline.watch(sock)
        try:
            self.client.connect(ep.host, port=ep.port, username=ep.user, pkey=self.pkey, sock=sock,
                                timeout=ep.connect_timeout,
                                banner_timeout=ep.connect_timeout, auth_timeout=ep.connect_timeout,
                                channel_timeout=ep.connect_timeout, look_for_keys=False,
                                allow_agent=False)
            sftp = self.client.open_sftp()
        except paramiko.BadHostKeyException as exc:
            raise _Attempt(TransferErrorCode.HOST_KEY_CHANGED,
                           f"host key of {ep.host}:{ep.port} ({exc.key.get_name()} "
                           f"{exc.key.fingerprint}) differs from the one pinned in {ep.known_hosts}: "
                           "refusing to connect") from exc
        except paramiko.AuthenticationException as exc:
            raise _Attempt(TransferErrorCode.AUTH_FAILED,
                           f"authentication as {ep.user!r} failed: {exc}") from exc
        except _UnknownHostKey as exc:
            raise _Attempt(TransferErrorCode.HOST_KEY_UNKNOWN,
                           f"host {exc} (pinned file {ep.known_hosts}): refusing to connect") from exc
        except paramiko.SSHException as exc:
            raise self.lost(exc) from exc
        except OSError as exc:
            raise self.lost(exc) from exc
        channel = sftp.get_channel()
        assert channel is not None
        channel.settimeout(ep.read_timeout)
        self.sftp = sftp
        return sftp

    def lost(self, exc: BaseException) -> _Attempt:
        """An exception while talking to the server, as the attempt's outcome."""
        if self.deadline.expired.is_set():
            return _Attempt(TransferErrorCode.TIMEOUT,
                            f"attempt exceeded the transfer timeout of {self.deadline.seconds:g} s")
        if isinstance(exc, TimeoutError | socket.timeout):
            return _Attempt(TransferErrorCode.TIMEOUT,
                            f"no answer from the server within the read timeout of {self.ep.read_timeout:g} s")
        if isinstance(exc, OSError) and self.alive():
            # paramiko turns an SFTP error status into an OSError on a healthy session.
            return _Attempt(TransferErrorCode.REMOTE_ERROR, f"server refused: {exc}")
        return _Attempt(TransferErrorCode.CONNECTION_LOST, f"connection lost: {type(exc).__name__}: {exc}")

    def alive(self) -> bool:
        transport = self.client.get_transport()
        return self.sftp is not None and transport is not None and transport.is_active()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.sftp is not None:
                self.sftp.close()
        with contextlib.suppress(Exception):
            self.client.close()


def load_key(ep: SftpEndpoint) -> paramiko.PKey:
    """The client key, decrypted once (OpenSSH's bcrypt KDF is slow on purpose)."""
    passphrase = ep.key_passphrase.get_secret_value().encode() if ep.key_passphrase else None
    try:
        return paramiko.PKey.from_path(ep.key_file, password=passphrase)
    except (paramiko.PasswordRequiredException, TypeError) as exc:
        # cryptography raises TypeError for a protected key loaded without a password.
        reason = f"key file {ep.key_file} is encrypted and no passphrase is configured"
        raise TransferError(TransferErrorCode.KEY_UNUSABLE, reason, endpoint=ep.name,
                            operation="load-key") from exc
    except (paramiko.SSHException, ValueError) as exc:
        reason = f"cannot use key file {ep.key_file} (wrong passphrase or not a private key): {exc}"
        raise TransferError(TransferErrorCode.KEY_UNUSABLE, reason, endpoint=ep.name,
                            operation="load-key") from exc
    except OSError as exc:
        raise TransferError(TransferErrorCode.KEY_UNUSABLE, f"cannot read key file {ep.key_file}: {exc}",
                            endpoint=ep.name, operation="load-key") from exc


class _Link:
    """The connection of one public call: opened on demand, reused across files,
    dropped after a timeout or a cut so the next attempt starts on a fresh one."""

    def __init__(self, ep: SftpEndpoint, pkey: paramiko.PKey) -> None:
        self.ep = ep
        self.pkey = pkey
        self.conn: _Connection | None = None

    @contextlib.contextmanager
    def attempt(self) -> Iterator[tuple[_Connection, paramiko.SFTPClient]]:
        if self.conn is not None and not self.conn.alive():
            self.close()
        if self.conn is None:
            self.conn = _Connection(self.ep, _Deadline(self.ep.transfer_timeout), self.pkey)
            self.conn.deadline.arm()
            try:
                self.conn.open()
            except BaseException:
                self.close()
                raise
        else:
            self.conn.deadline.arm()
        conn = self.conn
        assert conn.sftp is not None
        try:
            yield conn, conn.sftp
        except _Attempt as exc:
            self._drop_unless_healthy(exc)
            raise
        except (OSError, EOFError, paramiko.SSHException) as exc:
            outcome = conn.lost(exc)
            self._drop_unless_healthy(outcome)
            raise outcome from exc
        except BaseException:
            self.close()
            raise
        finally:
            conn.deadline.disarm()

    def _drop_unless_healthy(self, outcome: _Attempt) -> None:
        """Keep the session after a refused operation; drop it after a timeout or a cut
        (a late answer to an abandoned request would confuse the next one)."""
        if outcome.code in (TransferErrorCode.TIMEOUT, TransferErrorCode.CONNECTION_LOST) \
                or self.conn is None or not self.conn.alive():
            self.close()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.deadline.disarm()
            self.conn.close()
            self.conn = None


def _timeout_check(conn: _Connection) -> None:
    if conn.deadline.expired.is_set():
        raise _Attempt(TransferErrorCode.TIMEOUT,
                       f"attempt exceeded the transfer timeout of {conn.deadline.seconds:g} s")


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

    def _link(self) -> _Link:
        if self._pkey is None:
            self._pkey = load_key(self.ep)
        return _Link(self.ep, self._pkey)

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

    def _run(self, operation: str, local: Path | None, remote: str | None,
             attempt: Callable[[int], T]) -> tuple[T, int]:
        """``attempt(number)`` under tenacity; the final failure as a :class:`TransferError`."""
        ep = self.ep
        number = 0

        def counted() -> T:
            nonlocal number
            number += 1
            return attempt(number)

        def log_retry(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning("%s %s %s: attempt %d failed (%s); retrying in %.1f s", ep.name, operation,
                        remote, state.attempt_number, exc,
                        state.next_action.sleep if state.next_action else 0.0)

        retrying = Retrying(
            stop=stop_after_attempt(ep.retry_max_attempts),
            wait=wait_random_exponential(multiplier=ep.backoff_min, min=ep.backoff_min, max=ep.backoff_max),
            retry=retry_if_exception(lambda e: isinstance(e, _Attempt) and e.code not in _PERMANENT),
            sleep=self._sleep,
            before_sleep=log_retry,
            reraise=True,
        )
        try:
            result = retrying(counted), number
        except _Attempt as exc:
            events.emit("sftp", ep.name, operation, "failure")
            reason = exc.reason if exc.code in _PERMANENT or number == 1 else \
                f"gave up after {number} attempts; last: {exc.reason}"
            raise TransferError(exc.code, reason, endpoint=ep.name, operation=operation,
                                local_path=local, remote_path=remote, attempts=number) from exc
        events.emit("sftp", ep.name, operation, "success")
        return result

    # -- upload --------------------------------------------------------------

    def upload(self, local_path: Path, remote_name: str | None = None) -> UploadResult:
        """Upload ``local_path`` as ``upload_dir/remote_name`` (default: the local name).

        Written to the temporary name (an old one is removed first: never
        resumed), size checked, then renamed. If the server removes the file right
        after the rename, that is success (``vanished``): the rename's success and
        the size checked on the temporary name are the proof.
        """
        name = remote_name or local_path.name
        if "/" in name or name in ("", ".", ".."):
            raise ValueError(f"remote name must be a bare file name: {name!r}")
        final = posixpath.join(self.ep.upload_dir, name)
        temp = posixpath.join(self.ep.upload_dir, self.ep.upload_temp_name.format(name=name))
        try:
            size = local_path.stat().st_size
        except OSError as exc:
            raise TransferError(TransferErrorCode.LOCAL_IO, f"cannot read {local_path}: {exc.strerror}",
                                endpoint=self.ep.name, operation="upload", local_path=local_path,
                                remote_path=final) from exc
        link = self._link()
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
                self._put(conn, sftp, local_path, temp)
                remote_size = sftp.stat(temp).st_size
                if remote_size != size:
                    with contextlib.suppress(OSError):
                        sftp.remove(temp)
                    raise _Attempt(TransferErrorCode.SIZE_MISMATCH,
                                   f"remote temporary file has {remote_size} bytes, local {size}")
                rename_uncertain = True
                self._rename(sftp, temp, final)
                rename_uncertain = False
                try:
                    after = sftp.stat(final)
                except FileNotFoundError:
                    return UploadResult(final, size, number, vanished=True)
                if after.st_size != size:
                    log.warning("%s: %s has %s bytes right after the rename (sent %d): changed by the server",
                                self.ep.name, final, after.st_size, size)
                return UploadResult(final, size, number, vanished=False)

        try:
            result, _ = self._run("upload", local_path, final, attempt)
        finally:
            link.close()
        log.info("%s: uploaded %s as %s (%d bytes, %d attempt(s)%s)", self.ep.name, local_path.name, final,
                 result.size, result.attempts, ", consumed by the server" if result.vanished else "")
        return result

    @staticmethod
    def _put(conn: _Connection, sftp: paramiko.SFTPClient, local_path: Path, temp: str) -> None:
        try:
            src = open(local_path, "rb")  # noqa: SIM115 (closed by the with below)
        except OSError as exc:
            raise _Attempt(TransferErrorCode.LOCAL_IO, f"cannot read {local_path}: {exc.strerror}") from exc
        with src, sftp.open(temp, "wb") as remote:
            remote.set_pipelined(True)
            while chunk := src.read(_CHUNK):
                remote.write(chunk)
                _timeout_check(conn)

    @staticmethod
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

    # -- download ------------------------------------------------------------

    def download_all(self, local_inbox: Path, fetched_registry: FetchedRegistry) -> DownloadReport:
        """Fetch every matching file of ``download_dir`` into ``local_inbox``.

        Per file: skip if the registry has it; download to ``.NAME.part``, fsync,
        rename (never over an existing file), record it in the registry, then
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

    def _download_one(self, link: _Link, attr: paramiko.SFTPAttributes, inbox: Path,
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

    def _list(self, link: _Link) -> list[paramiko.SFTPAttributes]:
        with link.attempt() as (_conn, sftp):
            entries = sftp.listdir_attr(self.ep.download_dir)
        keep = [a for a in entries
                if a.st_mode is not None and stat.S_ISREG(a.st_mode)
                and fnmatch.fnmatchcase(a.filename, self.ep.download_pattern)
                and not any(fnmatch.fnmatchcase(a.filename, p) for p in _PARTIAL_PATTERNS)]
        return sorted(keep, key=lambda a: (a.st_mtime or 0, a.filename))

    def _fetch(self, link: _Link, remote: str, name: str, size: int, inbox: Path) -> tuple[Path, str]:
        if "/" in name or name in (".", ".."):
            raise _Attempt(TransferErrorCode.REMOTE_ERROR, f"server listed an unsafe name {name!r}")
        part = fsops.temp_path(inbox / name)  # hidden; recovery sweeps it if this process dies
        final = inbox / name
        try:
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o640)
        except OSError as exc:
            raise _Attempt(TransferErrorCode.LOCAL_IO, f"cannot create {part}: {exc.strerror}") from exc
        digest = hashlib.sha256()
        got = 0
        try:
            with link.attempt() as (conn, sftp), sftp.open(remote, "rb") as rf:
                rf.prefetch(size)
                while chunk := rf.read(_CHUNK):
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(fd, view):]
                    digest.update(chunk)
                    got += len(chunk)
                    _timeout_check(conn)
            if got != size:
                raise _Attempt(TransferErrorCode.SIZE_MISMATCH, f"received {got} bytes, the server listed {size}")
            fsops.fsync(fd)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(part)
            fsops.temp_done(part)
            raise
        os.close(fd)
        try:
            os.link(part, final)
        except FileExistsError:
            os.unlink(part)
            raise _Attempt(TransferErrorCode.LOCAL_NAME_CONFLICT,
                           f"{final} already exists in the inbox; left on the server") from None
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(part)
            raise _Attempt(TransferErrorCode.LOCAL_IO, f"cannot place {final}: {exc.strerror}") from exc
        finally:
            fsops.temp_done(part)
        os.unlink(part)
        fsops.fsync_dir(inbox)
        return final, digest.hexdigest()

    def _try_remove(self, link: _Link, remote: str) -> bool:
        """Delete a fetched file on the server; False when refused or failing (the registry has it)."""
        try:
            with link.attempt() as (_conn, sftp):
                try:
                    sftp.remove(remote)
                except FileNotFoundError:
                    pass
            return True
        except _Attempt as exc:
            log.warning("%s: %s not removed after download (%s); recorded as fetched",
                        self.ep.name, remote, exc.reason)
            return False
