"""notification-purge (finished messages, attachments, bill notices; never pending) and spool-purge (never error/)."""

from __future__ import annotations

import datetime as dt
import os
import time

from sqlalchemy import func, select

from store.db import utcnow
from store.models.bills import BillNotice
from store.models.core import Notification, NotificationAttachment


def _note(state: str, days: int, **kw) -> Notification:
    return Notification(lane="bulk", kind="test", recipients=["a@example.com"], subject=f"{state} {days}",
                        body="b", state=state, created_at=utcnow() - dt.timedelta(days=days), **kw)


def test_notification_purge_keeps_pending_and_young(hk_env):
    env = hk_env({"npurge": {"kind": "housekeeping.notification-purge",
                             "options": {"Keep.notification.for.x.days": 30, "purge.chunk.size": 2}}})
    with env.db.transaction() as s:
        notes = [_note("sent", 40), _note("sent", 50), _note("failed", 60), _note("sent", 45),
                 _note("pending", 90), _note("sent", 5)]
        s.add_all(notes)
        s.flush()
        s.add_all([NotificationAttachment(notification_id=notes[0].id, filename="a.pdf", data=b"%PDF"),
                   NotificationAttachment(notification_id=notes[5].id, filename="b.pdf", data=b"%PDF")])
        s.add_all([BillNotice(run_id=1, user_id="u", accounts=1, bills=1,
                              created_at=utcnow() - dt.timedelta(days=40)),
                   BillNotice(run_id=2, user_id="u", accounts=1, bills=1)])
    r = env.job("npurge")
    assert (r.outcome, r.counts) == ("success", {"notifications": 4, "attachments": 1, "bill_notices": 1})
    with env.db.transaction() as s:
        left = sorted(s.scalars(select(Notification.subject)))
        assert left == ["pending 90", "sent 5"]
        assert list(s.scalars(select(NotificationAttachment.filename))) == ["b.pdf"]
        assert s.scalar(select(func.count(BillNotice.id))) == 1
    assert env.job("npurge").outcome == "noop"


def _file(path, age_days: float = 0.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * 10)
    if age_days:
        t = time.time() - age_days * 86400
        os.utime(path, (t, t))


def test_spool_purge_removes_old_processed_history_never_error(hk_env):
    env = hk_env({"spurge": {"kind": "housekeeping.spool-purge", "options": {"older_than_days": 30}}})
    ch = env.settings.channels["bills"]
    today = utcnow().date()
    old = today - dt.timedelta(days=60)
    young = today - dt.timedelta(days=3)
    _file(ch.processed / f"{old:%Y/%m/%d}" / "old.xml")
    _file(ch.processed / "duplicates" / f"{old:%Y/%m/%d}" / "dup.xml")
    _file(ch.processed / f"{young:%Y/%m/%d}" / "young.xml", age_days=400)  # mtime of the original: ignored
    _file(ch.error / "ancient.xml", age_days=400)
    _file(ch.error / "ancient.xml.error.json", age_days=400)
    r = env.job("spurge")
    assert (r.outcome, r.counts) == ("success", {"files": 2, "bytes": 20})
    left = sorted(str(p.relative_to(ch.processed)) for p in ch.processed.rglob("*") if p.is_file())
    assert left == [f"{young:%Y/%m/%d}/young.xml"]
    assert not (ch.processed / f"{old:%Y}" / f"{old:%m}" / f"{old:%d}").exists()
    assert sorted(p.name for p in ch.error.iterdir()) == ["ancient.xml", "ancient.xml.error.json"]
    assert env.job("spurge").outcome == "noop"


def test_spool_purge_options_are_checked(hk_env):
    from daemon.validate import validate

    env = hk_env({"spurge": {"kind": "housekeeping.spool-purge",
                             "options": {"older_than_days": -1, "channels": ["nope"], "x": 1}}})
    problems = validate(env.settings, check_filesystem=False)
    assert "jobs.spurge.options: unknown option 'x'" in problems
    assert "jobs.spurge.options: unknown channel 'nope'" in problems
    assert any("older_than_days must be a whole number" in p for p in problems)
