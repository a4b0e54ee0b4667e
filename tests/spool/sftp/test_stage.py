"""SFTP stage against a real OpenSSH sshd on loopback."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from spool.sftp import MemoryFetchedRegistry, SftpEndpoint, SftpStage, TransferError, TransferErrorCode
from tests.fixtures.sshd import SshdServer, free_port


def _endpoint(server: SshdServer, tmp: Path, **overrides) -> tuple[SftpEndpoint, Path]:
    """An endpoint on fresh remote folders of its own; returns it and the remote base folder."""
    base = server.remote_root / uuid.uuid4().hex[:8]
    (base / "up").mkdir(parents=True)
    (base / "down").mkdir()
    fields = dict(name="test-sshd", host=server.host, port=server.port, user=server.user,
                  key_file=server.key_path, key_passphrase=server.key_passphrase,
                  known_hosts=server.known_hosts, upload_dir=str(base / "up"), download_dir=str(base / "down"),
                  connect_timeout=5, read_timeout=5, transfer_timeout=20, retry_max_attempts=3,
                  backoff_min=0.05, backoff_max=0.2)
    fields.update(overrides)
    return SftpEndpoint(**fields), base


def _payload(tmp: Path, name: str, size: int) -> Path:
    path = tmp / name
    path.write_bytes(os.urandom(size))
    return path


def test_upload_renames_into_place(tmp_path, sshd_server):
    ep, base = _endpoint(sshd_server, tmp_path)
    local = _payload(tmp_path, "test.acme.debit.dat.20240102030405", 300_000)
    (base / "up" / ".test.acme.debit.dat.20240102030405.part").write_bytes(b"stale partial from a crash")

    result = SftpStage(ep).upload(local)

    assert sorted(p.name for p in (base / "up").iterdir()) == [local.name]
    assert (base / "up" / local.name).read_bytes() == local.read_bytes()
    assert result.size == 300_000 and result.attempts == 1 and not result.vanished
    assert result.remote_path == f"{base}/up/{local.name}"


def test_upload_under_another_name_replaces_existing(tmp_path, sshd_server):
    ep, base = _endpoint(sshd_server, tmp_path)
    (base / "up" / "remote.dat").write_bytes(b"old")
    local = _payload(tmp_path, "local.dat", 1000)
    SftpStage(ep).upload(local, "remote.dat")
    assert (base / "up" / "remote.dat").read_bytes() == local.read_bytes()


def _seed_download(base: Path) -> dict[str, bytes]:
    files = {f"M602{i}.dat": os.urandom(50_000 + i) for i in range(3)}
    for name, data in files.items():
        (base / "down" / name).write_bytes(data)
    (base / "down" / ".M6029.dat.part").write_bytes(b"being written by the partner")
    (base / "down" / "readme.txt").write_bytes(b"not ours")
    (base / "down" / "sub").mkdir()
    return files


def test_download_all_then_delete(tmp_path, sshd_server):
    ep, base = _endpoint(sshd_server, tmp_path, download_pattern="M602*")
    files = _seed_download(base)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    registry = MemoryFetchedRegistry()

    report = SftpStage(ep).download_all(inbox, registry)

    assert sorted(f.remote_name for f in report.fetched) == sorted(files)
    assert all(f.remote_deleted for f in report.fetched)
    assert report.failed == [] and report.skipped == []
    assert {p.name: p.read_bytes() for p in inbox.iterdir()} == files
    assert sorted(p.name for p in (base / "down").iterdir()) == [".M6029.dat.part", "readme.txt", "sub"]
    assert len(registry.entries) == 3


def test_download_record_as_fetched_never_fetches_twice(tmp_path, sshd_server):
    ep, base = _endpoint(sshd_server, tmp_path, download_pattern="M602*", delete_after_download=False)
    files = _seed_download(base)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    registry = MemoryFetchedRegistry()
    stage = SftpStage(ep)

    first = stage.download_all(inbox, registry)
    for p in inbox.iterdir():
        p.unlink()  # the daemon claimed them
    second = stage.download_all(inbox, registry)

    assert len(first.fetched) == 3 and not any(f.remote_deleted for f in first.fetched)
    assert second.fetched == [] and sorted(second.skipped) == sorted(files)
    assert list(inbox.iterdir()) == []
    assert all((base / "down" / n).exists() for n in files)
    # A new file under an old name (new size and mtime) is fetched again.
    (base / "down" / "M6020.dat").write_bytes(b"a new delivery")
    os.utime(base / "down" / "M6020.dat", (time.time() + 5, time.time() + 5))
    third = stage.download_all(inbox, registry)
    assert [f.remote_name for f in third.fetched] == ["M6020.dat"]
    assert (inbox / "M6020.dat").read_bytes() == b"a new delivery"


def test_download_never_overwrites_a_local_file(tmp_path, sshd_server):
    ep, base = _endpoint(sshd_server, tmp_path, download_pattern="M602*")
    _seed_download(base)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "M6021.dat").write_bytes(b"unprocessed earlier file")
    report = SftpStage(ep).download_all(inbox, MemoryFetchedRegistry())
    assert [e.code for e in report.failed] == [TransferErrorCode.LOCAL_NAME_CONFLICT]
    assert report.failed[0].attempts == 1
    assert (inbox / "M6021.dat").read_bytes() == b"unprocessed earlier file"
    assert (base / "down" / "M6021.dat").exists()
    assert sorted(p.name for p in inbox.iterdir()) == ["M6020.dat", "M6021.dat", "M6022.dat"]


@pytest.mark.parametrize(("known", "code"), [
    ("unrelated_known_hosts", TransferErrorCode.HOST_KEY_UNKNOWN),
    ("wrong_known_hosts", TransferErrorCode.HOST_KEY_CHANGED),
])
def test_host_key_pinning_refuses(tmp_path, sshd_server, known, code):
    ep, base = _endpoint(sshd_server, tmp_path, known_hosts=getattr(sshd_server, known))
    local = _payload(tmp_path, "x.dat", 100)
    started = time.monotonic()
    with pytest.raises(TransferError) as info:
        SftpStage(ep).upload(local)
    assert info.value.code is code
    assert info.value.attempts == 1 and not info.value.retryable
    assert "refusing to connect" in info.value.reason
    assert time.monotonic() - started < 5
    assert list((base / "up").iterdir()) == []


def test_key_passphrase_missing_or_wrong(tmp_path, sshd_server):
    local = _payload(tmp_path, "x.dat", 100)
    for passphrase in (None, "wrong"):
        ep, _ = _endpoint(sshd_server, tmp_path, key_passphrase=passphrase)
        with pytest.raises(TransferError) as info:
            SftpStage(ep).upload(local)
        assert info.value.code is TransferErrorCode.KEY_UNUSABLE
        assert info.value.attempts == 1


def test_connection_refused_is_retried_then_reported(tmp_path, sshd_server):
    ep, _ = _endpoint(sshd_server, tmp_path, port=free_port(), retry_max_attempts=3)
    sleeps: list[float] = []
    with pytest.raises(TransferError) as info:
        SftpStage(ep, sleep=sleeps.append).upload(_payload(tmp_path, "x.dat", 10))
    err = info.value
    assert err.code is TransferErrorCode.CONNECT_FAILED and err.attempts == 3 and err.retryable
    assert "gave up after 3 attempts" in err.reason
    assert len(sleeps) == 2 and all(0 < s <= 0.2 for s in sleeps)
    assert err.to_dict()["local_path"].endswith("x.dat")


def test_transfers_report_their_outcome_for_the_metrics(tmp_path, sshd_server):
    from spool import events

    seen: list[tuple[str, tuple[str, ...]]] = []

    def listen(kind: str, labels: tuple[str, ...]) -> None:
        seen.append((kind, labels))

    events.subscribe(listen)
    try:
        ep, _base = _endpoint(sshd_server, tmp_path)
        SftpStage(ep).upload(_payload(tmp_path, "ok.dat", 100))
        dead, _ = _endpoint(sshd_server, tmp_path, port=free_port(), retry_max_attempts=2)
        with pytest.raises(TransferError):
            SftpStage(dead).upload(_payload(tmp_path, "nope.dat", 100))
    finally:
        events.unsubscribe(listen)
    assert seen == [("sftp", ("test-sshd", "upload", "success")), ("sftp", ("test-sshd", "upload", "failure"))]
