"""PGP stage: a small typed wrapper on python-gnupg for the CheckFree channel.

Why a wrapper: python-gnupg has no timeout, returns untyped status soup, and
leaves partial output behind on failure. Here every gpg run is watched by a
timer that kills gpg's whole process group, every failure is a
:class:`PgpError` with a stable ``code``, and output goes to a hidden
temporary name in the destination folder that is fsynced and renamed only when
gpg reported success (removed otherwise), so plaintext never exists anywhere
but where the caller asked, and only when it is complete.

Data is streamed in both directions (python-gnupg copies the input in a
thread; gpg's stdout is written to the output file chunk by chunk), so memory
stays bounded whatever the file size.

The GnuPG home's path should stay short (gpg-agent's socket lives inside it
unless ``/run/user/<uid>`` exists; a Unix socket path has ~107 bytes).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import gnupg

from spool import fsops

__all__ = [
    "DecryptResult",
    "EncryptResult",
    "ImportSummary",
    "KeyInfo",
    "PgpError",
    "PgpErrorCode",
    "PgpHome",
]

T = TypeVar("T")

DEFAULT_TIMEOUT = 600.0
#: after a kill, how long to wait for python-gnupg's threads to notice
_KILL_GRACE = 5.0
_CHUNK = 1 << 16
_STDERR_TAIL = 6

#: gpg-agent settings the daemon relies on: loopback passphrases, and no
#: passphrase cache (a cached passphrase would hide a missing one in config).
_AGENT_CONF = ("allow-loopback-pinentry", "default-cache-ttl 0", "max-cache-ttl 0")


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


def _norm_fpr(fpr: str) -> str:
    return fpr.replace(" ", "").upper()


class _ProcTracker:
    """The gpg processes of one watched call, so its watchdog kills exactly those.

    Once cancelled it refuses to start more (a call may run gpg several times).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: list[subprocess.Popen[bytes]] = []
        self._cancelled = False

    def start(self, cmd: list[str], env: dict[str, str] | None) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._cancelled:
                raise OSError("gpg call was cancelled by its timeout")
            # Own process group: a gpg wrapper script's children die with it.
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env, start_new_session=True)
            self._procs.append(proc)
            return proc

    def kill(self) -> None:
        with self._lock:
            self._cancelled = True
            procs = list(self._procs)
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)


class _TimedGPG(gnupg.GPG):
    """python-gnupg whose processes are started (and killable) through a tracker.

    Relies on python-gnupg 0.5's ``_open_subprocess`` being the one place a
    process is started, and on ``_handle_io`` (used directly so the result object,
    with its status, survives gpg closing its input early).
    """

    def __init__(self, tracker: _ProcTracker, **kwargs: Any) -> None:
        self.tracker = tracker
        super().__init__(**kwargs)

    def _open_subprocess(self, args: list[str], passphrase: bool = False) -> subprocess.Popen[bytes]:
        return self.tracker.start(self.make_args(args, passphrase), self.env)

    def for_call(self, tracker: _ProcTracker) -> _TimedGPG:
        """A per-call copy: own tracker and ``on_data``, shared configuration."""
        clone = copy.copy(self)
        clone.tracker = tracker
        clone.on_data = None
        return clone


class _Status:
    """Every ``[GNUPG:]`` status line of one call, in order (python-gnupg keeps only a summary)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def has(self, key: str) -> bool:
        return any(k == key for k, _ in self.lines)

    def first(self, key: str) -> str | None:
        return next((v for k, v in self.lines if k == key), None)

    def values(self, key: str) -> list[str]:
        return [v for k, v in self.lines if k == key]


def _recording(result_cls: type[Any]) -> type[Any]:
    class Recording(result_cls):
        def __init__(self, gpg: gnupg.GPG) -> None:
            super().__init__(gpg)
            self.status_log = _Status()

        def handle_status(self, key: str, value: str) -> None:
            self.status_log.lines.append((key, value))
            super().handle_status(key, value)

    return Recording


_RecordingCrypt = _recording(gnupg.Crypt)
_RecordingImport = _recording(gnupg.ImportResult)


def _messages(stderr: str | None) -> list[str]:
    """gpg's human lines (not status lines), last few: the part worth showing an operator."""
    lines = [ln.strip() for ln in (stderr or "").splitlines()
             if ln.strip() and not ln.startswith("[GNUPG:]")]
    return lines[-_STDERR_TAIL:]


def _error_code(value: str) -> int:
    """The gpg-error code of an ``ERROR``/``FAILURE`` status value (source bits dropped)."""
    last = value.rsplit(" ", 1)[-1]
    return int(last) & 0xFFFF if last.isdigit() else -1


_GPG_ERR_BAD_PASSPHRASE = 11
_GPG_ERR_NO_PASSPHRASE = 67


_BAD_SIG_STATUS = {
    "BADSIG": "the signature does not match the content",
    "EXPKEYSIG": "the signing key has expired",
    "REVKEYSIG": "the signing key was revoked",
    "EXPSIG": "the signature has expired",
}


class _AtomicOutput:
    """A hidden temp file (0600) beside ``dst``; fsynced and renamed on commit, unlinked otherwise."""

    def __init__(self, dst: Path) -> None:
        self.dst = dst
        self.tmp = fsops.temp_path(dst)  # recovery sweeps it if this process dies
        try:
            self.fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except BaseException:
            fsops.temp_done(self.tmp)
            raise
        self.size = 0
        self.digest = hashlib.sha256()
        self.write_error: OSError | None = None

    def write(self, data: bytes) -> None:
        if self.write_error is not None:
            return
        try:
            view = memoryview(data)
            while view:
                n = os.write(self.fd, view)
                view = view[n:]
        except OSError as exc:
            self.write_error = exc
            return
        self.size += len(data)
        self.digest.update(data)

    def on_data(self, data: bytes) -> bool:
        """python-gnupg's stdout hook; False keeps the chunk out of memory."""
        if data:
            self.write(data)
        return False

    def commit(self, overwrite: bool) -> None:
        """Make the output visible under its name; without ``overwrite`` an existing file wins."""
        fsops.fsync(self.fd)
        os.close(self.fd)
        self.fd = -1
        try:
            if overwrite:
                os.replace(self.tmp, self.dst)
            else:
                os.link(self.tmp, self.dst)
                os.unlink(self.tmp)
        finally:
            fsops.temp_done(self.tmp)
        fsops.fsync_dir(self.dst.parent)

    def discard(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.tmp)
        fsops.temp_done(self.tmp)


class PgpHome:
    """One GnuPG home (mode 0700) and the operations the channels need.

    ``timeout`` bounds every gpg run (seconds, whole run); ``agent_options`` are
    extra gpg-agent.conf lines (tests pass ``s2k-count 65536`` for fast keys).
    Safe to share between threads.
    """

    def __init__(self, home: Path | str, *, gpgbinary: str = "gpg", timeout: float = DEFAULT_TIMEOUT,
                 agent_options: Sequence[str] = ()) -> None:
        self.home = Path(home)
        self.gpgbinary = gpgbinary
        self.timeout = timeout
        self._gpg_obj: _TimedGPG | None = None
        self._gpg_lock = threading.Lock()
        self._prepare_home(agent_options)

    def _prepare_home(self, agent_options: Sequence[str]) -> None:
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)
        conf = self.home / "gpg-agent.conf"
        wanted = "\n".join((*_AGENT_CONF, *agent_options)) + "\n"
        if not conf.exists() or conf.read_text() != wanted:
            conf.write_text(wanted)
            os.chmod(conf, 0o600)

    # -- running gpg under a watchdog -------------------------------------

    def _base_gpg(self, tracker: _ProcTracker) -> _TimedGPG:
        """The configured GPG object, built on first use (that runs ``gpg --list-config``)."""
        with self._gpg_lock:
            if self._gpg_obj is None:
                env = {k: v for k, v in os.environ.items() if k not in ("GPG_AGENT_INFO", "GNUPGHOME")}
                env.update(LC_ALL="C", LANGUAGE="C")
                try:
                    gpg = _TimedGPG(tracker, gpgbinary=self.gpgbinary, gnupghome=str(self.home), env=env,
                                    options=["--pinentry-mode", "loopback", "--no-auto-key-retrieve",
                                             "--no-permission-warning"])
                except (OSError, ValueError) as exc:
                    raise PgpError(PgpErrorCode.GPG_UNAVAILABLE, f"cannot run {self.gpgbinary!r}: {exc}",
                                   operation="start") from exc
                gpg.buffer_size = _CHUNK
                self._gpg_obj = gpg
            return self._gpg_obj

    def _watched(self, operation: str, path: Path | None, fn: Callable[[_TimedGPG], T],
                 timeout: float | None) -> T:
        """Run ``fn`` with a per-call GPG in a worker thread; past the timeout kill its gpg and raise."""
        limit = self.timeout if timeout is None else timeout
        tracker = _ProcTracker()
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["value"] = fn(self._base_gpg(tracker).for_call(tracker))
            except BaseException as exc:
                box["error"] = exc

        worker = threading.Thread(target=target, name=f"gpg-{operation}", daemon=True)
        worker.start()
        worker.join(limit)
        if worker.is_alive():
            tracker.kill()
            worker.join(_KILL_GRACE)
            raise PgpError(PgpErrorCode.TIMEOUT, f"gpg did not finish within {limit:g} s and was killed",
                           operation=operation, path=path)
        if "error" in box:
            exc = box["error"]
            if isinstance(exc, PgpError):
                if exc.path is None and path is not None:
                    exc.path = path
                exc.operation = operation if exc.operation == "start" else exc.operation
                raise exc
            if isinstance(exc, OSError):
                raise PgpError(PgpErrorCode.IO_ERROR, str(exc), operation=operation, path=path) from exc
            raise exc
        value: T = box["value"]
        return value

    # -- operations --------------------------------------------------------

    def import_keys(self, key_data: bytes | Path, *, passphrase: str | None = None,
                    timeout: float | None = None) -> ImportSummary:
        """Import public or secret keys (armored or binary) into this home."""
        src = key_data if isinstance(key_data, Path) else None
        try:
            data = src.read_bytes() if src is not None else key_data
        except OSError as exc:
            raise PgpError(PgpErrorCode.IO_ERROR, f"cannot read key file: {exc.strerror}",
                           operation="import", path=src) from exc
        assert isinstance(data, bytes)

        def run(gpg: _TimedGPG) -> ImportSummary:
            result = _RecordingImport(gpg)
            stream = _BytesReader(data)
            gpg._handle_io(["--import"], stream, result, passphrase=passphrase, binary=True)
            if not result.fingerprints:
                raise PgpError(PgpErrorCode.IMPORT_FAILED, "no key was imported: "
                               + ("; ".join(_messages(result.stderr)) or "no OpenPGP key data found"),
                               operation="import", path=src, returncode=result.returncode,
                               gpg_messages=_messages(result.stderr))
            return ImportSummary(
                fingerprints=tuple(dict.fromkeys(_norm_fpr(f) for f in result.fingerprints)),
                imported=int(result.imported), unchanged=int(result.unchanged),
                secret_imported=int(result.sec_imported))

        return self._watched("import", src, run, timeout)

    def list_keys(self, *, secret: bool = False, timeout: float | None = None) -> list[KeyInfo]:
        def run(gpg: _TimedGPG) -> list[KeyInfo]:
            keys = gpg.list_keys(secret=secret)
            return [KeyInfo(fingerprint=_norm_fpr(k["fingerprint"]), uids=tuple(k.get("uids", ())),
                            secret=secret, expires=k.get("expires") or None) for k in keys]

        return self._watched("list-keys", None, run, timeout)

    def encrypt_file(self, src: Path, dst: Path, recipients: Sequence[str], *,
                     sign_with: str | None = None, passphrase: str | None = None,
                     armor: bool = False, overwrite: bool = False,
                     timeout: float | None = None) -> EncryptResult:
        """Encrypt ``src`` for ``recipients`` (fingerprints) into ``dst``, optionally signed.

        Recipients are trusted as configured (``--trust-model always``): the key
        is pinned by its fingerprint in config, not by the web of trust. An
        existing ``dst`` is never replaced unless ``overwrite``.
        """
        if not recipients:
            raise PgpError(PgpErrorCode.INVALID_RECIPIENT, "no recipient given", operation="encrypt",
                           path=src)
        args = ["--encrypt", "--trust-model", "always"]
        for r in recipients:
            args += ["--recipient", _norm_fpr(r)]
        if sign_with:
            args += ["--sign", "--local-user", _norm_fpr(sign_with)]
        if armor:
            args.append("--armor")
        result, out = self._crypt("encrypt", src, dst, args, passphrase, timeout)
        try:
            self._check_encrypt(result, src, sign_with, passphrase)
            self._commit(out, "encrypt", src, overwrite)
        except BaseException:
            out.discard()
            raise
        return EncryptResult(path=dst, size=out.size, sha256=out.digest.hexdigest(),
                             signed_by=_norm_fpr(sign_with) if sign_with else None)

    def decrypt_file(self, src: Path, dst: Path, passphrase: str | None = None, *,
                     require_signature: bool = False, trusted_signers: Collection[str] = (),
                     overwrite: bool = False, timeout: float | None = None) -> DecryptResult:
        """Decrypt ``src`` into ``dst``; on failure nothing of this call's output exists.

        An existing ``dst`` is never replaced unless ``overwrite``
        (:attr:`PgpErrorCode.DESTINATION_EXISTS`).

        With ``require_signature`` the input must carry a good signature, and when
        ``trusted_signers`` (primary or subkey fingerprints) is given, by one of them.
        A bad signature fails even when signatures are not required.
        """
        result, out = self._crypt("decrypt", src, dst, ["--decrypt"], passphrase, timeout)
        try:
            verdict = self._check_decrypt(result, src, passphrase, require_signature, trusted_signers)
            self._commit(out, "decrypt", src, overwrite)
        except BaseException:
            out.discard()
            raise
        signed, valid, fpr, uid = verdict
        return DecryptResult(path=dst, size=out.size, sha256=out.digest.hexdigest(), signed=signed,
                             signature_valid=valid, signer_fingerprint=fpr, signer_uid=uid)

    def close(self) -> None:
        """Stop this home's gpg-agent (it outlives the gpg calls that started it)."""
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(["gpgconf", "--homedir", str(self.home), "--kill", "gpg-agent"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=10, check=False)

    # -- internals ---------------------------------------------------------

    @staticmethod
    def _commit(out: _AtomicOutput, operation: str, src: Path, overwrite: bool) -> None:
        try:
            out.commit(overwrite)
        except FileExistsError:
            raise PgpError(PgpErrorCode.DESTINATION_EXISTS, f"{out.dst} already exists; not replaced",
                           operation=operation, path=src) from None
        except OSError as exc:
            raise PgpError(PgpErrorCode.IO_ERROR, f"cannot write {out.dst}: {exc.strerror}",
                           operation=operation, path=src) from exc

    def _crypt(self, operation: str, src: Path, dst: Path, args: list[str], passphrase: str | None,
               timeout: float | None) -> tuple[Any, _AtomicOutput]:
        if passphrase is not None and any(c in passphrase for c in "\r\n\x00"):
            raise PgpError(PgpErrorCode.BAD_PASSPHRASE, "passphrase contains a line break or NUL",
                           operation=operation, path=src)
        try:
            infile: BinaryIO = open(src, "rb")  # noqa: SIM115 (closed in finally below)
        except OSError as exc:
            raise PgpError(PgpErrorCode.IO_ERROR, f"cannot read input: {exc.strerror}",
                           operation=operation, path=src) from exc
        try:
            out = _AtomicOutput(dst)
        except OSError as exc:
            infile.close()
            raise PgpError(PgpErrorCode.IO_ERROR, f"cannot create output in {dst.parent}: {exc.strerror}",
                           operation=operation, path=src) from exc

        def run(gpg: _TimedGPG) -> Any:
            result = _RecordingCrypt(gpg)
            gpg.on_data = out.on_data
            try:
                gpg._handle_io(args, infile, result, passphrase=passphrase, binary=True)
            except BrokenPipeError:
                # gpg stopped reading its input (it failed early); its status says why.
                if result.returncode is None:
                    result.returncode = -1
            return result

        try:
            result = self._watched(operation, src, run, timeout)
        except BaseException:
            out.discard()
            raise
        finally:
            infile.close()
        if out.write_error is not None:
            out.discard()
            raise PgpError(PgpErrorCode.IO_ERROR, f"cannot write output: {out.write_error.strerror}",
                           operation=operation, path=src)
        return result, out

    def _check_encrypt(self, result: Any, src: Path, sign_with: str | None,
                       passphrase: str | None) -> None:
        st: _Status = result.status_log
        msgs = _messages(result.stderr)

        def fail(code: PgpErrorCode, reason: str, key_id: str | None = None) -> PgpError:
            return PgpError(code, reason, operation="encrypt", path=src, key_id=key_id,
                            returncode=result.returncode, gpg_messages=msgs)

        if st.has("INV_RECP"):
            raise fail(PgpErrorCode.INVALID_RECIPIENT, "recipient key not found or not usable for encryption",
                       key_id=(st.first("INV_RECP") or "").partition(" ")[2] or None)
        if st.has("INV_SGNR"):
            raise fail(PgpErrorCode.INVALID_SIGNER, "signing key not found or not usable",
                       key_id=(st.first("INV_SGNR") or "").partition(" ")[2] or None)
        self._check_passphrase(st, passphrase, fail)
        signed_ok = not sign_with or st.has("SIG_CREATED")
        if result.returncode != 0 or not st.has("END_ENCRYPTION") or not signed_ok:
            raise fail(PgpErrorCode.GPG_FAILED, "; ".join(msgs) or "gpg reported no success")

    @staticmethod
    def _check_passphrase(st: _Status, passphrase: str | None,
                          fail: Callable[..., PgpError]) -> None:
        codes = {_error_code(v) for k, v in st.lines if k in ("ERROR", "FAILURE")}
        if st.has("BAD_PASSPHRASE") or _GPG_ERR_BAD_PASSPHRASE in codes:
            if passphrase is None:
                raise fail(PgpErrorCode.MISSING_PASSPHRASE, "the secret key is protected and no passphrase "
                           "is configured")
            raise fail(PgpErrorCode.BAD_PASSPHRASE, "the configured passphrase is wrong")
        if passphrase is None and (st.has("NEED_PASSPHRASE") or st.has("MISSING_PASSPHRASE")
                                   or _GPG_ERR_NO_PASSPHRASE in codes):
            raise fail(PgpErrorCode.MISSING_PASSPHRASE, "the secret key is protected and no passphrase "
                       "is configured")

    def _check_decrypt(self, result: Any, src: Path, passphrase: str | None, require_signature: bool,
                       trusted_signers: Collection[str]) -> tuple[bool, bool, str | None, str | None]:
        st: _Status = result.status_log
        msgs = _messages(result.stderr)

        def fail(code: PgpErrorCode, reason: str, key_id: str | None = None) -> PgpError:
            return PgpError(code, reason, operation="decrypt", path=src, key_id=key_id,
                            returncode=result.returncode, gpg_messages=msgs)

        # gpg exits 2 for a signature it cannot verify even though decryption itself worked;
        # such files are judged by the signature rules below, not failed here.
        sig_trouble = any(st.has(k) for k in (*_BAD_SIG_STATUS, "ERRSIG", "NO_PUBKEY"))
        ok = (st.has("DECRYPTION_OKAY") and not st.has("DECRYPTION_FAILED")
              and (result.returncode == 0 or sig_trouble))
        if not ok:
            if not st.has("ENC_TO") and not st.has("BEGIN_DECRYPTION"):
                if st.has("PLAINTEXT") or st.has("NEWSIG"):
                    raise fail(PgpErrorCode.NOT_ENCRYPTED,
                               "the file is signed or literal data, not encrypted")
                raise fail(PgpErrorCode.NOT_PGP, "no OpenPGP encrypted data found in the file")
            if st.has("NO_SECKEY") and not st.has("DECRYPTION_KEY"):
                ids = " ".join(st.values("NO_SECKEY"))
                raise fail(PgpErrorCode.NO_SECRET_KEY,
                           f"the file is encrypted for key id {ids}, which is not our secret key", key_id=ids)
            self._check_passphrase(st, passphrase, fail)
            if any(st.has(k) for k in ("ENC_TO", "DECRYPTION_KEY", "BEGIN_DECRYPTION")):
                detail = "; ".join(msgs) or "gpg reported no success"
                raise fail(PgpErrorCode.CORRUPT_INPUT,
                           f"the encrypted data is corrupt or truncated ({detail})")
            raise fail(PgpErrorCode.GPG_FAILED, "; ".join(msgs) or "gpg reported no success")

        bad = next((k for k in _BAD_SIG_STATUS if st.has(k)), None)
        if bad is not None:
            reason = _BAD_SIG_STATUS[bad]
            raise fail(PgpErrorCode.BAD_SIGNATURE, reason, key_id=(st.first(bad) or "").split(" ")[0] or None)
        signed = st.has("NEWSIG") or st.has("GOODSIG") or st.has("ERRSIG")
        valid = st.has("GOODSIG") and st.has("VALIDSIG")
        fpr: str | None = None
        uid: str | None = None
        if valid:
            parts = (st.first("VALIDSIG") or "").split()
            fpr = _norm_fpr(parts[9] if len(parts) >= 10 else parts[0])
            uid = (st.first("GOODSIG") or "").partition(" ")[2] or None
        if require_signature:
            if not signed:
                raise fail(PgpErrorCode.UNSIGNED, "a signature is required but the file is not signed")
            if not valid:
                errsig = (st.first("ERRSIG") or st.first("NO_PUBKEY") or "").split()
                key_id = errsig[0] if errsig else None
                raise fail(PgpErrorCode.UNKNOWN_SIGNER,
                           f"signed by key id {key_id}, whose public key is not in the keyring",
                           key_id=key_id)
            if trusted_signers:
                trusted = {_norm_fpr(t) for t in trusted_signers}
                parts = (st.first("VALIDSIG") or "").split()
                if not ({fpr, _norm_fpr(parts[0]) if parts else None} & trusted):
                    raise fail(PgpErrorCode.UNTRUSTED_SIGNER,
                               f"signed by {fpr} ({uid}), which is not a trusted signer", key_id=fpr)
        return signed, valid, fpr, uid


class _BytesReader:
    """A minimal binary reader python-gnupg can stream from."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._data) if n < 0 else min(len(self._data), self._pos + n)
        chunk = bytes(self._data[self._pos:end])
        self._pos = end
        return chunk

    def close(self) -> None:
        pass
