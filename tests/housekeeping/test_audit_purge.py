"""audit-purge: export-then-delete in chunks; kill -9 between export and delete neither loses nor duplicates."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

from sqlalchemy import func, select, update

from store.db import Database
from store.models.bills import AuditEvent, AuditExport
from store.models.core import JobState
from tests.support import REPO, write_config

from .conftest import add_events, hk_config

JOB = {"audit": {"kind": "housekeeping.audit-purge",
                 "options": {"Keep.audit.for.x.days": 30, "purge.chunk.size": 100}}}


def _exported(logs: Path) -> list[int]:
    ids: list[int] = []
    for p in sorted(logs.glob("auditEvents_*.log")):
        ids += [json.loads(line)["id"] for line in p.read_bytes().splitlines()]
    return ids


def _db_state(db: Database) -> tuple[int | None, int | None, int | None]:
    with db.transaction() as s:
        left = s.scalar(select(func.count(AuditEvent.id)))
        young = s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.actor == "young"))
        recorded = s.scalar(select(func.coalesce(func.sum(AuditExport.events), 0)))
    return left, young, recorded


def test_export_then_delete_in_chunks(hk_env):
    env = hk_env(JOB)
    add_events(env.db, old=250, young=5)
    with env.db.transaction() as s:
        old_ids = sorted(s.scalars(select(AuditEvent.id).where(AuditEvent.actor != "young")))
    r = env.job("audit")
    assert r.outcome == "success" and r.counts == {"exported": 250, "deleted": 250, "tail_bytes_cut": 0}
    logs = env.root / "logs"
    [log] = list(logs.iterdir())
    assert re.fullmatch(r"auditEvents_\d{14}\.log", log.name)
    assert _exported(logs) == old_ids
    first = json.loads(log.read_bytes().splitlines()[0])
    assert first["event_type"] == "payment_changed" and first["detail"]["note"] == "é ✓"
    assert _db_state(env.db) == (5, 5, 250)
    with env.db.transaction() as s:
        chunks = [(e.events, e.start_offset, e.end_offset) for e in s.scalars(select(AuditExport)
                                                                              .order_by(AuditExport.id))]
    assert [c[0] for c in chunks] == [100, 100, 50]
    assert chunks[0][1] == 0 and chunks[-1][2] == log.stat().st_size
    assert all(a[2] == b[1] for a, b in pairwise(chunks))
    assert env.job("audit").outcome == "noop"
    assert len(list(logs.iterdir())) == 1


def test_bad_options_fail_the_run(hk_env):
    env = hk_env({"audit": {"kind": "housekeeping.audit-purge", "options": {"purge.chunk.size": 0}}})
    add_events(env.db, old=3, young=0)
    r = env.job("audit")
    assert r.outcome == "failure" and "older_than_days" in r.message
    assert _db_state(env.db)[0] == 3


def _config(tmp_path: Path, db_url: str) -> Path:
    return write_config(tmp_path / "spoolgate.toml", hk_config(tmp_path, db_url, JOB))


def _run(config: Path, crash: str | None = None, kill_after: float | None = None) -> int:
    env = dict(os.environ)
    env.pop("SPOOLGATE_CRASHPOINT", None)
    if crash:
        env["SPOOLGATE_CRASHPOINT"] = crash
    proc = subprocess.Popen([sys.executable, "-m", "daemon", "--config", str(config), "jobs", "run", "audit"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if kill_after is not None:
        try:
            return proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait(timeout=60)


def _unlock(db: Database) -> None:
    """A killed run's job lock lapses after scheduler.LOCK_S; let it lapse now."""
    with db.transaction() as s:
        s.execute(update(JobState).values(lock_owner=None, lock_until=None))


def test_kill_between_export_and_delete_then_rerun(tmp_path, db_url):
    config = _config(tmp_path, db_url)
    db = Database(db_url, pool=False)
    try:
        add_events(db, old=150, young=2)
        assert _run(config, crash="audit_purge_after_export") == -9
        logs = tmp_path / "logs"
        assert len(_exported(logs)) == 100  # the first chunk is on disk...
        assert _db_state(db) == (152, 2, 0)  # ...and still in the table
        _unlock(db)
        assert _run(config) == 0
        ids = _exported(logs)
        assert len(ids) == 150 and len(set(ids)) == 150
        assert _db_state(db) == (2, 2, 150)
    finally:
        db.dispose()


def test_kill_at_random_moments_loses_and_duplicates_nothing(tmp_path, db_url):
    config = _config(tmp_path, db_url)
    db = Database(db_url, pool=False)
    rng = random.Random(7)
    try:
        add_events(db, old=3000, young=3)
        with db.transaction() as s:
            expected = sorted(s.scalars(select(AuditEvent.id).where(AuditEvent.actor != "young")))
        kills = 0
        for _ in range(3):
            code = _run(config, kill_after=rng.uniform(0.7, 1.5))
            _unlock(db)
            if code == 0:
                break
            kills += 1
            time.sleep(0.05)
        else:
            assert _run(config) == 0
        ids = _exported(tmp_path / "logs")
        assert sorted(ids) == expected, (kills, len(ids), len(set(ids)))
        assert _db_state(db) == (3, 3, 3000)
    finally:
        db.dispose()
