"""Late-file alerts (Sterling Control Center service-level checks).

A channel's expectation says "a file matching P arrives by HH:MM (time zone) on every business
day of calendar C (or on these weekdays), grace G". A file counts for day D when its ledger row
was claimed between D 00:00 and the deadline plus grace, in the rule's time zone.

:func:`evaluate` runs in the scheduler's tick. When a deadline passes without the file it inserts
one ``expectation_events`` row per expectation and day and queues the alert e-mail in the same
transaction: the unique key lets exactly one daemon win when several share a database, and a
restart finds the row and does not alert again. A file arriving later clears the row (a
conditional update, again won once) and queues an "arrived" message. :func:`status` is what the
overview and the metrics show.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.calendars import calendar
from store.config import WEEKDAYS, Channel, Expectation, Settings
from store.db import Database
from store.models.alerts import ExpectationEvent, ExpectationState
from store.models.core import Notification, SpoolFile

log = logging.getLogger("spoolgate.expectations")

#: a missed deadline older than this is not alerted any more (a daemon started after a long stop)
LOOKBACK = dt.timedelta(hours=36)


@dataclass(frozen=True, slots=True)
class ExpectationStatus:
    """One expectation's current business day. ``state``: waiting, met, late or arrived_late."""

    channel: str
    name: str
    pattern: str
    day: dt.date
    due_at: dt.datetime
    state: str
    arrived_at: dt.datetime | None = None
    file_name: str | None = None
    alerted_at: dt.datetime | None = None

    @property
    def is_late(self) -> bool:
        return self.state == ExpectationState.LATE


def is_expected_day(e: Expectation, day: dt.date) -> bool:
    if e.weekdays:
        return WEEKDAYS[day.weekday()] in e.weekdays
    return calendar(e.calendar).is_business_day(day)


def window(e: Expectation, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Start of ``day`` and its deadline plus grace, both UTC."""
    tz = ZoneInfo(e.timezone)
    hh, mm = (int(x) for x in e.by.split(":"))
    start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz)
    due = dt.datetime.combine(day, dt.time(hh, mm), tzinfo=tz) + dt.timedelta(minutes=e.grace_min)
    return start.astimezone(dt.UTC), due.astimezone(dt.UTC)


def current_day(e: Expectation, now: dt.datetime) -> dt.date:
    """The latest expected day that has begun at ``now`` (in the rule's time zone)."""
    day = now.astimezone(ZoneInfo(e.timezone)).date()
    for _ in range(14):
        if is_expected_day(e, day):
            return day
        day -= dt.timedelta(days=1)
    return day


@dataclass(frozen=True, slots=True)
class Arrival:
    file_id: int
    name: str
    claimed_at: dt.datetime


def arrival(s: Session, channel: str, e: Expectation, start: dt.datetime, end: dt.datetime) -> Arrival | None:
    """The first file of ``channel`` matching the expectation claimed in [start, end]."""
    rows = s.execute(select(SpoolFile.id, SpoolFile.original_name, SpoolFile.claimed_at)
                     .where(SpoolFile.channel == channel, SpoolFile.claimed_at >= start, SpoolFile.claimed_at <= end)
                     .order_by(SpoolFile.claimed_at, SpoolFile.id))
    return next((Arrival(i, n, t) for i, n, t in rows if e.matches(n)), None)


def _recipients(settings: Settings, ch: Channel, e: Expectation) -> list[str]:
    return list(e.recipients or ch.alert_recipients or settings.smtp.alert_recipients)


def _notify(s: Session, settings: Settings, ch: Channel, cname: str, e: Expectation, template: str,
            ev: ExpectationEvent, **values: object) -> None:
    from store.templates import render

    to = _recipients(settings, ch, e)
    if not to:
        return
    subject, body = render(template, channel=cname, expectation=e.name, pattern=e.pattern, by=e.by,
                           timezone=e.timezone, grace_min=e.grace_min, day=ev.day.isoformat(),
                           due_at=ev.due_at.isoformat(timespec="seconds"), **values)
    s.add(Notification(lane="immediate", kind=template.replace("_", "-"), recipients=to, subject=subject,
                       body=body, ref=f"expectation:{ev.id}"))


def evaluate(db: Database, settings: Settings, now: dt.datetime, *, identity: str = "") -> list[ExpectationStatus]:
    """Alert missed deadlines once, clear late ones whose file came; returns the transitions made."""
    out: list[ExpectationStatus] = []
    for cname, ch in settings.channels.items():
        for e in ch.expectations:
            try:
                out.extend(_evaluate_one(db, settings, cname, ch, e, now, identity))
            except Exception:
                log.exception("expectation %s/%s: evaluation failed", cname, e.name,
                              extra={"channel": cname, "expectation": e.name})
    return out


def _evaluate_one(db: Database, settings: Settings, cname: str, ch: Channel, e: Expectation, now: dt.datetime,
                  identity: str) -> list[ExpectationStatus]:
    out: list[ExpectationStatus] = []
    today = now.astimezone(ZoneInfo(e.timezone)).date()
    for day in (today - dt.timedelta(days=1), today):
        if not is_expected_day(e, day):
            continue
        start, due = window(e, day)
        if not (due <= now < due + LOOKBACK):
            continue
        try:
            with db.transaction() as s:
                known = s.scalar(select(ExpectationEvent.id).where(
                    ExpectationEvent.channel == cname, ExpectationEvent.expectation == e.name,
                    ExpectationEvent.day == day))
                if known is not None:
                    continue
                got = arrival(s, cname, e, start, due)
                ev = ExpectationEvent(channel=cname, expectation=e.name, day=day, due_at=due, alerted_at=now,
                                      alerted_by=identity or None,
                                      state=ExpectationState.LATE if got is None else ExpectationState.MET,
                                      arrived_at=got.claimed_at if got else None, file_id=got.file_id if got else None,
                                      file_name=got.name[:255] if got else None)
                s.add(ev)
                s.flush()  # the unique key decides which daemon alerts
                if got is None:
                    _notify(s, settings, ch, cname, e, "late_file", ev)
        except IntegrityError:
            continue
        if got is not None:
            continue  # in time: recorded, so later ticks need not look again
        log.warning("channel %s: expected file %s (%s) did not arrive by %s %s (+%d min grace) on %s",
                    cname, e.name, e.pattern, e.by, e.timezone, e.grace_min, day,
                    extra={"channel": cname, "expectation": e.name, "outcome": "late"})
        out.append(ExpectationStatus(cname, e.name, e.pattern, day, due, ExpectationState.LATE, alerted_at=now))
    with db.transaction() as s:
        late = list(s.scalars(select(ExpectationEvent).where(
            ExpectationEvent.channel == cname, ExpectationEvent.expectation == e.name,
            ExpectationEvent.state == ExpectationState.LATE)))
        for ev in late:
            start, _ = window(e, ev.day)
            got = arrival(s, cname, e, start, now)
            if got is None:
                continue
            res = s.execute(update(ExpectationEvent).where(ExpectationEvent.id == ev.id,
                                                           ExpectationEvent.state == ExpectationState.LATE)
                            .values(state=ExpectationState.ARRIVED_LATE, arrived_at=got.claimed_at,
                                    file_id=got.file_id, file_name=got.name[:255]))
            if not res.rowcount:  # type: ignore[attr-defined]
                continue  # another daemon cleared it
            _notify(s, settings, ch, cname, e, "late_file_arrived", ev, file=got.name,
                    arrived_at=got.claimed_at.isoformat(timespec="seconds"))
            log.info("channel %s: late file %s arrived: %s at %s; alert for %s cleared", cname, e.name,
                     got.name, got.claimed_at.isoformat(timespec="seconds"), ev.day,
                     extra={"channel": cname, "expectation": e.name, "file": got.name,
                            "file_id": got.file_id, "outcome": "arrived_late"})
            out.append(ExpectationStatus(cname, e.name, e.pattern, ev.day, ev.due_at, ExpectationState.ARRIVED_LATE,
                                         got.claimed_at, got.name, ev.alerted_at))
    return out


def status(session: Session, settings: Settings, now: dt.datetime) -> list[ExpectationStatus]:
    """Every expectation's current business day: waiting, met, late (red) or arrived_late."""
    out: list[ExpectationStatus] = []
    for cname, ch in settings.channels.items():
        for e in ch.expectations:
            day = current_day(e, now)
            start, due = window(e, day)
            ev = session.scalar(select(ExpectationEvent).where(
                ExpectationEvent.channel == cname, ExpectationEvent.expectation == e.name,
                ExpectationEvent.day == day))
            if ev is None:
                # yesterday's alert may still be open while today's deadline has not come
                ev = session.scalar(select(ExpectationEvent).where(
                    ExpectationEvent.channel == cname, ExpectationEvent.expectation == e.name,
                    ExpectationEvent.state == ExpectationState.LATE).order_by(ExpectationEvent.day.desc()).limit(1))
            if ev is not None:
                out.append(ExpectationStatus(cname, e.name, e.pattern, ev.day, ev.due_at, ev.state, ev.arrived_at,
                                             ev.file_name, None if ev.state == ExpectationState.MET else ev.alerted_at))
                continue
            got = arrival(session, cname, e, start, due)
            state = "met" if got is not None else ("waiting" if now < due else str(ExpectationState.LATE))
            out.append(ExpectationStatus(cname, e.name, e.pattern, day, due, state,
                                         got.claimed_at if got else None, got.name if got else None))
    return out
