"""Job status e-mails (batch_success/failure/noop per job) and the real daemon's mailer through an SMTP outage."""

from __future__ import annotations

import time

from sqlalchemy import select

from daemon.mailer import Mailer
from daemon.scheduler import Scheduler
from store.db import Database
from store.models.core import Notification
from tests.support import DaemonProcess, wait_for, write_config

from .conftest import queue, settings_for


def test_success_failure_and_noop_mails_per_job(tmp_path, db_url, smtp_server):
    settings = settings_for(tmp_path, db_url, smtp={"host": smtp_server.host, "port": smtp_server.port},
                            jobs={
                                "quiet": {"kind": "core.noop", "every": "1 day", "notify_on": ["noop"],
                                          "recipients": ["ops@example.com"]},
                                "broken": {"kind": "core.noop", "every": "1 day", "options": {"fail": True},
                                           "recipients": ["oncall@example.com", "ops@example.com"]},
                                "purge": {"kind": "bills.purge", "every": "1 day", "notify_on": ["success"],
                                          "recipients": ["ops@example.com"], "options": {"older_than_days": 1}},
                                "silent": {"kind": "core.noop", "every": "1 day", "notify_on": ["failure"],
                                           "recipients": ["ops@example.com"]}})
    db = Database(settings.database_url)
    try:
        sched = Scheduler(settings, db, identity="t")
        assert [sched.run(j).outcome for j in ("quiet", "broken", "purge", "silent")] == [
            "noop", "failure", "noop", "noop"]
        with db.transaction() as s:
            notes = [(n.kind, n.lane, n.recipients) for n in s.scalars(select(Notification).order_by(Notification.id))]
        assert notes == [("job-noop", "immediate", ["ops@example.com"]),
                         ("job-failure", "immediate", ["oncall@example.com", "ops@example.com"])]
        mailer = Mailer(settings.smtp, db, identity="t")
        assert mailer.send_pending() == 2
        noop, failure = smtp_server.wait_for(2)
        assert noop.message["Subject"].startswith("[spoolgate] job quiet: nothing to do (run ")
        assert failure.message["Subject"].startswith("[spoolgate] job broken FAILED (run ")
        assert "Reason: RuntimeError: configured to fail" in failure.message.get_content()
        assert failure.rcpt_tos == ("oncall@example.com", "ops@example.com")
    finally:
        db.dispose()


def test_real_daemon_keeps_mail_queued_through_an_outage(tmp_path, db_url, smtp_server):
    from tests.bills.conftest import bills_config

    cfg = bills_config(tmp_path, db_url, smtp={"host": smtp_server.host, "port": smtp_server.port})
    d = DaemonProcess(write_config(tmp_path / "spoolgate.toml", cfg))
    db = Database(db_url, pool=False)
    try:
        d.wait_ready()
        smtp_server.stop()
        queue(db, "bulk", 3)
        queue(db, "immediate", 2)

        def attempted() -> bool:
            with db.transaction() as s:
                return bool(s.scalar(select(Notification.id).where(Notification.attempts > 0)))

        wait_for(attempted, 15, what="a failed delivery attempt")
        assert smtp_server.messages == []
        smtp_server.start()
        mails = smtp_server.wait_for(5, timeout=30)

        def all_sent() -> bool:
            with db.transaction() as s:
                return set(s.scalars(select(Notification.state))) == {"sent"}

        wait_for(all_sent, 10, what="all marked sent")
        time.sleep(1.2)  # a further mailer pass must not send anything again
        assert len(smtp_server.messages) == 5
        assert len({m.message["Message-ID"] for m in mails}) == 5
    finally:
        db.dispose()
        assert d.terminate() == 0, d.log()
