"""One SSH connection and its SFTP session: the pinned host key, the client key, the timeouts,
and the deadline that shuts a stalled attempt's socket down."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import paramiko

from spool.sftp.endpoint import SftpEndpoint
from spool.sftp.errors import Attempt, TransferError, TransferErrorCode


class Deadline:
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


class _UnknownHostKey(paramiko.SSHException):  # type: ignore[misc]  # paramiko ships no types
    pass


class _PinnedOnly(paramiko.RejectPolicy):  # type: ignore[misc]  # paramiko ships no types
    """paramiko's RejectPolicy, with an exception of our own to tell it from other SSH errors."""

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise _UnknownHostKey(f"{hostname} ({key.get_name()} {key.fingerprint}) is not in known_hosts")


class Connection:
    """One SSH connection and its SFTP session, built under a deadline."""

    def __init__(self, ep: SftpEndpoint, deadline: Deadline, pkey: paramiko.PKey) -> None:
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
            raise Attempt(TransferErrorCode.HOST_KEY_UNKNOWN,
                           f"cannot read known_hosts {ep.known_hosts}: {exc.strerror or exc}") from exc
        self.client.set_missing_host_key_policy(_PinnedOnly())
        try:
            sock = socket.create_connection((ep.host, ep.port), timeout=ep.connect_timeout)
        except TimeoutError as exc:
            raise Attempt(TransferErrorCode.TIMEOUT,
                           f"TCP connect to {ep.host}:{ep.port} timed out after {ep.connect_timeout:g} s") from exc
        except OSError as exc:
            raise Attempt(TransferErrorCode.CONNECT_FAILED,
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
            raise Attempt(TransferErrorCode.HOST_KEY_CHANGED,
                           f"host key of {ep.host}:{ep.port} ({exc.key.get_name()} "
                           f"{exc.key.fingerprint}) differs from the one pinned in {ep.known_hosts}: "
                           "refusing to connect") from exc
        except paramiko.AuthenticationException as exc:
            raise Attempt(TransferErrorCode.AUTH_FAILED,
                           f"authentication as {ep.user!r} failed: {exc}") from exc
        except _UnknownHostKey as exc:
            raise Attempt(TransferErrorCode.HOST_KEY_UNKNOWN,
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

    def lost(self, exc: BaseException) -> Attempt:
        """An exception while talking to the server, as the attempt's outcome."""
        if self.deadline.expired.is_set():
            return Attempt(TransferErrorCode.TIMEOUT,
                            f"attempt exceeded the transfer timeout of {self.deadline.seconds:g} s")
        if isinstance(exc, TimeoutError | socket.timeout):
            return Attempt(TransferErrorCode.TIMEOUT,
                            f"no answer from the server within the read timeout of {self.ep.read_timeout:g} s")
        if isinstance(exc, OSError) and self.alive():
            # paramiko turns an SFTP error status into an OSError on a healthy session.
            return Attempt(TransferErrorCode.REMOTE_ERROR, f"server refused: {exc}")
        return Attempt(TransferErrorCode.CONNECTION_LOST, f"connection lost: {type(exc).__name__}: {exc}")

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


class Link:
    """The connection of one public call: opened on demand, reused across files,
    dropped after a timeout or a cut so the next attempt starts on a fresh one."""

    def __init__(self, ep: SftpEndpoint, pkey: paramiko.PKey) -> None:
        self.ep = ep
        self.pkey = pkey
        self.conn: Connection | None = None

    @contextlib.contextmanager
    def attempt(self) -> Iterator[tuple[Connection, paramiko.SFTPClient]]:
        if self.conn is not None and not self.conn.alive():
            self.close()
        if self.conn is None:
            self.conn = Connection(self.ep, Deadline(self.ep.transfer_timeout), self.pkey)
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
        except Attempt as exc:
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

    def _drop_unless_healthy(self, outcome: Attempt) -> None:
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


def timeout_check(conn: Connection) -> None:
    if conn.deadline.expired.is_set():
        raise Attempt(TransferErrorCode.TIMEOUT,
                       f"attempt exceeded the transfer timeout of {conn.deadline.seconds:g} s")
