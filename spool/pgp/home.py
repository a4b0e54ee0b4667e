"""One GnuPG home (its folder, gpg-agent settings) and the operations the channels run in it, each
under a watchdog that kills gpg past its timeout."""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from spool.pgp.checks import check_decrypt, check_encrypt
from spool.pgp.errors import PgpError, PgpErrorCode
from spool.pgp.output import GpgOutput
from spool.pgp.process import BytesReader, ProcTracker, RecordingCrypt, RecordingImport, TimedGPG, messages
from spool.pgp.results import DecryptResult, EncryptResult, ImportSummary, KeyInfo, norm_fpr

T = TypeVar("T")

DEFAULT_TIMEOUT = 600.0
#: after a kill, how long to wait for python-gnupg's threads to notice
_KILL_GRACE = 5.0
_CHUNK = 1 << 16

#: gpg-agent settings the daemon relies on: loopback passphrases, and no
#: passphrase cache (a cached passphrase would hide a missing one in config).
_AGENT_CONF = ("allow-loopback-pinentry", "default-cache-ttl 0", "max-cache-ttl 0")


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
        self._gpg_obj: TimedGPG | None = None
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

    def _base_gpg(self, tracker: ProcTracker) -> TimedGPG:
        """The configured GPG object, built on first use (that runs ``gpg --list-config``)."""
        with self._gpg_lock:
            if self._gpg_obj is None:
                env = {k: v for k, v in os.environ.items() if k not in ("GPG_AGENT_INFO", "GNUPGHOME")}
                env.update(LC_ALL="C", LANGUAGE="C")
                try:
                    gpg = TimedGPG(tracker, gpgbinary=self.gpgbinary, gnupghome=str(self.home), env=env,
                                    options=["--pinentry-mode", "loopback", "--no-auto-key-retrieve",
                                             "--no-permission-warning"])
                except (OSError, ValueError) as exc:
                    raise PgpError(PgpErrorCode.GPG_UNAVAILABLE, f"cannot run {self.gpgbinary!r}: {exc}",
                                   operation="start") from exc
                gpg.buffer_size = _CHUNK
                self._gpg_obj = gpg
            return self._gpg_obj

    def _watched(self, operation: str, path: Path | None, fn: Callable[[TimedGPG], T],
                 timeout: float | None) -> T:
        """Run ``fn`` with a per-call GPG in a worker thread; past the timeout kill its gpg and raise."""
        limit = self.timeout if timeout is None else timeout
        tracker = ProcTracker()
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

        def run(gpg: TimedGPG) -> ImportSummary:
            result = RecordingImport(gpg)
            stream = BytesReader(data)
            gpg._handle_io(["--import"], stream, result, passphrase=passphrase, binary=True)
            if not result.fingerprints:
                raise PgpError(PgpErrorCode.IMPORT_FAILED, "no key was imported: "
                               + ("; ".join(messages(result.stderr)) or "no OpenPGP key data found"),
                               operation="import", path=src, returncode=result.returncode,
                               gpg_messages=messages(result.stderr))
            return ImportSummary(
                fingerprints=tuple(dict.fromkeys(norm_fpr(f) for f in result.fingerprints)),
                imported=int(result.imported), unchanged=int(result.unchanged),
                secret_imported=int(result.sec_imported))

        return self._watched("import", src, run, timeout)

    def list_keys(self, *, secret: bool = False, timeout: float | None = None) -> list[KeyInfo]:
        def run(gpg: TimedGPG) -> list[KeyInfo]:
            keys = gpg.list_keys(secret=secret)
            return [KeyInfo(fingerprint=norm_fpr(k["fingerprint"]), uids=tuple(k.get("uids", ())),
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
            args += ["--recipient", norm_fpr(r)]
        if sign_with:
            args += ["--sign", "--local-user", norm_fpr(sign_with)]
        if armor:
            args.append("--armor")
        result, out = self._crypt("encrypt", src, dst, args, passphrase, timeout)
        try:
            check_encrypt(result, src, sign_with, passphrase)
            self._commit(out, "encrypt", src, overwrite)
        except BaseException:
            out.discard()
            raise
        return EncryptResult(path=dst, size=out.size, sha256=out.sha256,
                             signed_by=norm_fpr(sign_with) if sign_with else None)

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
            verdict = check_decrypt(result, src, passphrase, require_signature, trusted_signers)
            self._commit(out, "decrypt", src, overwrite)
        except BaseException:
            out.discard()
            raise
        signed, valid, fpr, uid = verdict
        return DecryptResult(path=dst, size=out.size, sha256=out.sha256, signed=signed,
                             signature_valid=valid, signer_fingerprint=fpr, signer_uid=uid)

    def close(self) -> None:
        """Stop this home's gpg-agent (it outlives the gpg calls that started it)."""
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(["gpgconf", "--homedir", str(self.home), "--kill", "gpg-agent"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=10, check=False)

    # -- internals ---------------------------------------------------------

    @staticmethod
    def _commit(out: GpgOutput, operation: str, src: Path, overwrite: bool) -> None:
        try:
            out.commit(overwrite)
        except FileExistsError:
            raise PgpError(PgpErrorCode.DESTINATION_EXISTS, f"{out.dst} already exists; not replaced",
                           operation=operation, path=src) from None
        except OSError as exc:
            raise PgpError(PgpErrorCode.IO_ERROR, f"cannot write {out.dst}: {exc.strerror}",
                           operation=operation, path=src) from exc

    def _crypt(self, operation: str, src: Path, dst: Path, args: list[str], passphrase: str | None,
               timeout: float | None) -> tuple[Any, GpgOutput]:
        if passphrase is not None and any(c in passphrase for c in "\r\n\x00"):
            raise PgpError(PgpErrorCode.BAD_PASSPHRASE, "passphrase contains a line break or NUL",
                           operation=operation, path=src)
        try:
            infile: BinaryIO = open(src, "rb")  # noqa: SIM115 (closed in finally below)
        except OSError as exc:
            raise PgpError(PgpErrorCode.IO_ERROR, f"cannot read input: {exc.strerror}",
                           operation=operation, path=src) from exc
        try:
            out = GpgOutput(dst)
        except OSError as exc:
            infile.close()
            raise PgpError(PgpErrorCode.IO_ERROR, f"cannot create output in {dst.parent}: {exc.strerror}",
                           operation=operation, path=src) from exc

        def run(gpg: TimedGPG) -> Any:
            result = RecordingCrypt(gpg)
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
