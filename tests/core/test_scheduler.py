"""Job scheduling: intervals, business days, start times, exclusivity, run records, notifications."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from daemon.scheduler import JobBusy, Scheduler, first_run, next_run
from store.config import Job, Settings
from store.db import Database
from store.models.core import JobRun, Notification
from tests.support import archive_config

UTC = dt.UTC


def test_next_run_with_start_time_and_business_days():
    job = Job(kind="core.noop", every="1 business days", at="02:00", calendar="us-fed")
    after = dt.datetime(2026, 6, 18, 12, 0, tzinfo=UTC)
    nxt = next_run(job, after).astimezone()
    assert nxt.date() == dt.date(2026, 6, 22) and (nxt.hour, nxt.minute) == (2, 0)
    hourly = Job(kind="core.noop", every="1 h", at="00:30")
    n = next_run(hourly, dt.datetime(2026, 1, 1, 10, 45, tzinfo=UTC).astimezone())
    assert n.astimezone().minute == 30 and n > dt.datetime(2026, 1, 1, 10, 45, tzinfo=UTC)
    assert first_run(Job(kind="core.noop", every="10 s"), dt.datetime(2026, 1, 1, tzinfo=UTC)) == \
        dt.datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC)


@pytest.fixture
def sched_env(tmp_path, db_url):
    cfg = archive_config(tmp_path, db_url, jobs={
        "quick": {"kind": "core.noop", "every": "1 s", "notify_on": ["noop", "failure"],
                  "recipients": ["ops@example.com"]},
        "broken": {"kind": "core.noop", "every": "1 h", "options": {"fail": True},
                   "recipients": ["ops@example.com"]},
        "slow": {"kind": "core.noop", "every": "1 h", "options": {"sleep_s": 1.5}},
    })
    settings = Settings(**cfg)
    db = Database(settings.database_url)
    yield settings, db
    db.dispose()


def test_run_records_and_notifications(sched_env):
    settings, db = sched_env
    s = Scheduler(settings, db, identity="test")
    assert s.run("quick").outcome == "noop"
    r = s.run("broken")
    assert r.outcome == "failure" and "configured to fail" in r.message
    with db.transaction() as sess:
        runs = sess.scalars(select(JobRun).order_by(JobRun.id)).all()
        assert [(x.job, x.outcome) for x in runs] == [("quick", "noop"), ("broken", "failure")]
        assert all(x.finished_at is not None for x in runs)
        notes = sess.scalars(select(Notification).order_by(Notification.id)).all()
        assert [n.kind for n in notes] == ["job-noop", "job-failure"]
        assert "FAILED" in notes[1].subject and "configured to fail" in notes[1].body


def test_job_never_runs_twice_at_once_across_schedulers(sched_env):
    settings, db = sched_env
    a, b = Scheduler(settings, db, identity="daemon-a"), Scheduler(settings, db, identity="daemon-b")
    started = threading.Event()
    result: dict[str, str] = {}

    def run_a() -> None:
        started.set()
        result["a"] = a.run("slow").outcome

    t = threading.Thread(target=run_a)
    t.start()
    started.wait()
    import time

    time.sleep(0.5)
    with pytest.raises(JobBusy):
        b.run("slow")
    t.join()
    assert result["a"] == "noop"
    assert b.run("slow").outcome == "noop"  # free again once the first run finished


def test_tick_runs_due_jobs_and_schedules_the_next(sched_env):
    settings, db = sched_env
    clock = [dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)]
    s = Scheduler(settings, db, identity="t", clock=lambda: clock[0])
    assert s.tick() == []  # first sighting schedules; nothing due yet
    clock[0] += dt.timedelta(seconds=2)
    ran = sorted(r.job for r in s.tick())
    assert ran == ["quick"]
    listing = {j["job"]: j for j in s.list()}
    assert listing["quick"]["last_outcome"] == "noop" and listing["broken"]["last_outcome"] is None


def test_lock_of_a_killed_run_on_this_host_is_taken_over(sched_env):
    import socket

    from store.models.core import JobState

    settings, db = sched_env
    with db.transaction() as s:
        s.add(JobState(job="quick", lock_owner=f"{socket.gethostname()}:999999:gone",
                       lock_until=dt.datetime.now(UTC) + dt.timedelta(minutes=5)))
    assert Scheduler(settings, db, identity="t").run("quick").outcome == "noop"
    with db.transaction() as s:
        s.add(JobState(job="slow", lock_owner="other-host:1:x",
                       lock_until=dt.datetime.now(UTC) + dt.timedelta(minutes=5)))
    with pytest.raises(JobBusy):  # a live (or unknowable) owner keeps its lock until it expires
        Scheduler(settings, db, identity="t").run("slow")


def test_a_template_error_fails_the_run_and_the_schedule_moves_on(sched_env, tmp_path, monkeypatch):
    from store.models.core import JobState

    settings, db = sched_env
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "batch_noop.txt.j2").write_text("{{ job }} ran {{ outcome | no_such_filter }}\n")
    monkeypatch.setenv("SPOOLGATE_TEMPLATES", str(templates))
    clock = [dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)]
    s = Scheduler(settings, db, identity="t", clock=lambda: clock[0])
    s.tick()
    clock[0] += dt.timedelta(seconds=2)
    [run] = s.tick()
    assert run.job == "quick" and run.outcome == "failure"
    assert "noop e-mail could not be rendered" in run.message and "no_such_filter" in run.message
    with db.transaction() as sess:
        row = sess.scalars(select(JobRun).where(JobRun.job == "quick")).one()
        assert (row.outcome, row.finished_at is not None) == ("failure", True)
        assert "no_such_filter" in (row.message or "")
        st = sess.get(JobState, "quick")
        assert st is not None and st.lock_owner is None and st.next_run_at > clock[0]
        notes = sess.scalars(select(Notification)).all()
        assert [n.kind for n in notes] == ["job-failure"]  # the failure e-mail still goes out
        assert "no_such_filter" in notes[0].body
    assert s.tick() == []  # not rerun before its next time
