"""SFTP stage against the programmable fault server: cuts, stalls, consuming servers, no deletes."""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

import pytest

from spool.sftp import MemoryFetchedRegistry, SftpStage, TransferError, TransferErrorCode
from tests.fixtures.sftp_faults import FaultServer

NAME = "test.acme.debit.dat.20240102030405"


def _local(tmp: Path, size: int = 300_000) -> Path:
    path = tmp / NAME
    path.write_bytes(os.urandom(size))
    return path


def test_normal_upload(tmp_path, sftp_faults: FaultServer):
    local = _local(tmp_path)
    result = SftpStage(sftp_faults.endpoint()).upload(local)
    assert result.attempts == 1 and not result.vanished
    assert sftp_faults.files() == {f"up/{NAME}": local.read_bytes()}


def test_cut_mid_transfer_retries_and_final_file_appears_once_complete(tmp_path, sftp_faults: FaultServer):
    local = _local(tmp_path)
    sftp_faults.set_mode("cut_mid_transfer", cut_after_bytes=100_000, faulty_sessions=2)

    result = SftpStage(sftp_faults.endpoint()).upload(local)

    assert result.attempts == 3
    assert len(sftp_faults.events_of("cut")) == 2
    assert sftp_faults.files() == {f"up/{NAME}": local.read_bytes()}
    renames = sftp_faults.events_of("rename")
    assert [(e.path, e.detail) for e in renames] == [(f"up/{NAME}", f"up/.{NAME}.part")]
    # Only the temporary name was ever written: nobody could see a partial final file.
    assert {e.path for e in sftp_faults.events_of("open-write")} == {f"up/.{NAME}.part"}


def test_cut_every_time_gives_up_without_a_final_file(tmp_path, sftp_faults: FaultServer):
    local = _local(tmp_path)
    sftp_faults.set_mode("cut_mid_transfer", cut_after_bytes=50_000, faulty_sessions=-1)
    with pytest.raises(TransferError) as info:
        SftpStage(sftp_faults.endpoint(retry_max_attempts=3)).upload(local)
    assert info.value.code is TransferErrorCode.CONNECTION_LOST
    assert info.value.attempts == 3 and "gave up after 3 attempts" in info.value.reason
    assert f"up/{NAME}" not in sftp_faults.files()
    assert sftp_faults.events_of("rename") == []


@pytest.mark.parametrize(("read_timeout", "transfer_timeout", "why"), [
    (0.8, 5.0, "read timeout of 0.8 s"),
    (5.0, 1.0, "transfer timeout of 1 s"),
])
def test_stalled_server_each_attempt_aborts_within_its_timeout(tmp_path, sftp_faults: FaultServer,
                                                               read_timeout, transfer_timeout, why):
    local = _local(tmp_path, 10_000)
    sftp_faults.set_mode("stall", faulty_sessions=-1)
    ep = sftp_faults.endpoint(read_timeout=read_timeout, transfer_timeout=transfer_timeout, retry_max_attempts=3)
    limit = min(read_timeout, transfer_timeout)
    marks: list[float] = []

    def backoff(seconds: float) -> None:
        marks.append(time.monotonic())
        time.sleep(seconds)

    started = time.monotonic()
    with pytest.raises(TransferError) as info:
        SftpStage(ep, sleep=backoff).upload(local)
    ended = time.monotonic()
    assert info.value.code is TransferErrorCode.TIMEOUT
    assert info.value.attempts == 3
    assert why in info.value.reason
    assert len(sftp_faults.events_of("stall")) == 3
    # Attempt durations: start→first sleep, between sleeps (minus backoff ≤ 0.2 s), last sleep→end.
    bounds = [started, *marks, ended]
    durations = [b - a for a, b in itertools.pairwise(bounds)]
    assert all(limit - 0.1 < d < limit + 0.2 + 0.6 for d in durations), durations


def test_stalled_listing_times_out(tmp_path, sftp_faults: FaultServer):
    sftp_faults.set_mode("stall", faulty_sessions=-1)
    ep = sftp_faults.endpoint(read_timeout=0.8, transfer_timeout=5, retry_max_attempts=2)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    started = time.monotonic()
    with pytest.raises(TransferError) as info:
        SftpStage(ep).download_all(inbox, MemoryFetchedRegistry())
    assert info.value.code is TransferErrorCode.TIMEOUT and info.value.operation == "list"
    assert "read timeout of 0.8 s" in info.value.reason
    assert time.monotonic() - started < 2 * 0.8 + 2
    assert list(inbox.iterdir()) == []


def test_vanish_after_rename_is_success(tmp_path, sftp_faults: FaultServer):
    local = _local(tmp_path)
    sftp_faults.set_mode("vanish_after_rename")
    result = SftpStage(sftp_faults.endpoint()).upload(local)
    assert result.vanished and result.attempts == 1 and result.size == 300_000
    assert [e.path for e in sftp_faults.events_of("vanished")] == [f"up/{NAME}"]
    assert sftp_faults.files() == {}


def _seed(server: FaultServer, n: int = 2) -> dict[str, bytes]:
    files = {f"M602_{i}.dat": os.urandom(200_000 + i) for i in range(n)}
    for name, data in files.items():
        (server.root / "down" / name).write_bytes(data)
    return files


def test_no_delete_registry_prevents_second_fetch(tmp_path, sftp_faults: FaultServer):
    files = _seed(sftp_faults)
    sftp_faults.set_mode("no_delete", faulty_sessions=-1)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    registry = MemoryFetchedRegistry()
    stage = SftpStage(sftp_faults.endpoint())

    first = stage.download_all(inbox, registry)
    assert sorted(f.remote_name for f in first.fetched) == sorted(files)
    assert not any(f.remote_deleted for f in first.fetched)
    assert len(sftp_faults.events_of("remove-refused")) == 2
    reads_before = len(sftp_faults.events_of("open-read"))

    second = stage.download_all(inbox, registry)
    assert second.fetched == [] and sorted(second.skipped) == sorted(files)
    assert len(sftp_faults.events_of("open-read")) == reads_before
    assert {p.name: p.read_bytes() for p in inbox.iterdir()} == files


def test_cut_mid_download_retries_into_a_complete_file(tmp_path, sftp_faults: FaultServer):
    files = _seed(sftp_faults, 1)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sftp_faults.set_mode("cut_mid_transfer", cut_after_bytes=70_000, faulty_sessions=1)
    report = SftpStage(sftp_faults.endpoint()).download_all(inbox, MemoryFetchedRegistry())
    # The listing used the cut session's connection; the file needed a second attempt.
    assert len(sftp_faults.events_of("cut")) == 1
    assert [(f.remote_name, f.attempts, f.remote_deleted) for f in report.fetched] == [("M602_0.dat", 2, True)]
    assert {p.name: p.read_bytes() for p in inbox.iterdir()} == files
    assert sftp_faults.files() == {}
