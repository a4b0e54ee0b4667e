"""Late-file alerts: one alert per missed deadline even with two daemons, cleared when the file comes."""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from typing import Any

from sqlalchemy import func, select

from daemon import expectations
from daemon.mailer import Mailer
from store.config import Settings
from store.db import Database
from store.models.alerts import ExpectationEvent
from store.models.core import Notification, SpoolFile
from tests.support import REPO, DaemonProcess, archive_config, files_in, wait_for, write_config

from .conftest import smtp_for

UTC = dt.UTC
#: Monday 30 November 2026; 10:00 in New York is 15:00 UTC
MONDAY = dt.date(2026, 11, 30)
RULE = {"name": "returns", "pattern": "RET*.ach", "by": "10:00", "timezone": "America/New_York",
        "calendar": "us-fed", "grace_min": 30, "recipients": ["ops@example.com"]}


def _settings(tmp_path, db_url: str, *rules: dict[str, Any]) -> Settings:
    return Settings(**archive_config(tmp_path, db_url, channel={"expectations": list(rules)}))


def _at(day: dt.date, hh: int, mm: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=UTC)


def _arrive(db: Database, name: str, when: dt.datetime) -> None:
    with db.transaction() as s:
        s.add(SpoolFile(channel="drop", original_name=name, work_name=f"w.{name}.{when.timestamp()}", state="done",
                        claimed_at=when))


def _alerts(db: Database) -> list[Notification]:
    with db.transaction() as s:
        rows = list(s.scalars(select(Notification).order_by(Notification.id)))
        s.expunge_all()
        return rows


def _status(db: Database, settings: Settings, now: dt.datetime) -> expectations.ExpectationStatus:
    with db.transaction() as s:
        (st,) = expectations.status(s, settings, now)
        return st


def test_missed_deadline_alerts_once_across_daemons_and_clears_on_arrival(tmp_path, db_url, smtp_server):
    settings = _settings(tmp_path, db_url, RULE)
    db = Database(db_url)
    try:
        assert expectations.evaluate(db, settings, _at(MONDAY, 15, 20), identity="a") == []
        assert _status(db, settings, _at(MONDAY, 15, 20)).state == "waiting"
        _arrive(db, "other.txt", _at(MONDAY, 15, 0))  # not matching: does not count
        (late,) = expectations.evaluate(db, settings, _at(MONDAY, 15, 31), identity="a")
        assert (late.state, late.day, late.due_at) == ("late", MONDAY, _at(MONDAY, 15, 30))
        # the second daemon and a restart find the row: no second alert
        assert expectations.evaluate(db, settings, _at(MONDAY, 15, 32), identity="b") == []
        assert expectations.evaluate(db, settings, _at(MONDAY, 16, 0), identity="a") == []
        st = _status(db, settings, _at(MONDAY, 16, 0))
        assert st.is_late and st.alerted_at == _at(MONDAY, 15, 31)
        (alert,) = _alerts(db)
        assert alert.kind == "late-file" and alert.recipients == ["ops@example.com"] and alert.lane == "immediate"
        assert "returns" in alert.subject and "2026-11-30" in alert.subject and "RET*.ach" in alert.body

        _arrive(db, "RET20261130.ach", _at(MONDAY, 16, 5))
        (cleared,) = expectations.evaluate(db, settings, _at(MONDAY, 16, 6), identity="b")
        assert (cleared.state, cleared.file_name) == ("arrived_late", "RET20261130.ach")
        assert expectations.evaluate(db, settings, _at(MONDAY, 16, 7), identity="a") == []
        st = _status(db, settings, _at(MONDAY, 16, 7))
        assert (st.state, st.file_name, st.arrived_at) == ("arrived_late", "RET20261130.ach", _at(MONDAY, 16, 5))
        alert, arrived = _alerts(db)
        assert arrived.kind == "late-file-arrived" and "RET20261130.ach" in arrived.body
        with db.transaction() as s:
            assert s.scalar(select(func.count()).select_from(ExpectationEvent)) == 1

        mailer = Mailer(smtp_for(smtp_server), db, identity="t")
        assert mailer.send_pending() == 2
        subjects = [m.message["Subject"] for m in smtp_server.wait_for(2)]
        assert subjects[0].startswith("[spoolgate] LATE: returns") and "ARRIVED" in subjects[1]

        # Tuesday: on time, no alert; the status says met
        tuesday = MONDAY + dt.timedelta(days=1)
        _arrive(db, "RET20261201.ach", _at(tuesday, 14, 0))
        assert expectations.evaluate(db, settings, _at(tuesday, 16, 0)) == []
        st = _status(db, settings, _at(tuesday, 16, 0))
        assert (st.state, st.file_name, st.alerted_at) == ("met", "RET20261201.ach", None)
        with db.transaction() as s:  # recorded once, so later ticks need not look for the file again
            assert s.scalar(select(ExpectationEvent.state).where(ExpectationEvent.day == tuesday)) == "met"
        assert len(_alerts(db)) == 2
    finally:
        db.dispose()


def test_calendar_holidays_and_weekday_lists(tmp_path, db_url):
    thanksgiving = dt.date(2026, 11, 26)
    settings = _settings(tmp_path, db_url, RULE, {**RULE, "name": "thursdays", "calendar": "none",
                                                  "weekdays": ["thu"]})
    db = Database(db_url)
    try:
        late = expectations.evaluate(db, settings, _at(thanksgiving, 16, 0))
        # the us-fed rule has no business day on Thanksgiving: only Wednesday's miss (within the lookback)
        assert {(st.name, st.day) for st in late} == {("returns", dt.date(2026, 11, 25)),
                                                      ("thursdays", thanksgiving)}
        saturday = dt.date(2026, 11, 28)
        assert [(st.name, st.day) for st in expectations.evaluate(db, settings, _at(saturday, 16, 0))] == \
            [("returns", dt.date(2026, 11, 27))]  # Friday's miss; Saturday expects nothing
        assert expectations.evaluate(db, settings, _at(saturday + dt.timedelta(days=1), 16, 0)) == []
        with db.transaction() as s:
            by_name = {st.name: st for st in expectations.status(s, settings, _at(saturday, 16, 0))}
        assert by_name["returns"].day == dt.date(2026, 11, 27)  # Friday: the latest business day
        assert by_name["thursdays"].is_late and by_name["thursdays"].day == thanksgiving
    finally:
        db.dispose()


def test_check_config_rejects_bad_rules(tmp_path, sqlite_url):
    bad = [{**RULE, "by": "25:00"}, {**RULE, "timezone": "Mars/Olympus"}, {**RULE, "weekdays": ["funday"]}]
    for rule in bad:
        path = write_config(tmp_path / "bad.toml", archive_config(tmp_path, sqlite_url,
                                                                   channel={"expectations": [rule]}))
        r = subprocess.run([sys.executable, "-m", "daemon", "--config", str(path), "check-config"], cwd=REPO,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 78 and "expectations" in r.stderr, r.stderr
    rules = [{**RULE, "recipients": []}, {**RULE, "name": "x", "calendar": "mars"},
             {**RULE, "name": "x", "pattern": "*.tmp"}]
    path = write_config(tmp_path / "bad.toml", archive_config(tmp_path, sqlite_url, channel={"expectations": rules}))
    r = subprocess.run([sys.executable, "-m", "daemon", "--config", str(path), "check-config"], cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 78
    assert "expectations[0]: no recipients" in r.stderr
    assert "expectations[1].calendar: unknown calendar 'mars'" in r.stderr
    assert "expectations[2]: name 'x' is used twice" in r.stderr and "temporary, hidden or signal" in r.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_running_daemon_mails_sets_the_metric_and_clears(tmp_path, db_url, smtp_server):
    port = _free_port()
    today = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[dt.datetime.now(UTC).weekday()]
    rule = {"name": "daily", "pattern": "daily_*.txt", "by": "00:00", "timezone": "UTC", "weekdays": [today]}
    cfg = archive_config(tmp_path, db_url, channel={"alert_recipients": ["ops@example.com"]},
                         metrics={"enabled": True, "port": port},
                         smtp={"host": smtp_server.host, "port": smtp_server.port})
    d = DaemonProcess(write_config(tmp_path / "spoolgate.toml", cfg))
    url = f"http://127.0.0.1:{port}/metrics"

    def late_metric() -> str | None:
        m = re.search(r'spoolgate_expectation_late\{channel="drop",expectation="daily"\} (\S+)',
                      urllib.request.urlopen(url, timeout=5).read().decode())
        return m.group(1) if m else None

    try:
        d.wait_ready()
        # the rule comes with a reload (a daemon started without jobs or rules)
        cfg["channels"]["drop"]["expectations"] = [rule]
        write_config(tmp_path / "spoolgate.toml", cfg)
        d.proc.send_signal(signal.SIGHUP)
        (mail,) = smtp_server.wait_for(1, timeout=30)
        assert mail.message["Subject"].startswith("[spoolgate] LATE: daily on channel drop")
        wait_for(lambda: late_metric() == "1.0", 20, what="late metric")
        status = subprocess.run([sys.executable, "-m", "daemon", "--config", str(tmp_path / "spoolgate.toml"),
                                 "status"], cwd=REPO, capture_output=True, text=True, timeout=60)
        assert status.returncode == 0 and "LATE         drop/daily (daily_*.txt)" in status.stdout, status.stdout
        (tmp_path / "spool/drop/in/daily_20261130.txt").write_bytes(b"here\n")
        wait_for(lambda: files_in(tmp_path / "spool/drop/processed"), 20)
        mails = smtp_server.wait_for(2, timeout=30)
        assert "ARRIVED" in mails[1].message["Subject"]
        wait_for(lambda: late_metric() == "0.0", 20, what="late metric cleared")
        status = subprocess.run([sys.executable, "-m", "daemon", "--config", str(tmp_path / "spoolgate.toml"),
                                 "status", "--json"], cwd=REPO, capture_output=True, text=True, timeout=60)
        (shown,) = json.loads(status.stdout)["expectations"]
        assert (shown["state"], shown["file"]) == ("arrived_late", "daily_20261130.txt")
        wait_for(lambda: 'spoolgate_mail_messages_total{outcome="sent"} 2.0' in
                 urllib.request.urlopen(url, timeout=5).read().decode(), 20, what="mail counter")
    finally:
        d.terminate()
    assert "expected file daily" in d.log() and "late file daily arrived" in d.log()
