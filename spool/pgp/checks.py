"""Judging one gpg run from its status lines: encryption success, passphrase problems, and the
signature rules of a decryption (bad, unknown, untrusted signers)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from spool.pgp.errors import PgpError, PgpErrorCode
from spool.pgp.process import Status, messages
from spool.pgp.results import norm_fpr


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


def check_encrypt(result: Any, src: Path, sign_with: str | None,
                   passphrase: str | None) -> None:
    st: Status = result.status_log
    msgs = messages(result.stderr)

    def fail(code: PgpErrorCode, reason: str, key_id: str | None = None) -> PgpError:
        return PgpError(code, reason, operation="encrypt", path=src, key_id=key_id,
                        returncode=result.returncode, gpg_messages=msgs)

    if st.has("INV_RECP"):
        raise fail(PgpErrorCode.INVALID_RECIPIENT, "recipient key not found or not usable for encryption",
                   key_id=(st.first("INV_RECP") or "").partition(" ")[2] or None)
    if st.has("INV_SGNR"):
        raise fail(PgpErrorCode.INVALID_SIGNER, "signing key not found or not usable",
                   key_id=(st.first("INV_SGNR") or "").partition(" ")[2] or None)
    check_passphrase(st, passphrase, fail)
    signed_ok = not sign_with or st.has("SIG_CREATED")
    if result.returncode != 0 or not st.has("END_ENCRYPTION") or not signed_ok:
        raise fail(PgpErrorCode.GPG_FAILED, "; ".join(msgs) or "gpg reported no success")


def check_passphrase(st: Status, passphrase: str | None,
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


def check_decrypt(result: Any, src: Path, passphrase: str | None, require_signature: bool,
                   trusted_signers: Collection[str]) -> tuple[bool, bool, str | None, str | None]:
    st: Status = result.status_log
    msgs = messages(result.stderr)

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
        check_passphrase(st, passphrase, fail)
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
        fpr = norm_fpr(parts[9] if len(parts) >= 10 else parts[0])
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
            trusted = {norm_fpr(t) for t in trusted_signers}
            parts = (st.first("VALIDSIG") or "").split()
            if not ({fpr, norm_fpr(parts[0]) if parts else None} & trusted):
                raise fail(PgpErrorCode.UNTRUSTED_SIGNER,
                           f"signed by {fpr} ({uid}), which is not a trusted signer", key_id=fpr)
    return signed, valid, fpr, uid
