"""Sends the notification queue through SMTP.

Two lanes: ``immediate`` (alerts, job results) is always drained before
``bulk`` (bill notifications, reminders), and a bulk batch gives way between
two messages as soon as an immediate one is waiting, so a large bulk run never
delays an alert by more than one message. A message is claimed by a
conditional UPDATE (safe across daemons), given its Message-ID in the same
commit, sent outside any transaction, then marked sent. When SMTP is down
messages stay pending with a backoff (and the mailer stops trying for a while)
and go out once it is back. A permanent refusal (5xx) marks the message
failed instead of retrying it for ever. Only a crash between the server's
"250" and our update can send a message twice; its Message-ID, fixed before
the first attempt, makes that resend recognisable downstream.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate

from sqlalchemy import or_, select, update

from store.config import Smtp
from store.db import Database, utcnow
from store.models.core import Notification

log = logging.getLogger("spoolgate.mailer")

LANES = ("immediate", "bulk")
#: a claimed message whose sender died is released after this
SENDING_LEASE_S = 120
#: after failed connections, no new attempt for this long, doubling up to the maximum (reset by a success);
#: messages keep their own backoff too
DOWN_PAUSE_S = 1.0
MAX_DOWN_PAUSE_S = 60.0
MAX_BACKOFF_S = 300


class Mailer:
    def __init__(self, smtp: Smtp, db: Database, *, identity: str,
                 clock: Callable[[], dt.datetime] = utcnow, budget_s: float = 5.0) -> None:
        self.smtp = smtp
        self.db = db
        self.identity = identity
        self.clock = clock
        #: how long one ``send_pending`` call may keep sending
        self.budget_s = budget_s
        self._down_until: dt.datetime | None = None
        self._pause_s = 0.0
        #: told ``(outcome, n)``: sent, retry (a failed attempt, kept) or refused (failed for good); for metrics
        self.on_outcome: Callable[[str, int], None] | None = None

    def _claim(self, lane: str, limit: int) -> list[int]:
        now = self.clock()
        with self.db.transaction() as s:
            s.execute(update(Notification)
                      .where(Notification.state == "sending",
                             Notification.next_attempt_at < now - dt.timedelta(seconds=SENDING_LEASE_S))
                      .values(state="pending"))
            ids = list(s.scalars(select(Notification.id)
                                 .where(Notification.state == "pending", Notification.lane == lane,
                                        or_(Notification.next_attempt_at.is_(None),
                                            Notification.next_attempt_at <= now))
                                 .order_by(Notification.id).limit(limit)))
            got = []
            for nid in ids:
                res = s.execute(update(Notification).where(Notification.id == nid, Notification.state == "pending")
                                .values(state="sending", next_attempt_at=now))
                if res.rowcount:  # type: ignore[attr-defined]
                    got.append(nid)
            return got

    def _immediate_waiting(self) -> bool:
        now = self.clock()
        with self.db.transaction() as s:
            return s.scalar(select(Notification.id)
                            .where(Notification.state == "pending", Notification.lane == "immediate",
                                   or_(Notification.next_attempt_at.is_(None),
                                       Notification.next_attempt_at <= now)).limit(1)) is not None

    def _connect(self) -> smtplib.SMTP:
        c = self.smtp
        conn: smtplib.SMTP
        if c.ssl:
            conn = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout_s, context=ssl.create_default_context())
        else:
            conn = smtplib.SMTP(c.host, c.port, timeout=c.timeout_s)
            if c.starttls:
                conn.starttls(context=ssl.create_default_context())
        if c.username:
            conn.login(c.username, c.password or "")
        return conn

    def send_pending(self, *, limit: int = 50) -> int:
        """Send until the queue is empty, SMTP fails, or the time budget is used; immediate lane first."""
        if self._down_until is not None and self.clock() < self._down_until:
            return 0
        sent = 0
        deadline = time.monotonic() + self.budget_s
        while time.monotonic() < deadline:
            ids = self._claim("immediate", limit)
            lane = "immediate"
            if not ids:
                ids = self._claim("bulk", limit)
                lane = "bulk"
            if not ids:
                break
            n, ok = self._send(ids, yield_to_immediate=lane == "bulk")
            sent += n
            if not ok:
                break
        return sent

    def _message(self, nid: int) -> EmailMessage | None:
        """Build the message; fixes its Message-ID in the database before the first attempt."""
        from store.models.core import NotificationAttachment

        with self.db.transaction() as s:
            n = s.get(Notification, nid)
            if n is None:
                return None
            if n.message_id is None:
                n.message_id = f"<spoolgate-{n.id}-{n.created_at:%Y%m%d%H%M%S}@{socket.gethostname()}>"
            msg = EmailMessage()
            msg["From"] = self.smtp.sender
            msg["To"] = ", ".join(n.recipients)
            msg["Subject"] = n.subject
            msg["Date"] = formatdate(localtime=True)
            msg["Message-ID"] = n.message_id
            msg.set_content(n.body)
            for a in s.scalars(select(NotificationAttachment).where(NotificationAttachment.notification_id == nid)
                               .order_by(NotificationAttachment.id)):
                maintype, _, subtype = a.content_type.partition("/")
                msg.add_attachment(a.data, maintype=maintype, subtype=subtype or "octet-stream",
                                   filename=a.filename)
        return msg

    def _send(self, ids: list[int], *, yield_to_immediate: bool = False) -> tuple[int, bool]:
        """Send claimed messages on one connection: (sent, SMTP still usable)."""
        try:
            conn = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            self._pause()
            self._release(ids, f"SMTP unavailable: {exc}")
            return 0, False
        self._down_until = None
        self._pause_s = 0.0
        sent = 0
        ok = True
        try:
            for k, nid in enumerate(ids):
                if yield_to_immediate and k and self._immediate_waiting():
                    self._release(ids[k:], None)
                    break
                msg = self._message(nid)
                if msg is None:
                    continue
                try:
                    conn.send_message(msg)
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
                    code = _code(exc)
                    if code is not None and 500 <= code < 600:
                        self._fail(nid, f"refused permanently: {exc}")
                        continue
                    self._release([nid], str(exc))
                    if code == 421:
                        self._lost(ids[k + 1:])
                        ok = False
                        break
                    continue
                except (OSError, smtplib.SMTPException) as exc:
                    self._release([nid], str(exc))
                    if isinstance(exc, OSError | smtplib.SMTPServerDisconnected | smtplib.SMTPSenderRefused):
                        self._lost(ids[k + 1:])
                        ok = False
                        break
                    continue
                with self.db.transaction() as s:
                    s.execute(update(Notification).where(Notification.id == nid).values(
                        state="sent", sent_at=self.clock(), attempts=Notification.attempts + 1, last_error=None))
                sent += 1
                self._count("sent", 1)
        finally:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
        return sent, ok

    def _pause(self) -> None:
        self._pause_s = min(MAX_DOWN_PAUSE_S, max(DOWN_PAUSE_S, self._pause_s * 2))
        self._down_until = self.clock() + dt.timedelta(seconds=self._pause_s)

    def _lost(self, untried: list[int]) -> None:
        """The connection went away: messages not yet tried go back uncharged; the mailer pauses."""
        self._pause()
        self._release(untried, None)

    def _count(self, outcome: str, n: int) -> None:
        if self.on_outcome is not None and n:
            self.on_outcome(outcome, n)

    def _fail(self, nid: int, error: str) -> None:
        log.error("notification %d refused by the SMTP server, not retried: %s", nid, error)
        self._count("refused", 1)
        with self.db.transaction() as s:
            s.execute(update(Notification).where(Notification.id == nid, Notification.state == "sending")
                      .values(state="failed", attempts=Notification.attempts + 1, last_error=error[:2000]))

    def _release(self, ids: list[int], error: str | None) -> None:
        """Back to pending: with an attempt counted and a backoff, or (``error`` None) as if never claimed."""
        if not ids:
            return
        if error is not None:
            log.warning("notifications %s not sent: %s", ids, error)
            self._count("retry", len(ids))
        with self.db.transaction() as s:
            for nid in ids:
                n = s.get(Notification, nid)
                if n is None or n.state != "sending":
                    continue
                n.state = "pending"
                if error is None:
                    n.next_attempt_at = None
                    continue
                n.attempts += 1
                n.last_error = error[:2000]
                n.next_attempt_at = self.clock() + dt.timedelta(seconds=min(MAX_BACKOFF_S, 2 ** min(n.attempts, 8)))


def _code(exc: smtplib.SMTPException) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in exc.recipients.values()]
        return min(codes) if codes else None
    code = getattr(exc, "smtp_code", None)
    return code if isinstance(code, int) else None
