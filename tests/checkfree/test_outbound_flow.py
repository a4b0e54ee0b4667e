"""Outbound: debit file → out/history → encrypt → out/ftp → SFTP upload → removed; kill -9 between steps."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, update

from daemon.scheduler import Scheduler
from formats.checkfree import read_file
from handlers.checkfree.debit import write_debit_file
from store.config import Settings
from store.db import Database
from store.models.ach import CheckPayment
from store.models.checkfree import CheckfreeTransfer
from store.models.core import JobState, OutboundItem
from store.unit import UnitOfWork
from tests.checkfree import helpers as h
from tests.support import REPO, write_config

EASTERN_MORNING = dt.datetime(2024, 1, 31, 14, 0, tzinfo=dt.UTC)  # 09:00 EST, a Wednesday


def _sshd_endpoint(sshd) -> dict:
    remote = sshd.remote_root / f"t-{uuid.uuid4().hex[:8]}"
    remote.mkdir()
    return {"host": sshd.host, "port": sshd.port, "user": sshd.user, "key_file": str(sshd.key_path),
            "key_passphrase": sshd.key_passphrase, "known_hosts": str(sshd.known_hosts),
            "upload_dir": str(remote), "download_dir": str(remote), "connect_timeout": 5, "read_timeout": 5,
            "transfer_timeout": 20, "retry_max_attempts": 2, "backoff_min": 0.05, "backoff_max": 0.1}


@pytest.fixture
def outbound(tmp_path: Path, db_url: str, gpg_keys, pgp_home_factory):
    yield from _outbound(tmp_path, db_url, gpg_keys, pgp_home_factory)


@pytest.fixture
def outbound_sqlite(tmp_path: Path, sqlite_url: str, gpg_keys, pgp_home_factory):
    yield from _outbound(tmp_path, sqlite_url, gpg_keys, pgp_home_factory)


def _outbound(tmp_path, db_url, gpg_keys, pgp_home_factory):
    made: list[Database] = []

    def make(sftp: dict) -> tuple[Settings, Database, dict]:
        home = pgp_home_factory(secret=(gpg_keys.ours,), public=(gpg_keys.partner,))
        cfg = h.config(tmp_path, db_url, gpg_keys, home.home, sftp=sftp)
        settings = h.make_settings(cfg)
        db = Database(settings.database_url)
        made.append(db)
        return settings, db, cfg

    yield make
    for d in made:
        d.dispose()


def _submit(settings: Settings, db: Database, n: int = 3, now: dt.datetime = EASTERN_MORNING) -> tuple[str, dict]:
    ids = h.add_payments(db, n, status=6)
    with UnitOfWork(db, settings, source="test") as uow:
        rows = list(uow.session.scalars(select(CheckPayment).where(CheckPayment.payment_id.in_(ids))))
        result = write_debit_file(uow, settings, "acme", rows, now=now)
    return result["file"], result


def _folders(root: Path) -> dict[str, list[str]]:
    base = root / "spool" / "checkfree" / "out"
    return {d: sorted(p.name for p in (base / d).iterdir()) if (base / d).exists() else []
            for d in ("bd", "history", "ftp", "error")}


def _decrypt(partner, path: Path, tmp: Path) -> bytes:
    out = tmp / f"dec-{uuid.uuid4().hex[:6]}"
    partner.decrypt_file(path, out, passphrase="partner-pass")
    return out.read_bytes()


def test_debit_file_is_staged_with_a_transfer_row(outbound, tmp_path, sshd_server):
    settings, db, _ = outbound(_sshd_endpoint(sshd_server))
    name, result = _submit(settings, db)
    assert result["written"] and result["detail_count"] == 3 and result["total_amount"] == 1500 * 6
    assert result["late"] is False and result["action_code"] == "ADD"
    plain = (tmp_path / "spool/checkfree/out/bd" / name).read_bytes()
    cdp = read_file(__import__("io").BytesIO(plain), expected_type="debit")
    assert cdp.ok and cdp.client_id == h.CLIENT and cdp.header is not None and cdp.header.system == "test"
    with db.transaction() as s:
        t = s.scalar(select(CheckfreeTransfer))
        items = list(s.scalars(select(OutboundItem)))
        assert t is not None and (t.name, t.state, t.detail_count, t.payee) == (name, "new", 3, "acme")
        assert len(items) == 3 and sum(i.amount or 0 for i in items) == 9000


def test_after_cutoff_and_weekend_warn():
    from handlers.checkfree.cutoff import after_cutoff
    from handlers.checkfree.settings import CheckFreeSettings

    cf = CheckFreeSettings()
    assert after_cutoff(cf, EASTERN_MORNING) is None
    assert "after CheckFree's 12:00 cut-off" in (after_cutoff(cf, dt.datetime(2024, 1, 31, 17, 1, tzinfo=dt.UTC))
                                                  or "")
    assert "weekdays only" in (after_cutoff(cf, dt.datetime(2024, 2, 3, 14, 0, tzinfo=dt.UTC)) or "")


def test_empty_file_only_when_configured(outbound, sshd_server):
    settings, db, _ = outbound(_sshd_endpoint(sshd_server))
    with UnitOfWork(db, settings) as uow:
        assert write_debit_file(uow, settings, "acme", [])["written"] is False


def test_outbound_end_to_end_with_real_sshd(outbound, tmp_path, sshd_server, partner_pgp):
    ep = _sshd_endpoint(sshd_server)
    settings, db, _ = outbound(ep)
    name, _ = _submit(settings, db)
    plain = (tmp_path / "spool/checkfree/out/bd" / name).read_bytes()

    run = Scheduler(settings, db, identity="t").run("cf-out")

    assert run.outcome == "success", run.message
    assert run.counts == {"archived": 1, "encrypted": 1, "uploaded": 1, "done": 1}
    remote = Path(ep["upload_dir"])
    assert sorted(p.name for p in remote.iterdir()) == [f"{name}.pgp"]
    assert _decrypt(partner_pgp, remote / f"{name}.pgp", tmp_path) == plain
    assert _folders(tmp_path) == {"bd": [], "history": [name], "ftp": [], "error": []}
    assert (tmp_path / "spool/checkfree/out/history" / name).read_bytes() == plain
    with db.transaction() as s:
        t = s.scalar(select(CheckfreeTransfer))
        assert t is not None and t.state == "done" and t.upload_attempts == 1
        assert t.remote_path == f"{ep['upload_dir']}/{name}.pgp"
    assert Scheduler(settings, db, identity="t").run("cf-out").outcome == "noop"


#: on both backends; the remaining steps run on SQLite only to keep the folder fast
CRASH_POINTS = ["checkfree_after_encrypt", "checkfree_before_upload", "checkfree_after_upload"]
SQLITE_CRASH_POINTS = ["checkfree_after_history", "checkfree_after_bd_removed", "checkfree_after_uploaded_commit",
                       "checkfree_after_ftp_removed"]


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_kill_9_between_steps_neither_loses_nor_repeats(outbound, tmp_path, sshd_server, partner_pgp, point):
    _kill_9_and_rerun(outbound, tmp_path, sshd_server, partner_pgp, point)


@pytest.mark.parametrize("point", SQLITE_CRASH_POINTS)
def test_kill_9_at_the_other_steps(outbound_sqlite, tmp_path, sshd_server, partner_pgp, point):
    _kill_9_and_rerun(outbound_sqlite, tmp_path, sshd_server, partner_pgp, point)


def _kill_9_and_rerun(outbound, tmp_path, sshd_server, partner_pgp, point):
    ep = _sshd_endpoint(sshd_server)
    settings, db, cfg = outbound(ep)
    name, _ = _submit(settings, db)
    plain = (tmp_path / "spool/checkfree/out/bd" / name).read_bytes()
    conf = write_config(tmp_path / "spoolgate.toml", cfg)
    env = dict(os.environ, SPOOLGATE_CRASHPOINT=point)
    cmd = [sys.executable, "-m", "daemon", "--config", str(conf), "jobs", "run", "cf-out"]
    killed = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, timeout=60)
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    with db.transaction() as s:  # the dead run's job lock would expire after LOCK_S; expire it now
        s.execute(update(JobState).where(JobState.job == "cf-out").values(lock_until=dt.datetime(2000, 1, 1,
                                                                                                  tzinfo=dt.UTC)))
    env.pop("SPOOLGATE_CRASHPOINT")
    rerun = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]
    assert json.loads(rerun.stdout.decode().strip().splitlines()[-1])["outcome"] == "success"

    remote = Path(ep["upload_dir"])
    assert sorted(p.name for p in remote.iterdir()) == [f"{name}.pgp"]
    assert _decrypt(partner_pgp, remote / f"{name}.pgp", tmp_path) == plain
    assert _folders(tmp_path) == {"bd": [], "history": [name], "ftp": [], "error": []}
    with db.transaction() as s:
        t = s.scalar(select(CheckfreeTransfer))
        assert t is not None and t.state == "done"
        # Sent again only when the dead run had not started sending; a finished upload is found, not resent.
        assert t.upload_attempts == (2 if point == "checkfree_before_upload" else 1)


def test_cut_mid_transfer_retries_to_one_complete_file(outbound, tmp_path, sftp_faults, partner_pgp):
    ep = sftp_faults.endpoint().model_dump(mode="json")
    ep.pop("name")
    settings, db, _ = outbound(ep)
    name, _ = _submit(settings, db, n=40)
    plain = (tmp_path / "spool/checkfree/out/bd" / name).read_bytes()
    sftp_faults.set_mode("cut_mid_transfer", cut_after_bytes=500, faulty_sessions=1)
    run = Scheduler(settings, db, identity="t").run("cf-out")
    assert run.outcome == "success", run.message
    assert len(sftp_faults.events_of("cut")) == 1
    files = sftp_faults.files()
    assert list(files) == [f"up/{name}.pgp"]
    enc = tmp_path / "got.pgp"
    enc.write_bytes(files[f"up/{name}.pgp"])
    assert _decrypt(partner_pgp, enc, tmp_path) == plain
    assert _folders(tmp_path) == {"bd": [], "history": [name], "ftp": [], "error": []}


def test_stalled_server_files_the_upload_to_error_and_a_retry_sends_it(outbound, tmp_path, sftp_faults):
    ep = sftp_faults.endpoint(read_timeout=0.5, transfer_timeout=2, retry_max_attempts=2).model_dump(mode="json")
    ep.pop("name")
    settings, db, _ = outbound(ep)
    name, _ = _submit(settings, db)
    sftp_faults.set_mode("stall", faulty_sessions=-1)
    run = Scheduler(settings, db, identity="t").run("cf-out")
    assert run.outcome == "failure" and "timeout" in run.message
    assert _folders(tmp_path) == {"bd": [], "history": [name], "ftp": [],
                                  "error": [f"{name}.pgp", f"{name}.pgp.error.json"]}
    report = json.loads((tmp_path / "spool/checkfree/out/error" / f"{name}.pgp.error.json").read_text())
    assert report["code"] == "timeout" and report["attempts"] == 2
    with db.transaction() as s:
        t = s.scalar(select(CheckfreeTransfer))
        assert t is not None and t.state == "error"
    # The operator moves it back once the server behaves again.
    sftp_faults.release_stalls()
    sftp_faults.set_mode("normal")
    err = tmp_path / "spool/checkfree/out/error"
    os.rename(err / f"{name}.pgp", tmp_path / "spool/checkfree/out/ftp" / f"{name}.pgp")
    assert Scheduler(settings, db, identity="t").run("cf-out").outcome == "success"
    assert list(sftp_faults.files()) == [f"up/{name}.pgp"]
    assert _folders(tmp_path) == {"bd": [], "history": [name], "ftp": [], "error": []}


def test_server_that_consumes_the_upload_counts_as_success(outbound, tmp_path, sftp_faults):
    ep = sftp_faults.endpoint().model_dump(mode="json")
    ep.pop("name")
    settings, db, _ = outbound(ep)
    name, _ = _submit(settings, db)
    sftp_faults.set_mode("vanish_after_rename", faulty_sessions=1)
    run = Scheduler(settings, db, identity="t").run("cf-out")
    assert run.outcome == "success", run.message
    assert len(sftp_faults.events_of("vanished")) == 1 and sftp_faults.files() == {}
    assert _folders(tmp_path) == {"bd": [], "history": [name], "ftp": [], "error": []}
    with db.transaction() as s:
        t = s.scalar(select(CheckfreeTransfer))
        assert t is not None and t.state == "done"
