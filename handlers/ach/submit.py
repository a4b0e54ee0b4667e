"""ach.check-submit (pmtCheckSubmit): scheduled checks due by today + N days → one ACH file per
set of immediate fields (or a CheckFree debit file per CheckFree payee).

The ACH file, the payment updates, their audit rows, the trace-number counters and the summary
reports commit together in one unit of work, and the file becomes visible only after the commit.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, update

from formats.nacha import codes
from formats.nacha.routing import is_valid
from formats.nacha.writer import MAX_AMOUNT, BatchSpec, Payment
from handlers.ach.achfile import CREDIT_CODE, DEBIT_CODE, ach_file
from handlers.ach.audit import Actor, audit_ids, audit_objects, chunks
from handlers.ach.job import BOOL_OPTIONS, AchJob, effective_date
from handlers.ach.settings import PayeeSettings
from handlers.ach.store import Payee, bulk_update, cents, db_value, new_log_id, write_log
from handlers.ach.windows import WindowChoice, entry_dates, next_window
from handlers.jobs import JobContext, JobResult
from store.behind import WriteBehind
from store.calendars import Calendar
from store.models.ach import (
    AccountStatus,
    AuditOp,
    CheckPayment,
    CheckStatus,
    HoldState,
    PaymentAccount,
    SuspendedBatch,
)
from store.session import UnitSession
from store.unit import Work

#: submitted payments whose rows are written together, behind the rest of the file's formatting
SUBMIT_CHUNK = 10_000
#: what check-submit reads of a due check
DUE_COLUMNS = tuple(CheckPayment.__table__.c[n] for n in (
    "payment_id", "payer_id", "pid", "amount", "routing_transit", "check_account_number", "account_type",
    "account_name", "payer_account_number", "payment_source", "hold_id", "pay_date", "same_day"))


@dataclass
class _Entry:
    """One check on its way into a batch."""

    payment_id: int
    payer_id: str
    amount: int
    routing: str
    account: str
    account_type: str
    name: str
    identification: str
    source: str
    hold_id: int | None

    @property
    def code(self) -> int:
        return (CREDIT_CODE if self.amount < 0 else DEBIT_CODE)[self.account_type]


#: a batch: effective date, risk-limit hold, company descriptive date (``SDHHMM`` for same-day)
BatchKey = tuple[dt.date, int | None, str]


@dataclass
class _PayeeRun:
    payee: Payee
    log_id: int
    entries: dict[BatchKey, list[_Entry]] = field(default_factory=lambda: defaultdict(list))
    cancelled: list[tuple[int, str, int, str]] = field(default_factory=list)
    failed: list[tuple[int, str, int, str]] = field(default_factory=list)
    zero: list[int] = field(default_factory=list)
    pending: int = 0
    suspended: list[SuspendedBatch] = field(default_factory=list)
    submitted: int = 0
    debit: int = 0
    credit: int = 0
    files: list[str] = field(default_factory=list)
    effective_dates: set[dt.date] = field(default_factory=set)
    #: the submission window of this run (payees with windows only)
    window: WindowChoice | None = None
    same_day: int = 0
    #: payments flagged same-day that went next-day, with the reason
    downgraded: list[tuple[int, str]] = field(default_factory=list)



class CheckSubmitJob(AchJob):
    """pmtCheckSubmit: scheduled checks due by today + N days → one ACH file per gateway."""

    kind = "ach.check-submit"
    short_task = "ChkSubTsk"
    description = "submit scheduled checks to the ACH (or CheckFree) gateway"
    known_options = ("payee", "extra_payees", "days_before", "target", "generate_empty_file", *BOOL_OPTIONS)

    def check_options(self) -> list[str]:
        problems = super().check_options()
        d = self.options.get("days_before", 1)
        if not isinstance(d, int) or isinstance(d, bool) or d < 0:
            problems.append("days_before must be a whole number ≥ 0")
        return problems

    def run(self, ctx: JobContext) -> JobResult:
        actor = Actor.for_job(self, ctx)
        today = ctx.today
        cutoff = today + dt.timedelta(days=int(self.options.get("days_before", 1)))
        counts: dict[str, int] = defaultdict(int)
        errors: list[str] = []
        with ctx.unit() as uow:
            payees = self.payees(uow.session)
            ach = [p for p in payees if p.settings.gateway == "ach"]
            runs = [self._collect(uow.session, p, cutoff, today, ctx.calendar, actor, ctx.now) for p in ach]
            self._write_ach(uow, runs, ctx, actor)
            for r in runs:
                self._finish(uow.session, r, actor, ctx, counts)
            if any(r.files for r in runs):
                counts["files"] = len({f for r in runs for f in r.files})
        for p in payees:
            if p.settings.gateway != "checkfree":
                continue
            try:
                with ctx.unit() as uow:
                    self._checkfree(uow, p, cutoff, today, ctx, actor, counts)
            except Exception as exc:
                errors.append(f"payee {p.name}: {exc}")
        if errors:
            raise RuntimeError("; ".join(errors))
        total = sum(v for k, v in counts.items() if k != "pending_skipped")
        return JobResult(outcome="success" if total else "noop", counts=dict(counts),
                         message=f"{counts.get('submitted', 0)} submitted in {counts.get('files', 0)} file(s)")

    # -- selection ----------------------------------------------------------------------------
    def _due(self, session: UnitSession, payee: Payee, cutoff: dt.date, *columns: Any) -> Any:
        released = select(SuspendedBatch.id).where(SuspendedBatch.state == HoldState.RELEASED)
        return (select(*(columns or (CheckPayment,)))
                .where(CheckPayment.payee_id == payee.payee_id, CheckPayment.status == CheckStatus.SCHEDULED,
                       CheckPayment.pay_date <= cutoff,
                       or_(CheckPayment.hold_id.is_(None), CheckPayment.hold_id.in_(released)))
                .order_by(CheckPayment.pay_date, CheckPayment.payment_id))

    def _decide(self, p: Any, acct: PaymentAccount | None) -> tuple[str, str]:
        """(action, reason): submit, cancel, skip (stay scheduled) or fail."""
        o = self.options
        if p.pid is not None and acct is None:
            return "cancel", "payment account deleted"
        if acct is not None:
            st = acct.account_status
            if st == AccountStatus.INACTIVE and o.get("cancel_if_account_cancelled", True):
                return "cancel", "payment account cancelled"
            if st == AccountStatus.BAD_ACTIVE and o.get("cancel_if_account_invalid", True):
                return "cancel", "payment account invalid (bad_active)"
            if st in (AccountStatus.PND_ACTIVE, AccountStatus.PND_WAIT) and not o.get("submit_if_account_pending",
                                                                                    False):
                return "skip", f"payment account pending ({st})"
        return "submit", ""

    def _entry(self, p: Any, acct: PaymentAccount | None) -> _Entry | str:
        routing = (acct.routing_transit if acct else p.routing_transit) or ""
        account = (acct.account_number if acct else p.check_account_number) or ""
        atype = ((acct.account_type if acct else p.account_type) or "").lower()
        name = (acct.account_holder_name if acct else p.account_name) or ""
        if not is_valid(routing):
            return "invalid routing number"
        if not account.strip() or len(account) > 17:
            return "account number must be 1-17 characters"
        if atype not in DEBIT_CODE:
            return f"account type {atype!r} is neither checking nor saving"
        if abs(p.amount) > MAX_AMOUNT:
            return "amount exceeds the ACH entry maximum"
        ident = (p.payer_account_number or p.payer_id or "")[:15]
        return _Entry(p.payment_id, p.payer_id, p.amount, routing, account, atype, name[:22], ident,
                      p.payment_source, p.hold_id)

    def _collect(self, session: UnitSession, payee: Payee, cutoff: dt.date, today: dt.date, cal: Calendar,
                 actor: Actor, now: dt.datetime) -> _PayeeRun:
        run = _PayeeRun(payee, 0)
        ps = payee.settings
        run.window = next_window(ps.submission_windows(), ps.window_timezone, now, cal)
        if run.window is not None:
            # Due by the window's day, not by the run's: a run after the last cut-off works for the next day.
            cutoff = max(cutoff, run.window.day + (cutoff - today))
        rows = list(session.execute(self._due(session, payee, cutoff, *DUE_COLUMNS)))
        accounts = _accounts(session, {p.pid for p in rows if p.pid})
        for p in rows:
            acct = accounts.get(p.pid) if p.pid else None
            action, reason = self._decide(p, acct)
            if action == "skip":
                run.pending += 1
                continue
            if action == "cancel":
                run.cancelled.append((p.payment_id, p.payer_id, p.amount, reason))
                continue
            if p.amount == 0:
                run.zero.append(p.payment_id)
                continue
            e = self._entry(p, acct)
            if isinstance(e, str):
                run.failed.append((p.payment_id, p.payer_id, p.amount, e))
                continue
            if run.window is None:
                key: BatchKey = (effective_date(p.pay_date, today, cal, ps.skip_holidays), p.hold_id, "")
            else:
                dates = entry_dates(run.window, p.pay_date, bool(p.same_day), p.amount, ps.same_day_limit, cal,
                                    ps.skip_holidays)
                key = (dates.effective, p.hold_id, dates.descriptive)
                if dates.downgraded:
                    run.downgraded.append((p.payment_id, dates.downgraded))
            run.entries[key].append(e)
        for obj in accounts.values():
            session.expunge(obj)  # read-only snapshots; changes go through bulk statements
        self._hold_over_limit(session, run, actor)
        return run

    def _hold_over_limit(self, session: UnitSession, run: _PayeeRun, actor: Actor) -> None:
        """Seed 002 batch limits: an over-limit batch is suspended (not written) until released."""
        s = run.payee.settings
        for key in list(run.entries):
            eff, hold, _descriptive = key
            if hold is not None:
                continue  # released by an operator
            es = run.entries[key]
            debit = sum(e.amount for e in es if e.amount > 0)
            credit = -sum(e.amount for e in es if e.amount < 0)
            largest = max(abs(e.amount) for e in es)
            breaches = s.limit_breaches(eff, debit, credit, largest)
            if not breaches:
                continue
            batch = SuspendedBatch(payee_id=run.payee.payee_id, effective_date=eff, state=HoldState.SUSPENDED,
                                   entries=len(es), debit_total=debit, credit_total=credit,
                                   reason="; ".join(breaches)[:512], job_id=actor.job_id, job_name=actor.job_name,
                                   created_at=actor.now)
            session.add(batch)
            session.flush()
            ids = [e.payment_id for e in es]
            for part in chunks(ids):
                session.execute(update(CheckPayment).where(CheckPayment.payment_id.in_(part))
                                .values(hold_id=batch.id, last_modify_time=actor.now))
            audit_ids(session, CheckPayment, ids, AuditOp.UPDATE, actor, f"suspended batch {batch.id}: {batch.reason}")
            run.suspended.append(batch)
            del run.entries[key]

    # -- writing ------------------------------------------------------------------------------
    def _write_ach(self, uow: Work, runs: list[_PayeeRun], ctx: JobContext, actor: Actor) -> None:
        s = uow.session
        for r in runs:
            r.log_id = new_log_id(s)
        files: dict[tuple[str, str, str, str], list[_PayeeRun]] = defaultdict(list)
        for r in runs:
            files[r.payee.settings.file_key()].append(r)
        empty_opt = self.options.get("generate_empty_file")
        local = ctx.now.astimezone()
        for n, group in enumerate(files.values()):
            has_entries = any(r.entries for r in group)
            want_empty = any(r.payee.settings.generate_empty_file if empty_opt is None else bool(empty_opt)
                             for r in group)
            if not has_entries and not want_empty:
                continue
            self._write_file(uow, group, local + dt.timedelta(milliseconds=n), actor)

    def _write_file(self, uow: Work, group: list[_PayeeRun], created: dt.datetime, actor: Actor) -> None:
        """The file of ``group``, and the submitted payments' rows.

        The rows of every ``SUBMIT_CHUNK`` entries are handed to ``store.behind`` as soon as the writer
        has given them their trace numbers: on PostgreSQL the server updates them while the rest of
        the file is formatted (same statements, connection and transaction as before, in order)."""
        s = uow.session
        col = CheckPayment.__table__.c
        now = db_value(s, col.last_modify_time, actor.now)
        with ach_file(uow, self.settings, self.target, group[0].payee.settings, created) as f, \
                WriteBehind.on(s) as behind:
            name, out = f.name, f.out

            def submitted(r: _PayeeRun, eff: dt.date, descriptive: str, es: Sequence[_Entry],
                          traces: Sequence[str]) -> None:
                rows = []
                start = db_value(s, col.txn_start_date, eff)
                for e, trace in zip(es, traces, strict=True):
                    rows.append((e.payment_id, int(CheckStatus.PROCESSED), str(e.code), trace, start, "N",
                                 r.log_id, now, e.routing, e.account, e.account_type))
                    out.item("payment", e.payment_id, e.amount)
                    r.submitted += 1
                    r.same_day += bool(descriptive)
                    if e.amount > 0:
                        r.debit += e.amount
                    else:
                        r.credit -= e.amount
                if rows:
                    behind.submit(functools.partial(_mark_submitted, s, rows, actor, name))

            for r in group:
                ps = r.payee.settings
                for (eff, _hold, descriptive), es in sorted(r.entries.items(),
                                                            key=lambda kv: (kv[0][0], kv[0][1] or 0, kv[0][2])):
                    debit_only = all(e.amount > 0 for e in es)
                    batch = BatchSpec(ps.company_name, ps.company_id, ps.sec_code, ps.company_entry_description,
                                      eff, ps.odfi, company_descriptive_date=descriptive,
                                      service_class_code=codes.SERVICE_CLASS_DEBITS if debit_only
                                      else codes.SERVICE_CLASS_MIXED)
                    feed = _Feed(es, functools.partial(_payment, ps),
                                 functools.partial(submitted, r, eff, descriptive))
                    behind.wait()  # a batch may read its ODFI's trace counter first
                    f.write_batch(ps, batch, feed, traces=feed.traces)
                    feed.finish()
                    r.effective_dates.add(eff)
            control = f.close()
            out.summary = {"payees": [r.payee.name for r in group], "entries": control.entry_addenda_count,
                           "batches": control.batch_count, "debit": control.total_debit_amount,
                           "credit": control.total_credit_amount}
            windows = {r.payee.name: r.window.note for r in group if r.window is not None}
            if windows:
                out.summary["windows"] = windows
        held = {k[1] for r in group for k in r.entries if k[1] is not None}
        if held:
            s.execute(update(SuspendedBatch).where(SuspendedBatch.id.in_(held))
                      .values(state=HoldState.SUBMITTED, submitted_at=actor.now))
        for r in group:
            r.files.append(name)

    def _finish(self, s: UnitSession, r: _PayeeRun, actor: Actor, ctx: JobContext, counts: dict[str, int]) -> None:
        """Cancel, fail and zero-process the rest; the summary report; suspended-batch mail."""
        def bulk(rows: Sequence[int], values: dict[str, Any], reasons: dict[int, str] | None = None,
                 audit_reason: str = "") -> None:
            if not rows:
                return
            if reasons:
                s.execute(update(CheckPayment), [{"payment_id": i, **values, "txn_err_msg": reasons[i][:255]}
                                                 for i in rows])
            else:
                for part in chunks(list(rows)):
                    s.execute(update(CheckPayment).where(CheckPayment.payment_id.in_(part)).values(**values))
            audit_ids(s, CheckPayment, rows, AuditOp.UPDATE, actor, audit_reason)

        common = {"reminded": "N", "log_id": r.log_id, "last_modify_time": actor.now}
        bulk([c[0] for c in r.cancelled], {**common, "status": CheckStatus.CANCELLED},
             {c[0]: c[3] for c in r.cancelled}, "cancelled by check-submit")
        bulk([f[0] for f in r.failed], {**common, "status": CheckStatus.FAILED},
             {f[0]: f[3] for f in r.failed}, "failed in check-submit")
        bulk(r.zero, {**common, "status": CheckStatus.PROCESSED}, None, "zero amount: processed without submission")
        activity = r.submitted + len(r.cancelled) + len(r.failed) + len(r.zero) + len(r.suspended) + len(r.files)
        if activity or r.pending:
            rows: list[tuple[str, object]] = [
                ("report_type", "summary"), ("payee", r.payee.name), ("payee_id", r.payee.payee_id),
                ("report_date", ctx.today.isoformat()), ("gateway", "ACH"),
                ("report_creation_time", actor.now.isoformat(timespec="seconds")), ("job", actor.job_name),
                ("run_id", actor.job_id), ("file", ";".join(r.files)),
                ("effective_dates", ";".join(sorted(d.isoformat() for d in r.effective_dates))),
                ("total_number", r.submitted), ("total_debit_amount", r.debit), ("total_credit_amount", r.credit),
                ("submitted", r.submitted), ("zero_processed", len(r.zero)), ("cancelled", len(r.cancelled)),
                ("failed", len(r.failed)), ("suspended_batches", len(r.suspended)), ("pending_skipped", r.pending)]
            if r.window is not None:
                rows += [("window", r.window.note), ("same_day_submitted", r.same_day)]
                rows += [("same_day_downgraded", f"{i}|{why}") for i, why in r.downgraded]
            rows += [("failed_payment", f"{i}|{payer}|{amt}|{why}") for i, payer, amt, why in r.failed]
            rows += [("cancelled_payment", f"{i}|{payer}|{amt}|{why}") for i, payer, amt, why in r.cancelled]
            rows += [("suspended_batch", f"{b.id}|{b.effective_date}|{b.entries}|{b.debit_total}|{b.reason}")
                     for b in r.suspended]
            write_log(s, r.log_id, rows)
        if r.suspended and r.payee.settings.recipients:
            from store.models.core import Notification

            body = "\n".join(f"batch {b.id}: {b.entries} entries, debit {cents(b.debit_total)}, effective "
                             f"{b.effective_date}: {b.reason}. Release with: spoolgate release {b.id}"
                             for b in r.suspended)
            s.add(Notification(lane="immediate", kind="ach-suspended", recipients=list(r.payee.settings.recipients),
                               subject=f"ACH batch(es) suspended for payee {r.payee.name}", body=body,
                               ref=f"job_run:{ctx.run_id}"))
        counts["submitted"] += r.submitted
        if r.same_day:
            counts["same_day"] += r.same_day
        if r.window is not None and r.window.missed is not None and r.submitted:
            ctx.log.info("payee %s: %s", r.payee.name, r.window.note)
        counts["cancelled"] += len(r.cancelled)
        counts["failed"] += len(r.failed)
        counts["zero_processed"] += len(r.zero)
        counts["suspended_batches"] += len(r.suspended)
        if r.pending:
            counts["pending_skipped"] += r.pending

    # -- CheckFree ----------------------------------------------------------------------------
    def _checkfree(self, uow: Work, payee: Payee, cutoff: dt.date, today: dt.date, ctx: JobContext,
                   actor: Actor, counts: dict[str, int]) -> None:
        try:
            from handlers.checkfree.debit import write_debit_file
        except ImportError as exc:
            raise RuntimeError(f"CheckFree debit writer unavailable ({exc}); its payments stay scheduled") from None
        s = uow.session
        rows = list(s.scalars(self._due(s, payee, cutoff)))
        accounts = _accounts(s, {p.pid for p in rows if p.pid})
        log_id = new_log_id(s)
        submit: list[CheckPayment] = []
        for p in rows:
            acct = accounts.get(p.pid) if p.pid else None
            action, reason = self._decide(p, acct)
            if action == "cancel":
                p.status, p.txn_err_msg = CheckStatus.CANCELLED, reason
            elif action == "submit" and p.amount == 0:
                p.status = CheckStatus.PROCESSED
            elif action == "submit":
                submit.append(p)
                continue
            else:
                continue
            p.reminded, p.log_id, p.last_modify_time = "N", log_id, actor.now
        result = write_debit_file(uow, self.settings, payee.name, submit) if submit else {}
        for p in submit:
            if p.status == CheckStatus.SCHEDULED:
                p.status, p.action_code = CheckStatus.PROCESSED, "ADD"
                p.reminded, p.log_id, p.last_modify_time = "N", log_id, actor.now
        changed = [p for p in rows if p.log_id == log_id]
        audit_objects(s, changed, AuditOp.UPDATE, actor, "check-submit (CheckFree)")
        write_log(s, log_id, [("report_type", "summary"), ("payee", payee.name), ("payee_id", payee.payee_id),
                              ("report_date", today.isoformat()), ("gateway", "CheckFree"), ("job", actor.job_name),
                              ("run_id", actor.job_id), ("submitted", len(submit)),
                              *((f"checkfree_{k}", v) for k, v in dict(result).items())])
        counts["checkfree_submitted"] += len(submit)



def _accounts(session: UnitSession, pids: Iterable[str]) -> dict[str, PaymentAccount]:
    out: dict[str, PaymentAccount] = {}
    for part in chunks(sorted(pids)):
        for a in session.scalars(select(PaymentAccount).where(PaymentAccount.pid.in_(part))):
            out[a.pid] = a
    return out


def _mark_submitted(s: UnitSession, rows: list[tuple[Any, ...]], actor: Actor, name: str) -> None:
    """The submitted payments' new state and their history rows (run behind the file's formatting)."""
    bulk_update(s, "check_payments", "payment_id",
                ("status", "action_code", "txn_number", "txn_start_date", "reminded", "log_id",
                 "last_modify_time", "routing_transit", "check_account_number", "account_type"), rows)
    audit_ids(s, CheckPayment, [r[0] for r in rows], AuditOp.UPDATE, actor, f"submitted in {name}")


def _payment(ps: PayeeSettings, e: _Entry) -> Payment:
    return Payment(e.code, e.routing, e.account, abs(e.amount), e.name, e.identification,
                   ("R " if e.source == "R" else "S ") if ps.sec_code in ("WEB", "TEL") else "")


class _Feed:
    """A batch's payments for the writer. The writer appends each entry's trace number to
    ``traces`` as it writes it, so when it asks for entry i, entries 0..i-1 have theirs: every
    ``SUBMIT_CHUNK`` of them goes to ``ready`` with its traces while the writer goes on."""

    def __init__(self, entries: Sequence[_Entry], payment: Callable[[_Entry], Payment],
                 ready: Callable[[Sequence[_Entry], Sequence[str]], None]) -> None:
        self.entries = entries
        self.payment = payment
        self.ready = ready
        self.traces: list[str] = []
        self.sent = 0

    def __iter__(self) -> Iterator[Payment]:
        for i, e in enumerate(self.entries):
            if i - self.sent >= SUBMIT_CHUNK:
                self._send(i)
            yield self.payment(e)

    def finish(self) -> None:
        """The rest, once the writer has written the whole batch."""
        self._send(len(self.entries))

    def _send(self, upto: int) -> None:
        self.ready(self.entries[self.sent:upto], self.traces[self.sent:upto])
        self.sent = upto
