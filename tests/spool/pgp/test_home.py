"""PGP stage against real gpg with throwaway keys."""

from __future__ import annotations

import hashlib
import os
import stat
import time
import tracemalloc
from pathlib import Path

import pytest

from spool.pgp import PgpError, PgpErrorCode, PgpHome
from tests.fixtures.gpg import GpgKeys

MARKER = b"SPOOLGATE-PLAINTEXT-MARKER-7f3a"


def _plain(tmp: Path, name: str = "plain.dat", size: int = 200_000) -> Path:
    """A plaintext whose marker repeats throughout, so any partial output would contain it."""
    src = tmp / "src"
    src.mkdir(exist_ok=True)
    path = src / name
    line = MARKER + b" 0000|payment line that compresses well|12345\n"
    path.write_bytes(line * (size // len(line) + 1))
    return path


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _encrypt_from_partner(partner_pgp: PgpHome, gpg_keys: GpgKeys, plain: Path, out: Path,
                          sign: bool = True) -> Path:
    partner_pgp.encrypt_file(plain, out, [gpg_keys.ours.fingerprint],
                             sign_with=gpg_keys.partner.fingerprint if sign else None,
                             passphrase=gpg_keys.partner.passphrase if sign else None)
    return out


def test_round_trip_signed_both_ways(tmp_path, gpg_keys, our_pgp, partner_pgp):
    plain = _plain(tmp_path)
    enc = _encrypt_from_partner(partner_pgp, gpg_keys, plain, tmp_path / "in.pgp")
    assert MARKER not in enc.read_bytes()
    inbox = tmp_path / "bd"
    inbox.mkdir()

    result = our_pgp.decrypt_file(enc, inbox / "in.dat", gpg_keys.ours.passphrase,
                                  require_signature=True,
                                  trusted_signers=[gpg_keys.partner.fingerprint])

    assert (inbox / "in.dat").read_bytes() == plain.read_bytes()
    assert result.size == plain.stat().st_size
    assert result.signed and result.signature_valid
    assert result.signer_fingerprint == gpg_keys.partner.fingerprint
    assert result.signer_uid is not None and "checkfree@example.test" in result.signer_uid
    assert stat.S_IMODE((inbox / "in.dat").stat().st_mode) == 0o600
    assert _leftovers(inbox) == ["in.dat"]

    out = tmp_path / "out.pgp"
    enc_result = our_pgp.encrypt_file(plain, out, [gpg_keys.partner.fingerprint],
                                      sign_with=gpg_keys.ours.fingerprint,
                                      passphrase=gpg_keys.ours.passphrase, armor=True)
    assert out.read_bytes().startswith(b"-----BEGIN PGP MESSAGE-----")
    assert enc_result.size == out.stat().st_size
    back = partner_pgp.decrypt_file(out, tmp_path / "back.dat", gpg_keys.partner.passphrase,
                                    require_signature=True, trusted_signers=[gpg_keys.ours.fingerprint])
    assert (tmp_path / "back.dat").read_bytes() == plain.read_bytes()
    assert back.signer_fingerprint == gpg_keys.ours.fingerprint


def test_unsigned_file_accepted_when_signatures_not_required(tmp_path, gpg_keys, our_pgp, partner_pgp):
    enc = _encrypt_from_partner(partner_pgp, gpg_keys, _plain(tmp_path), tmp_path / "u.pgp", sign=False)
    result = our_pgp.decrypt_file(enc, tmp_path / "u.dat", gpg_keys.ours.passphrase)
    assert not result.signed and not result.signature_valid and result.signer_fingerprint is None
    assert MARKER in (tmp_path / "u.dat").read_bytes()


def _expect_failure(home: PgpHome, src: Path, dst: Path, code: PgpErrorCode, **kwargs) -> PgpError:
    started = time.monotonic()
    with pytest.raises(PgpError) as info:
        home.decrypt_file(src, dst, **kwargs)
    assert time.monotonic() - started < 10
    assert info.value.code is code, info.value
    assert not dst.exists()
    assert [p for p in _leftovers(dst.parent) if p.startswith(".")] == []
    return info.value


def test_wrong_key(tmp_path, gpg_keys, our_pgp, partner_pgp):
    # Encrypted for our key by the partner, but decrypted in a home with only the stranger's key.
    enc = _encrypt_from_partner(partner_pgp, gpg_keys, _plain(tmp_path), tmp_path / "for-us.pgp")
    stranger_home = PgpHome(gpg_keys.root / "wrongkey", agent_options=("s2k-count 65536",), timeout=30)
    try:
        stranger_home.import_keys(gpg_keys.stranger.secret, passphrase=gpg_keys.stranger.passphrase)
        err = _expect_failure(stranger_home, enc, tmp_path / "x.dat", PgpErrorCode.NO_SECRET_KEY,
                              passphrase=gpg_keys.stranger.passphrase)
    finally:
        stranger_home.close()
    assert err.key_id and "not our secret key" in err.reason
    assert err.to_dict()["code"] == "no_secret_key"


def test_corrupt_file(tmp_path, gpg_keys, our_pgp, partner_pgp):
    enc = _encrypt_from_partner(partner_pgp, gpg_keys, _plain(tmp_path, size=400_000), tmp_path / "c.pgp")
    data = bytearray(enc.read_bytes())
    for pos in range(len(data) // 3, len(data) - 64, 997):
        data[pos] ^= 0x5A
    enc.write_bytes(bytes(data))
    err = _expect_failure(our_pgp, enc, tmp_path / "c.dat", PgpErrorCode.CORRUPT_INPUT,
                          passphrase=gpg_keys.ours.passphrase)
    assert "corrupt or truncated" in err.reason


@pytest.mark.parametrize("keep", [0.5, 0.9, 120])
def test_truncated_file(tmp_path, gpg_keys, our_pgp, partner_pgp, keep):
    enc = _encrypt_from_partner(partner_pgp, gpg_keys, _plain(tmp_path, size=400_000), tmp_path / "t.pgp")
    data = enc.read_bytes()
    cut = int(len(data) * keep) if keep < 1 else int(keep)
    enc.write_bytes(data[:cut])
    _expect_failure(our_pgp, enc, tmp_path / "t.dat", PgpErrorCode.CORRUPT_INPUT,
                    passphrase=gpg_keys.ours.passphrase)


def test_not_pgp_at_all(tmp_path, gpg_keys, our_pgp):
    junk = tmp_path / "junk.pgp"
    junk.write_bytes(b"0000HEADER this is a plain CDP file, not encrypted\n")
    _expect_failure(our_pgp, junk, tmp_path / "junk.dat", PgpErrorCode.NOT_PGP,
                    passphrase=gpg_keys.ours.passphrase)


def test_missing_and_wrong_passphrase(tmp_path, gpg_keys, our_pgp, partner_pgp):
    enc = _encrypt_from_partner(partner_pgp, gpg_keys, _plain(tmp_path), tmp_path / "p.pgp")
    # A successful decrypt first: the agent must not have cached the passphrase.
    our_pgp.decrypt_file(enc, tmp_path / "ok.dat", gpg_keys.ours.passphrase)
    err = _expect_failure(our_pgp, enc, tmp_path / "p.dat", PgpErrorCode.MISSING_PASSPHRASE, passphrase=None)
    assert "no passphrase" in err.reason
    _expect_failure(our_pgp, enc, tmp_path / "p.dat", PgpErrorCode.BAD_PASSPHRASE, passphrase="wrong")


def test_signature_required(tmp_path, gpg_keys, our_pgp, partner_pgp, pgp_home_factory):
    unsigned = _encrypt_from_partner(partner_pgp, gpg_keys, _plain(tmp_path), tmp_path / "u.pgp", sign=False)
    _expect_failure(our_pgp, unsigned, tmp_path / "u.dat", PgpErrorCode.UNSIGNED,
                    passphrase=gpg_keys.ours.passphrase, require_signature=True)

    stranger = pgp_home_factory(secret=(gpg_keys.stranger,), public=(gpg_keys.ours,))
    by_stranger = tmp_path / "s.pgp"
    stranger.encrypt_file(_plain(tmp_path), by_stranger, [gpg_keys.ours.fingerprint],
                          sign_with=gpg_keys.stranger.fingerprint, passphrase=gpg_keys.stranger.passphrase)
    # Our home has no public key for the stranger: the signature cannot be checked.
    _expect_failure(our_pgp, by_stranger, tmp_path / "s.dat", PgpErrorCode.UNKNOWN_SIGNER,
                    passphrase=gpg_keys.ours.passphrase, require_signature=True)
    # A home that knows the stranger's key: the signature is good but not by a trusted signer.
    knows_stranger = pgp_home_factory(secret=(gpg_keys.ours,), public=(gpg_keys.partner, gpg_keys.stranger))
    err = _expect_failure(knows_stranger, by_stranger, tmp_path / "s.dat", PgpErrorCode.UNTRUSTED_SIGNER,
                          passphrase=gpg_keys.ours.passphrase, require_signature=True,
                          trusted_signers=[gpg_keys.partner.fingerprint])
    assert err.key_id == gpg_keys.stranger.fingerprint


def _fake_gpg(tmp: Path, hang_on: str) -> Path:
    """A gpg that behaves until it sees ``hang_on``, then prints some plaintext and hangs."""
    script = tmp / "fake-gpg"
    script.write_text(
        "#!/bin/sh\n"
        f'for a in "$@"; do if [ "$a" = "{hang_on}" ]; then\n'
        f'  echo $$ > "{tmp}/fake.pid"\n'
        f"  printf '{MARKER.decode()} partial plaintext\\n'\n"
        "  exec sleep 120\n"
        "fi; done\n"
        'exec gpg "$@"\n'
    )
    script.chmod(0o755)
    return script


@pytest.mark.parametrize("hang_on", ["--list-config", "--decrypt"])
def test_hanging_gpg_is_killed_within_the_timeout(tmp_path, gpg_keys, partner_pgp, hang_on):
    enc = _encrypt_from_partner(partner_pgp, gpg_keys, _plain(tmp_path), tmp_path / "h.pgp")
    fake = _fake_gpg(tmp_path, hang_on)
    home = PgpHome(gpg_keys.root / f"hang{hang_on.strip('-')[:4]}", gpgbinary=str(fake), timeout=1.5)
    out = tmp_path / "out"
    out.mkdir()
    started = time.monotonic()
    with pytest.raises(PgpError) as info:
        home.decrypt_file(enc, out / "h.dat", gpg_keys.ours.passphrase)
    assert time.monotonic() - started < 5
    assert info.value.code is PgpErrorCode.TIMEOUT
    assert "1.5 s" in info.value.reason
    assert _leftovers(out) == []
    pid = int((tmp_path / "fake.pid").read_text())
    deadline = time.monotonic() + 3
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), "the hanging gpg was not killed"
    home.close()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_no_plaintext_left_behind(tmp_path, gpg_keys, our_pgp, partner_pgp):
    """After a mix of failures and one success, the marker exists only in the asked-for destination."""
    plain = _plain(tmp_path, size=300_000)
    spool = tmp_path / "spool"
    (spool / "ftp").mkdir(parents=True)
    (spool / "bd").mkdir()
    good = _encrypt_from_partner(partner_pgp, gpg_keys, plain, spool / "ftp" / "good.pgp")
    raw = good.read_bytes()
    (spool / "ftp" / "trunc.pgp").write_bytes(raw[: len(raw) * 3 // 4])
    corrupt = bytearray(raw)
    corrupt[len(raw) // 2] ^= 0xFF
    (spool / "ftp" / "corrupt.pgp").write_bytes(bytes(corrupt))
    plain.unlink()

    our_pgp.decrypt_file(good, spool / "bd" / "good.dat", gpg_keys.ours.passphrase)
    for name, kwargs in [("trunc", {"passphrase": gpg_keys.ours.passphrase}),
                         ("corrupt", {"passphrase": gpg_keys.ours.passphrase}),
                         ("good", {"passphrase": "wrong"}),
                         ("good", {"passphrase": None}),
                         ("good", {"passphrase": gpg_keys.ours.passphrase, "require_signature": True,
                                   "trusted_signers": [gpg_keys.stranger.fingerprint]})]:
        with pytest.raises(PgpError):
            our_pgp.decrypt_file(spool / "ftp" / f"{name}.pgp", spool / "bd" / f"{name}-{len(kwargs)}.dat",
                                 **kwargs)
    fake = _fake_gpg(tmp_path, "--decrypt")
    hanging = PgpHome(gpg_keys.root / "hangscan", gpgbinary=str(fake), timeout=1)
    with pytest.raises(PgpError):
        hanging.decrypt_file(good, spool / "bd" / "hang.dat", gpg_keys.ours.passphrase)

    holders = [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
               if p.is_file() and p.name != "fake-gpg" and MARKER in p.read_bytes()]
    assert holders == ["spool/bd/good.dat"]


def test_streaming_keeps_memory_bounded(tmp_path, gpg_keys, our_pgp, partner_pgp):
    size = 24 * 1024 * 1024
    plain = tmp_path / "big.bin"
    with open(plain, "wb") as f:
        for _ in range(size // (1 << 20)):
            f.write(os.urandom(1 << 20))
    tracemalloc.start()
    try:
        partner_pgp.encrypt_file(plain, tmp_path / "big.pgp", [gpg_keys.ours.fingerprint])
        result = our_pgp.decrypt_file(tmp_path / "big.pgp", tmp_path / "big.out", gpg_keys.ours.passphrase)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.size == size
    assert peak < 4 * 1024 * 1024, f"peak Python allocation {peak} bytes for a {size}-byte file"
    assert result.sha256 == hashlib.sha256(plain.read_bytes()).hexdigest()


def test_home_is_private_and_import_reports_keys(tmp_path, gpg_keys):
    path = gpg_keys.root / "fresh"
    path.mkdir(mode=0o755)
    home = PgpHome(path, agent_options=("s2k-count 65536",), timeout=30)
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
        summary = home.import_keys(gpg_keys.partner.public)
        assert summary.fingerprints == (gpg_keys.partner.fingerprint,)
        assert summary.imported == 1
        again = home.import_keys(gpg_keys.partner.public)
        assert again.unchanged == 1 and again.imported == 0
        keys = home.list_keys()
        assert [k.fingerprint for k in keys] == [gpg_keys.partner.fingerprint]
        with pytest.raises(PgpError) as info:
            home.import_keys(b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n")
        assert info.value.code is PgpErrorCode.IMPORT_FAILED
        with pytest.raises(PgpError) as info:
            home.encrypt_file(_plain(tmp_path), tmp_path / "x.pgp", [gpg_keys.stranger.fingerprint])
        assert info.value.code is PgpErrorCode.INVALID_RECIPIENT
        assert not (tmp_path / "x.pgp").exists()
        assert [p for p in _leftovers(tmp_path) if p.startswith(".")] == []
    finally:
        home.close()


def test_missing_gpg_binary(tmp_path, gpg_keys):
    home = PgpHome(gpg_keys.root / "nogpg", gpgbinary=str(tmp_path / "no-such-gpg"), timeout=5)
    (tmp_path / "in.pgp").write_bytes(b"x")
    with pytest.raises(PgpError) as info:
        home.decrypt_file(tmp_path / "in.pgp", tmp_path / "out.dat", "x")
    assert info.value.code is PgpErrorCode.GPG_UNAVAILABLE
    assert not (tmp_path / "out.dat").exists()


def test_existing_destination_is_not_replaced_unless_asked(tmp_path, gpg_keys, our_pgp, partner_pgp):
    enc = _encrypt_from_partner(partner_pgp, gpg_keys, _plain(tmp_path), tmp_path / "e.pgp")
    out = tmp_path / "bd"
    out.mkdir()
    (out / "e.dat").write_bytes(b"an earlier file, not processed yet")
    with pytest.raises(PgpError) as info:
        our_pgp.decrypt_file(enc, out / "e.dat", gpg_keys.ours.passphrase)
    assert info.value.code is PgpErrorCode.DESTINATION_EXISTS
    assert (out / "e.dat").read_bytes() == b"an earlier file, not processed yet"
    assert _leftovers(out) == ["e.dat"]
    our_pgp.decrypt_file(enc, out / "e.dat", gpg_keys.ours.passphrase, overwrite=True)
    assert MARKER in (out / "e.dat").read_bytes()
    assert _leftovers(out) == ["e.dat"]
