"""Settlement positions per business day (seed 002 "Settlement" accumulators).

Derived only from what the channels already write, so the positions always reconcile with the
ledger: ACH outbound files (``outbound_files``/``outbound_items`` joined to ``check_payments``)
per payee and ODFI, ACH return files (``check_payments`` rows stamped with the file's
``log_id``), and PBS payments received (``ocr_line`` under ``ocr_header.pbs_number``, the creditor).

A day is a calendar date in ``[settlement] timezone``. Outbound ACH work of a payee is:
  * **held over** when its file was written after the payee's cut-off that day
    (``[settlement] payee_cutoffs``, else ``cutoff``): it makes the next window, not this one;
  * else **sent** once delivered (renamed into place with its signal), **ready** while staged.
``net`` is what the day moves for the biller: sent debits - sent credits - returned amounts
+ PBS payments received. Amounts are integer cents, as everywhere in the database.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, cast, select
from sqlalchemy.orm import Session

from store.config import Settings
from store.models.ach import CheckPayment, CheckStatus, PaymentPayee
from store.models.core import FileState, OutboundFile, OutboundItem, OutboundState, SpoolFile


@dataclass
class Amounts:
    count: int = 0
    debit: int = 0
    credit: int = 0

    def add(self, amount: int) -> None:
        """A signed item amount: positive is a debit (we collect), negative a credit."""
        self.count += 1
        if amount >= 0:
            self.debit += amount
        else:
            self.credit -= amount


@dataclass
class Position:
    """One accumulator (ACH payee and ODFI, or PBS creditor) on one business day."""

    day: dt.date
    channel: str  #: ``ach`` or ``pbs``
    party: str  #: payee name (ACH) or PBS creditor number
    odfi: str = ""
    sent: Amounts = field(default_factory=Amounts)
    ready: Amounts = field(default_factory=Amounts)
    held_over: Amounts = field(default_factory=Amounts)
    #: returned payments (count, amount in ``debit``/``credit`` by the original direction)
    returns: Amounts = field(default_factory=Amounts)
    prenote_returns: int = 0
    nocs: int = 0
    received: Amounts = field(default_factory=Amounts)
    #: where these figures came from: ``outbound_files.id`` and ``spool_files.id``
    outbound_files: list[int] = field(default_factory=list)
    inbound_files: list[int] = field(default_factory=list)

    @property
    def net(self) -> int:
        return (self.sent.debit - self.sent.credit - (self.returns.debit - self.returns.credit)
                + (self.received.credit - self.received.debit))

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["day"] = self.day.isoformat()
        d["net"] = self.net
        return d


def _bounds(day: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


def cutoff(settings: Settings, payee: str, day: dt.date) -> dt.datetime:
    """The payee's cut-off on ``day`` (UTC)."""
    conf = settings.settlement
    hh, mm = (int(x) for x in conf.payee_cutoffs.get(payee, conf.cutoff).split(":"))
    return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=ZoneInfo(conf.timezone)).astimezone(dt.UTC)


def positions(session: Session, day: dt.date, settings: Settings) -> list[Position]:
    """Every accumulator with activity on ``day``, ACH payees first, then PBS creditors."""
    tz = ZoneInfo(settings.settlement.timezone)
    start, end = _bounds(day, tz)
    out: dict[tuple[str, str], Position] = {}
    odfi = _odfis(session, settings)

    def pos(channel: str, party: str) -> Position:
        key = (channel, party)
        if key not in out:
            out[key] = Position(day, channel, party, odfi.get(party, "") if channel == "ach" else "")
        return out[key]

    rows = session.execute(
        select(OutboundFile.id, OutboundFile.state, OutboundFile.created_at, PaymentPayee.name, OutboundItem.amount)
        .join(OutboundItem, OutboundItem.outbound_id == OutboundFile.id)
        .join(CheckPayment, CheckPayment.payment_id == cast(OutboundItem.ref, BigInteger))
        .join(PaymentPayee, PaymentPayee.payee_id == CheckPayment.payee_id)
        .where(OutboundItem.kind == "payment", PaymentPayee.gateway == "ach",
               OutboundFile.created_at >= start, OutboundFile.created_at < end))
    for file_id, state, created, payee, amount in rows:
        p = pos("ach", payee)
        if created > cutoff(settings, payee, day):
            p.held_over.add(amount or 0)
        elif state == OutboundState.DELIVERED:
            p.sent.add(amount or 0)
        else:
            p.ready.add(amount or 0)
        if file_id not in p.outbound_files:
            p.outbound_files.append(file_id)

    for f in _inbound(session, "ach.returns", start, end):
        log_id = (f.summary or {}).get("log_id")
        if log_id is None:
            continue
        for payee, status, amount in session.execute(
                select(PaymentPayee.name, CheckPayment.status, CheckPayment.amount)
                .join(PaymentPayee, PaymentPayee.payee_id == CheckPayment.payee_id)
                .where(CheckPayment.log_id == log_id)):
            p = pos("ach", payee)
            if status == CheckStatus.RETURNED:
                p.returns.add(amount)
            elif status == CheckStatus.PRENOTE_RETURNED:
                p.prenote_returns += 1
            elif status == CheckStatus.NOC_RETURNED:
                p.nocs += 1
            else:
                continue
            if f.id not in p.inbound_files:
                p.inbound_files.append(f.id)

    pbs_files = [f.id for f in _inbound(session, "pbs.inbound", start, end)]
    if pbs_files:
        from store.models.pbs import OcrHeader, OcrLine

        for file_id, creditor, amount in session.execute(
                select(OcrHeader.spool_file_id, OcrHeader.pbs_number, OcrLine.total_amount)
                .join(OcrLine, OcrLine.header_id == OcrHeader.id)
                .where(OcrHeader.spool_file_id.in_(pbs_files))):
            p = pos("pbs", creditor)
            p.received.add(-int(amount))  # money received: a credit to the creditor
            if file_id not in p.inbound_files:
                p.inbound_files.append(file_id)
    return sorted(out.values(), key=lambda p: (p.channel, p.party))


def _odfis(session: Session, settings: Settings) -> dict[str, str]:
    from handlers.ach.store import PayeeError, load_payees

    try:
        return {name: p.settings.odfi for name, p in load_payees(session, settings).items()}
    except PayeeError:
        return {}


def _inbound(session: Session, handler: str, start: dt.datetime, end: dt.datetime) -> Iterable[SpoolFile]:
    return session.scalars(select(SpoolFile).where(SpoolFile.handler == handler, SpoolFile.state == FileState.DONE,
                                                   SpoolFile.finished_at >= start, SpoolFile.finished_at < end)
                           .order_by(SpoolFile.id))


COLUMNS = ("day", "channel", "party", "odfi", "sent_count", "sent_debit", "sent_credit", "ready_count",
           "ready_debit", "ready_credit", "held_over_count", "held_over_debit", "held_over_credit", "returns_count",
           "returns_amount", "prenote_returns", "nocs", "received_count", "received_amount", "net")


def row(p: Position) -> dict[str, object]:
    return {"day": p.day.isoformat(), "channel": p.channel, "party": p.party, "odfi": p.odfi,
            "sent_count": p.sent.count, "sent_debit": p.sent.debit, "sent_credit": p.sent.credit,
            "ready_count": p.ready.count, "ready_debit": p.ready.debit, "ready_credit": p.ready.credit,
            "held_over_count": p.held_over.count, "held_over_debit": p.held_over.debit,
            "held_over_credit": p.held_over.credit, "returns_count": p.returns.count,
            "returns_amount": p.returns.debit - p.returns.credit, "prenote_returns": p.prenote_returns,
            "nocs": p.nocs, "received_count": p.received.count,
            "received_amount": p.received.credit - p.received.debit, "net": p.net}


def to_csv(ps: list[Position]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for p in ps:
        w.writerow(row(p))
    return buf.getvalue()


def cents(v: int) -> str:
    return f"{'-' if v < 0 else ''}{abs(v) // 100}.{abs(v) % 100:02d}"


def to_text(day: dt.date, ps: list[Position]) -> str:
    from daemon.logfmt import escape_unsafe

    lines = [f"Settlement positions for {day.isoformat()} (amounts in currency units)"]
    if not ps:
        lines.append("  no activity")
    for p in ps:
        r = row(p)
        who = f"{p.channel.upper()} {p.party}" + (f" ODFI {p.odfi}" if p.odfi else "")
        lines.append(escape_unsafe(who))
        if p.channel == "ach":
            for k in ("sent", "ready", "held_over"):
                lines.append(f"  {k:<10} {r[k + '_count']:>7}  debit {cents(int(str(r[k + '_debit']))):>14}  "
                             f"credit {cents(int(str(r[k + '_credit']))):>14}")
            lines.append(f"  returns    {p.returns.count:>7}  amount {cents(int(str(r['returns_amount']))):>13}"
                         f"  prenote returns {p.prenote_returns}  NOCs {p.nocs}")
        else:
            lines.append(f"  received   {p.received.count:>7}  amount {cents(int(str(r['received_amount']))):>13}")
        lines.append(f"  net        {cents(p.net):>31}")
    return "\n".join(lines) + "\n"
