"""bills.xfer: RENAME on one filesystem, COPY_AND_DELETE from tmpfs (/dev/shm) with kill -9 mid-copy and after placing.

The job runs as ``python -m daemon --config X jobs run NAME`` in a subprocess so a
crash point can kill it for real; the rerun must leave exactly one complete copy
in the bills inbox and no source.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from spool import atomic
from store.db import Database
from store.models.bills import BillTransfer
from store.models.core import JobState
from tests.bills.conftest import bills_config
from tests.support import REPO, write_config

SHM = Path("/dev/shm")


@pytest.fixture
def shm_dir() -> Iterator[Path]:
    d = SHM / f"sg-xfer-{uuid.uuid4().hex[:8]}"
    d.mkdir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _setup(tmp_path: Path, db_url: str, source: Path, method: str) -> Path:
    cfg = bills_config(tmp_path, db_url, jobs={"xfer": {
        "kind": "bills.xfer", "every": "1 day",
        "options": {"source": str(source), "move.method": method, "min_age_s": 0}}})
    return write_config(tmp_path / "spoolgate.toml", cfg)


def _run(config: Path, crash: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("SPOOLGATE_CRASHPOINT", None)
    if crash:
        env["SPOOLGATE_CRASHPOINT"] = crash
    return subprocess.run([sys.executable, "-m", "daemon", "--config", str(config), "jobs", "run", "xfer"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


def _expire_lock(db_url: str) -> None:
    """A killed run's job lock lapses after scheduler.LOCK_S; let it lapse now instead of waiting."""
    db = Database(db_url, pool=False)
    try:
        with db.transaction() as s:
            s.execute(update(JobState).where(JobState.job == "xfer").values(lock_owner=None, lock_until=None))
    finally:
        db.dispose()


def _transfers(db_url: str) -> list[tuple[str, str]]:
    db = Database(db_url, pool=False)
    try:
        with db.transaction() as s:
            return [(Path(r.target).name, r.state) for r in s.scalars(select(BillTransfer))]
    finally:
        db.dispose()


def _big(path: Path, mb: int = 3) -> str:
    data = os.urandom(mb << 20)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_tmpfs_is_another_filesystem(tmp_path, shm_dir):
    assert os.stat(shm_dir).st_dev != os.stat(tmp_path).st_dev


def test_copy_and_delete_killed_mid_copy_then_rerun(tmp_path, db_url, shm_dir):
    source = shm_dir / "in"
    config = _setup(tmp_path, db_url, source, "COPY_AND_DELETE")
    inbox = tmp_path / "spool/bills/processing"
    first = _run(config)  # first run creates the folders, finds nothing
    assert first.returncode == 0 and '"noop"' in first.stdout, first.stderr
    assert source.is_dir() and inbox.is_dir()
    digest = _big(source / "big.xml")
    killed = _run(config, crash="bills_xfer_mid_copy")
    assert killed.returncode == -9
    assert (source / "big.xml").exists()
    left = sorted(p.name for p in inbox.iterdir())
    # hidden: the inbox never sees a partial file
    assert len(left) == 1 and left[0].startswith(".big.xml.") and atomic.is_temp(left[0]), left
    assert (inbox / left[0]).stat().st_size < (3 << 20)
    assert _transfers(db_url) == []
    _expire_lock(db_url)
    again = _run(config)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in inbox.iterdir()) == ["big.xml"]
    assert _sha(inbox / "big.xml") == digest
    assert list(source.iterdir()) == []
    assert _transfers(db_url) == [("big.xml", "done")]


def test_copy_and_delete_killed_after_placing_is_finished_not_repeated(tmp_path, db_url, shm_dir):
    source = shm_dir / "in"
    source.mkdir()
    config = _setup(tmp_path, db_url, source, "COPY_AND_DELETE")
    inbox = tmp_path / "spool/bills/processing"
    digest = _big(source / "a.xml", 1)
    killed = _run(config, crash="bills_xfer_after_place")
    assert killed.returncode == -9
    assert (source / "a.xml").exists() and _sha(inbox / "a.xml") == digest
    # Meanwhile the daemon takes the placed copy out of the inbox; the rerun must not copy it again.
    consumed = tmp_path / "consumed.xml"
    os.rename(inbox / "a.xml", consumed)
    _expire_lock(db_url)
    again = _run(config)
    assert again.returncode == 0, again.stderr
    assert '"recovered": 1' in again.stdout and '"moved": 0' in again.stdout
    assert list(inbox.iterdir()) == [] and list(source.iterdir()) == []
    assert _transfers(db_url) == [("a.xml", "done")]


def test_rename_on_one_filesystem_and_refused_across(tmp_path, db_url, shm_dir):
    same = tmp_path / "bills-in"
    config = _setup(tmp_path, db_url, same, "RENAME")
    same.mkdir()
    (same / "x.xml").write_bytes(b"<bills/>")
    (same / ".hidden.xml").write_bytes(b"partial")
    (same / "y.xml.part").write_bytes(b"partial")
    r = _run(config)
    assert r.returncode == 0 and '"moved": 1' in r.stdout, r.stderr
    inbox = tmp_path / "spool/bills/processing"
    assert sorted(p.name for p in inbox.iterdir()) == ["x.xml"]
    assert sorted(p.name for p in same.iterdir()) == [".hidden.xml", "y.xml.part"]

    across = shm_dir / "in"
    across.mkdir()
    (across / "z.xml").write_bytes(b"<bills/>")
    config = _setup(tmp_path, db_url, across, "RENAME")
    r = _run(config)
    assert r.returncode == 1
    assert "different filesystems; use COPY_AND_DELETE" in r.stdout
    assert (across / "z.xml").exists() and not (inbox / "z.xml").exists()


def test_signal_files_follow_their_data_files(tmp_path, db_url):
    same = tmp_path / "bills-in"
    config = _setup(tmp_path, db_url, same, "RENAME")
    same.mkdir()
    for name in ("a.xml.done", "a.xml", "b.xml"):
        (same / name).write_bytes(b"<bills/>")
    r = _run(config)
    assert r.returncode == 0 and '"moved": 3' in r.stdout, r.stderr
    inbox = tmp_path / "spool/bills/processing"
    assert sorted(p.name for p in inbox.iterdir()) == ["a.xml", "a.xml.done", "b.xml"]
    ctime = {p.name: p.stat().st_ctime_ns for p in inbox.iterdir()}
    assert ctime["a.xml.done"] >= max(ctime["a.xml"], ctime["b.xml"])  # renamed last
