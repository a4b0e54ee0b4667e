"""The mailer against real SMTP servers on loopback: outage and recovery, refusals, lane priority."""

from __future__ import annotations

import threading

from sqlalchemy import select

from daemon.mailer import Mailer
from store.models.core import Notification, NotificationAttachment

from .conftest import queue, smtp_for


def drain(mailer: Mailer, clock=None, rounds: int = 20) -> int:
    total = 0
    for _ in range(rounds):
        n = mailer.send_pending()
        total += n
        if clock is not None:
            clock.advance(400)  # past any backoff
        elif n == 0:
            break
    return total


def _rows(db) -> dict[int, tuple[str, int, str | None]]:
    with db.transaction() as s:
        return {n.id: (n.state, n.attempts, n.message_id) for n in s.scalars(select(Notification))}


def _ids(mails) -> list[str]:
    return [m.message["Message-ID"] for m in mails]


def test_smtp_outage_then_recovery_sends_each_message_exactly_once(db, smtp_server, clock):
    mailer = Mailer(smtp_for(smtp_server), db, identity="t", clock=clock)
    smtp_server.stop()
    imm = queue(db, "immediate", 4)
    bulk = queue(db, "bulk", 6)
    assert mailer.send_pending() == 0
    rows = _rows(db)
    assert {rows[i][:2] for i in imm} == {("pending", 1)}
    assert {rows[i][:2] for i in bulk} == {("pending", 0)}
    with db.transaction() as s:
        assert "SMTP unavailable" in s.get(Notification, imm[0]).last_error
    clock.advance(0.5)
    assert mailer.send_pending() == 0  # still pausing after the failed connection
    smtp_server.start()
    clock.advance(60)
    assert drain(mailer, clock, rounds=3) == 10
    mails = smtp_server.wait_for(10)
    assert len(mails) == 10
    assert [m.message["Subject"] for m in mails[:4]] == [f"immediate {i}" for i in range(4)]
    rows = _rows(db)
    assert {r[0] for r in rows.values()} == {"sent"}
    assert sorted(_ids(mails)) == sorted(str(r[2]) for r in rows.values())
    assert len(set(_ids(mails))) == 10
    assert drain(mailer, clock, rounds=2) == 0
    assert len(smtp_server.messages) == 10


def test_server_closing_mid_batch_loses_and_repeats_nothing(db, scripted_smtp, clock):
    scripted_smtp.plan = {3: "421 4.3.2 service shutting down", 7: "451 4.3.0 try again later"}
    mailer = Mailer(smtp_for(scripted_smtp), db, identity="t", clock=clock)
    ids = queue(db, "bulk", 8)
    assert drain(mailer, clock, rounds=6) == 8
    mails = scripted_smtp.wait_for(8)
    assert sorted(m.message["Subject"] for m in mails) == sorted(f"bulk {i}" for i in range(8))
    assert len(set(_ids(mails))) == 8
    rows = _rows(db)
    assert [rows[i][0] for i in ids] == ["sent"] * 8
    assert sorted(rows[i][1] for i in ids) == [1] * 6 + [2] * 2  # the two refused attempts were retried once
    assert scripted_smtp.attempts == 10


def test_permanent_refusal_is_failed_not_retried_and_attachments_travel(db, scripted_smtp, clock):
    scripted_smtp.bad = {"gone@example.com"}
    mailer = Mailer(smtp_for(scripted_smtp), db, identity="t", clock=clock)
    [bad] = queue(db, "immediate", 1, to="gone@example.com")
    [good] = queue(db, "immediate", 1, prefix="with attachment")
    with db.transaction() as s:
        s.add(NotificationAttachment(notification_id=good, filename="bill.pdf", content_type="application/pdf",
                                     data=b"%PDF-1.4 test"))
    assert drain(mailer, clock, rounds=3) == 1
    rows = _rows(db)
    assert rows[bad][:2] == ("failed", 1) and rows[good][0] == "sent"
    [mail] = scripted_smtp.wait_for(1)
    parts = [p for p in mail.message.iter_attachments()]
    assert [(p.get_filename(), p.get_content()) for p in parts] == [("bill.pdf", b"%PDF-1.4 test")]
    with db.transaction() as s:
        assert "550" in s.get(Notification, bad).last_error


def test_bulk_lane_never_delays_the_immediate_lane(db, smtp_server):
    mailer = Mailer(smtp_for(smtp_server), db, identity="t", budget_s=60)
    queue(db, "bulk", 60)
    seen_at: list[int] = []

    def alert_midway() -> None:
        smtp_server.wait_for(5, timeout=30)
        queue(db, "immediate", 1, prefix="ALERT")
        seen_at.append(len(smtp_server.messages))

    t = threading.Thread(target=alert_midway)
    t.start()
    sent = mailer.send_pending()
    t.join()
    mails = smtp_server.wait_for(61)
    assert sent == 61
    subjects = [m.message["Subject"] for m in mails]
    pos = subjects.index("ALERT 0")
    # In line right behind the bulk message in flight when it was queued (the old mailer sent its whole
    # 50-message bulk batch first).
    assert pos <= seen_at[0] + 2, (pos, seen_at)
    assert len(set(subjects)) == 61
