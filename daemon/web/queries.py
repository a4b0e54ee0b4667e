"""What each console page reads. Every query is bounded and runs on an index (see bench/web);
account numbers and personal names are masked here, before any template or export sees them."""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal_column, or_, select
from sqlalchemy.orm import Session

from daemon import expectations
from daemon.expectations import ExpectationStatus
from daemon.heartbeat import STALE_AFTER_S
from daemon.settlement import Position
from daemon.settlement import positions as settlement_positions
from formats.errors import mask, mask_digit_runs
from store.config import Settings
from store.models.ach import CheckPayment, CheckPaymentHistory, PaymentPayee, SuspendedBatch
from store.models.console import DaemonHeartbeat, OperatorAction
from store.models.core import FileState, JobRun, JobState, OutboundFile, OutboundItem, SpoolFile

log = logging.getLogger("spoolgate.web")

PAGE = 100
#: digit runs this long in free text (reasons, messages) may be account numbers
TEXT_MASK_DIGITS = 8
ACCOUNT_FIELDS = frozenset({"check_account_number", "account_number", "payment_account_number",
                            "payer_account_number"})
NAME_FIELDS = frozenset({"account_name", "account_holder_name", "street"})
#: outbound item kinds that are a check payment id
PAYMENT_KINDS = ("payment", "check_payment", "prenote")


def rare(s: Session, cond: Any) -> Any:
    """After ANALYZE, SQLite's planner knows only that ``state`` has a handful of values (no value
    counts) and scans the whole ledger for the few rows in error or in work; ``likelihood`` tells
    it the term is selective so the state index serves it. PostgreSQL has value counts."""
    return func.likelihood(cond, literal_column("0.001")) if s.get_bind().dialect.name == "sqlite" else cond


def masked_text(text: Any) -> str:
    return "" if text is None else mask_digit_runs(str(text), TEXT_MASK_DIGITS)


def mask_name(name: str | None) -> str:
    """Initials only: ``Jane Q Doe`` -> ``J. Q. D.``"""
    return " ".join(f"{w[0]}." for w in (name or "").split())


def masked_row(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in row.items():
        if k in ACCOUNT_FIELDS and v:
            v = mask(str(v))
        elif k in NAME_FIELDS and v:
            v = mask_name(str(v))
        out[k] = v
    return out


def local_midnight(now: dt.datetime | None = None) -> dt.datetime:
    local = (now or dt.datetime.now(dt.UTC)).astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)


def _inbox(path: Any) -> tuple[int, float | None]:
    """Files waiting in an inbox and the age of the oldest (seconds)."""
    from spool.fsops import scan

    now = time.time()
    try:
        entries = [e for e in scan(path) if e.kind != "dir" and not e.name.startswith(".")]
    except OSError:
        return 0, None
    if not entries:
        return 0, None
    return len(entries), max(now - e.mtime_ns / 1e9 for e in entries)


# -- overview -----------------------------------------------------------------------------------
def overview(s: Session, settings: Settings) -> dict[str, Any]:
    today = local_midnight()
    channels = []
    in_work = dict(s.execute(select(SpoolFile.channel, func.count()).where(
        rare(s, SpoolFile.state.in_([FileState.CLAIMED, FileState.PROCESSING]))).group_by(SpoolFile.channel)
    ).all())
    in_error = dict(s.execute(select(SpoolFile.channel, func.count()).where(
        rare(s, SpoolFile.state == FileState.ERROR)).group_by(SpoolFile.channel)).all())
    for name, ch in settings.channels.items():
        waiting, oldest = _inbox(ch.inbox)
        done_today = s.scalar(select(func.count()).select_from(SpoolFile).where(
            SpoolFile.channel == name, SpoolFile.finished_at >= today, SpoolFile.state == FileState.DONE))
        last = s.execute(select(SpoolFile.id, SpoolFile.original_name, SpoolFile.state, SpoolFile.finished_at)
                         .where(SpoolFile.channel == name, SpoolFile.finished_at.is_not(None))
                         .order_by(SpoolFile.finished_at.desc()).limit(1)).first()
        channels.append({"name": name, "enabled": ch.enabled, "waiting": waiting, "oldest_s": oldest,
                         "in_work": in_work.get(name, 0), "done_today": done_today or 0,
                         "in_error": in_error.get(name, 0), "last": last})
    now = dt.datetime.now(dt.UTC)
    beats = []
    for b in s.scalars(select(DaemonHeartbeat).order_by(DaemonHeartbeat.host, DaemonHeartbeat.pid)):
        age = (now - b.beat_at).total_seconds()
        beats.append({"host": b.host, "pid": b.pid, "identity": b.identity, "started_at": b.started_at,
                      "beat_at": b.beat_at, "age_s": age, "alive": age <= STALE_AFTER_S, "status": b.status})
    suspended = s.scalar(select(func.count()).select_from(SuspendedBatch).where(SuspendedBatch.state == "suspended"))
    expected: dict[str, list[ExpectationStatus]] = {}
    try:
        for st in expectations.status(s, settings, now):
            expected.setdefault(st.channel, []).append(st)
        unknown = ""
    except ValueError as exc:  # a rule check-config would refuse (unknown calendar): the page still shows
        log.warning("expected files not evaluated: %s", exc)
        unknown = str(exc)
    for c in channels:
        c["expected"] = expected.get(str(c["name"]), [])
    late = sum(st.is_late for sts in expected.values() for st in sts)
    return {"channels": channels, "heartbeats": beats, "suspended": suspended or 0, "late": late,
            "expectations_error": unknown}


# -- settlement -----------------------------------------------------------------------------------
def settlement_day(settings: Settings, now: dt.datetime | None = None) -> dt.date:
    """Today in the ``[settlement]`` time zone: the page's default day."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(settings.settlement.timezone)).date()


def settlement(s: Session, settings: Settings, day: dt.date) -> list[Position]:
    """The day's positions; they carry payee names, creditor and ODFI numbers, never an account."""
    return settlement_positions(s, day, settings)


# -- files ----------------------------------------------------------------------------------------
@dataclass
class FileQuery:
    name: str = ""
    sha256: str = ""
    state: str = ""
    channel: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    payment: int | None = None

    @property
    def empty(self) -> bool:
        return not (self.name or self.sha256 or self.state or self.channel or self.start or self.end
                    or self.payment is not None)


FILE_COLUMNS = (SpoolFile.id, SpoolFile.channel, SpoolFile.original_name, SpoolFile.state, SpoolFile.size,
                SpoolFile.handler, SpoolFile.claimed_at, SpoolFile.finished_at, SpoolFile.attempts)


def search_files(s: Session, settings: Settings, q: FileQuery) -> list[Any]:
    stmt = select(*FILE_COLUMNS)
    if q.name:
        # a prefix range, so the original_name index serves it on both databases
        stmt = stmt.where(SpoolFile.original_name >= q.name, SpoolFile.original_name < q.name + "\uffff",
                          SpoolFile.original_name.startswith(q.name, autoescape=True))
    if q.sha256:
        # the (channel, sha256) index answers when the channel is given; every configured one is
        channels = [q.channel] if q.channel else list(settings.channels)
        stmt = stmt.where(SpoolFile.channel.in_(channels), SpoolFile.sha256 == q.sha256.lower())
    if q.channel:
        stmt = stmt.where(SpoolFile.channel == q.channel)
    if q.state:
        stmt = stmt.where(SpoolFile.state == q.state)
    if q.start or q.end:
        lo = local_midnight(dt.datetime.combine(q.start or dt.date(1970, 1, 2), dt.time(12)).astimezone())
        hi = local_midnight(dt.datetime.combine((q.end or dt.date(9999, 12, 30)) + dt.timedelta(days=1),
                                                dt.time(12)).astimezone())
        stmt = stmt.where(SpoolFile.finished_at >= lo, SpoolFile.finished_at < hi)
        # newest finished first: (channel, finished_at) gives them in order, no sort of the whole range
        return list(s.execute(stmt.order_by(SpoolFile.finished_at.desc(), SpoolFile.id.desc()).limit(PAGE)).all())
    return list(s.execute(stmt.order_by(SpoolFile.id.desc()).limit(PAGE)).all())


def payment_story(s: Session, payment_id: int) -> dict[str, Any]:
    """Which inbound files changed a payment, which jobs did, which outbound files carried it."""
    pay = s.get(CheckPayment, payment_id)
    history = list(s.execute(select(CheckPaymentHistory.history_id, CheckPaymentHistory.time_stamp,
                                    CheckPaymentHistory.audit_operation, CheckPaymentHistory.status,
                                    CheckPaymentHistory.job_id, CheckPaymentHistory.job_name)
                             .where(CheckPaymentHistory.payment_id == payment_id)
                             .order_by(CheckPaymentHistory.history_id).limit(500)).all())
    ids = {h.job_id for h in history if h.job_id}
    files: dict[int, Any] = {}
    if ids:
        files = {row.id: row for row in s.execute(select(*FILE_COLUMNS).where(SpoolFile.id.in_(ids)))}
    changes = []
    for h in history:
        f = files.get(h.job_id)
        # job ids and file ids share the column: a file's change carries ``<channel>-<handler>``
        by_file = f is not None and h.job_name == f"{f.channel}-{f.handler}"
        changes.append({"h": h, "file": f if by_file else None})
    outbound = list(s.execute(select(OutboundFile.id, OutboundFile.target, OutboundFile.name, OutboundFile.state,
                                     OutboundFile.created_at, OutboundFile.delivered_at, OutboundItem.kind,
                                     OutboundItem.amount)
                              .join(OutboundItem, OutboundItem.outbound_id == OutboundFile.id)
                              .where(OutboundItem.kind.in_(PAYMENT_KINDS), OutboundItem.ref == str(payment_id))
                              .order_by(OutboundFile.id).limit(200)).all())
    payment = None
    if pay is not None:
        payee = s.get(PaymentPayee, pay.payee_id)
        payment = masked_row({"payment_id": pay.payment_id, "payee": payee.name if payee else pay.payee_id,
                              "pay_date": pay.pay_date, "status": pay.status, "amount": pay.amount,
                              "check_account_number": pay.check_account_number, "account_name": pay.account_name,
                              "txn_number": pay.txn_number, "hold_id": pay.hold_id})
    return {"payment_id": payment_id, "payment": payment, "changes": changes, "outbound": outbound}


def file_story(s: Session, file_id: int) -> dict[str, Any] | None:
    f = s.get(SpoolFile, file_id)
    if f is None:
        return None
    row = {c.name: getattr(f, c.name) for c in SpoolFile.__table__.columns}
    produced = list(s.scalars(select(OutboundFile).where(OutboundFile.source == f"file:{f.id}")
                              .order_by(OutboundFile.id).limit(200)))
    acks = list(s.scalars(select(OutboundFile).join(OutboundItem, OutboundItem.outbound_id == OutboundFile.id)
                          .where(OutboundItem.kind == "spool_file", OutboundItem.ref == str(f.id))
                          .order_by(OutboundFile.id).limit(50)))
    job_name = f"{f.channel}-{f.handler}"
    changed = list(s.execute(select(CheckPaymentHistory.payment_id, CheckPaymentHistory.status,
                                    CheckPaymentHistory.audit_operation, CheckPaymentHistory.time_stamp,
                                    CheckPaymentHistory.amount)
                             .where(CheckPaymentHistory.job_id == f.id, CheckPaymentHistory.job_name == job_name)
                             .order_by(CheckPaymentHistory.history_id).limit(PAGE + 1)).all())
    earlier = list(s.execute(select(*FILE_COLUMNS).where(SpoolFile.channel == f.channel, SpoolFile.sha256 == f.sha256,
                                                         SpoolFile.id != f.id).order_by(SpoolFile.id).limit(20)))
    return {"file": row, "error": error_report(f.error), "produced": produced, "acks": acks,
            "changed": changed[:PAGE], "more_changed": len(changed) > PAGE, "same_content": earlier}


def error_report(err: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ledger's copy of NAME.error.json, with free text masked for the page."""
    if not err:
        return None
    out = {k: masked_text(v) if isinstance(v, str) else v for k, v in err.items() if k != "issues"}
    out["issues"] = [{k: masked_text(v) if isinstance(v, str) else v for k, v in i.items()}
                     for i in (err.get("issues") or []) if isinstance(i, dict)][:200]
    return out


def errors(s: Session) -> list[Any]:
    return list(s.execute(select(*FILE_COLUMNS, SpoolFile.error, SpoolFile.final_path)
                          .where(rare(s, SpoolFile.state.in_([FileState.ERROR, FileState.DUPLICATE])))
                          .order_by(SpoolFile.id.desc()).limit(200)).all())


def batches(s: Session) -> list[dict[str, Any]]:
    rows = s.execute(select(SuspendedBatch, PaymentPayee.name)
                     .join(PaymentPayee, PaymentPayee.payee_id == SuspendedBatch.payee_id, isouter=True)
                     .order_by((SuspendedBatch.state == "suspended").desc(), SuspendedBatch.id.desc()).limit(200))
    return [{"b": b, "payee": payee} for b, payee in rows]


# -- jobs -----------------------------------------------------------------------------------------
def jobs(s: Session, settings: Settings, since: dt.datetime) -> dict[str, Any]:
    state = {j.job: j for j in s.scalars(select(JobState))}
    names = list(settings.jobs)
    runs: dict[str, list[JobRun]] = {}
    for name in names:
        runs[name] = list(s.scalars(select(JobRun).where(JobRun.job == name, JobRun.started_at >= since)
                                    .order_by(JobRun.started_at).limit(500)))
    table = []
    for name in names:
        last = s.scalar(select(JobRun).where(JobRun.job == name).order_by(JobRun.started_at.desc()).limit(1))
        st = state.get(name)
        table.append({"name": name, "conf": settings.jobs[name], "next_run_at": st.next_run_at if st else None,
                      "last": last, "running": bool(st and st.lock_owner)})
    return {"table": table, "runs": runs}


# -- audit ----------------------------------------------------------------------------------------
def audit(s: Session, *, payment_id: int | None, account: str | None, pid: str | None, start: dt.date,
          end: dt.date) -> dict[str, list[dict[str, Any]]]:
    from handlers.ach.reports import audit as seed004

    out = seed004(s, payment_id=payment_id, account=account, pid=pid, start=start, end=end)
    return {table: [masked_row(r) for r in rows] for table, rows in out.items()}


def actions(s: Session, target: str = "", limit: int = 200) -> list[OperatorAction]:
    stmt = select(OperatorAction)
    if target:
        stmt = stmt.where(or_(OperatorAction.target == target, OperatorAction.actor == target))
    return list(s.scalars(stmt.order_by(OperatorAction.id.desc()).limit(limit)))
