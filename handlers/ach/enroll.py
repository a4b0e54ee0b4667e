"""Check-account enrollment (seed 001 prenotes): ach.submit-enroll sends a prenote for each new
account (pnd_active → pnd_wait), ach.confirm-enroll activates the accounts no prenote return
came back for after the payee's days to activate (pnd_wait → active)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import replace

from sqlalchemy import select

from formats.nacha import codes
from formats.nacha.routing import is_valid
from formats.nacha.writer import BatchSpec, Payment
from handlers.ach.achfile import DEBIT_CODE, ach_file
from handlers.ach.audit import Actor, audit_objects
from handlers.ach.job import AchJob, PayeePassJob, effective_date
from handlers.ach.store import Payee, new_log_id, write_log
from handlers.jobs import JobContext, JobResult
from store.models.ach import AccountStatus, AuditOp, CheckPayment, CheckStatus, PaymentAccount
from store.unit import UnitSession, Work

#: a payee's accounts waiting for a prenote, with the payee's report id
_Work = tuple[Payee, list[PaymentAccount], int]


class SubmitEnrollJob(AchJob):
    """pmtSubmitEnroll: pnd_active check accounts → prenote file, prenote rows (17), pnd_wait."""

    kind = "ach.submit-enroll"
    short_task = "SubEnrTsk"
    description = "send prenotes for new check accounts (pnd_active → pnd_wait)"
    known_options = ("payee", "extra_payees", "target")

    def run(self, ctx: JobContext) -> JobResult:
        actor = Actor.for_job(self, ctx)
        counts: dict[str, int] = defaultdict(int)
        with ctx.unit() as uow:
            s = uow.session
            payees = [p for p in self.payees(s) if p.settings.gateway == "ach"]
            work: list[_Work] = []
            for p in payees:
                accts = list(s.scalars(select(PaymentAccount).where(
                    PaymentAccount.ddn == p.name, PaymentAccount.payment_type == "check",
                    PaymentAccount.account_status == AccountStatus.PND_ACTIVE).order_by(PaymentAccount.pid)))
                if accts:
                    work.append((p, accts, new_log_id(s)))
            files: dict[tuple[str, str, str, str], list[_Work]] = defaultdict(list)
            for w in work:
                files[w[0].settings.file_key()].append(w)
            local = ctx.now.astimezone()
            for n, group in enumerate(files.values()):
                self._write(uow, group, local + dt.timedelta(milliseconds=n), ctx, actor, counts)
        return JobResult(outcome="success" if counts else "noop", counts=dict(counts))

    def _write(self, uow: Work, group: list[_Work], created: dt.datetime, ctx: JobContext, actor: Actor,
               counts: dict[str, int]) -> None:
        s = uow.session
        prenotes: list[CheckPayment] = []
        bad: list[PaymentAccount] = []
        good: list[PaymentAccount] = []
        with ach_file(uow, self.settings, self.target, group[0][0].settings, created) as f:
            name = f.name
            for payee, accts, log_id in group:
                ps = payee.settings
                eff = effective_date(ctx.today, ctx.today, ctx.calendar, ps.skip_holidays)
                ok: list[PaymentAccount] = []
                for a in accts:
                    atype = (a.account_type or "").lower()
                    if not is_valid(a.routing_transit or "") or atype not in DEBIT_CODE or not (
                            0 < len((a.account_number or "").strip()) <= 17):
                        a.account_status, a.txn_message = AccountStatus.BAD_ACTIVE, "prenote not sent: invalid account"
                        a.notify_status, a.txn_date = "N", actor.now
                        bad.append(a)
                        continue
                    ok.append(a)
                if not ok:
                    continue
                batch = BatchSpec(ps.company_name, ps.company_id, ps.sec_code, ps.company_entry_description, eff,
                                  ps.odfi, service_class_code=codes.SERVICE_CLASS_DEBITS)
                pays = [Payment.prenote(DEBIT_CODE[a.account_type.lower()], a.routing_transit or "", a.account_number,
                                        a.account_holder_name[:22], a.user_id[:15],
                                        ) for a in ok]
                if ps.sec_code in ("WEB", "TEL"):
                    pays = [replace(p, discretionary_data="S ") for p in pays]
                traces = f.write_batch(ps, batch, pays)
                for a, pay, trace in zip(ok, pays, traces, strict=True):
                    prenotes.append(CheckPayment(
                        payee_id=payee.payee_id, payer_id=a.user_id, pay_date=ctx.today,
                        status=CheckStatus.PRENOTE_PROCESSED, routing_transit=a.routing_transit,
                        account_name=a.account_holder_name, check_account_number=a.account_number, amount=0,
                        account_type=a.account_type.lower(), action_code=str(pay.transaction_code),
                        txn_number=trace, txn_start_date=eff, log_id=log_id, pid=a.pid, memo="prenote",
                        reminded="N", payment_source="S", create_time=actor.now, last_modify_time=actor.now))
                    a.account_status, a.txn_date, a.txn_message = AccountStatus.PND_WAIT, actor.now, None
                    good.append(a)
                write_log(s, log_id, [("report_type", "summary"), ("payee", payee.name),
                                      ("payee_id", payee.payee_id), ("report_date", ctx.today.isoformat()),
                                      ("gateway", "ACH"), ("job", actor.job_name), ("run_id", actor.job_id),
                                      ("file", name), ("prenotes", len(ok)), ("invalid_accounts", len(accts) - len(ok)),
                                      ("effective_dates", eff.isoformat())])
            f.close()
            f.out.summary = {"prenotes": len(prenotes)}
            s.add_all(prenotes)
            s.flush()
            for p in prenotes:
                f.out.item("prenote", p.payment_id, 0)
        audit_objects(s, prenotes, AuditOp.CREATE, actor, f"prenote sent in {name}")
        audit_objects(s, good, AuditOp.UPDATE, actor, f"prenote sent in {name}")
        audit_objects(s, bad, AuditOp.UPDATE, actor, "invalid account: prenote not sent")
        counts["prenotes"] += len(prenotes)
        counts["invalid_accounts"] += len(bad)
        counts["files"] += 1


class ConfirmEnrollJob(PayeePassJob):
    """pmtConfirmEnroll: pnd_wait accounts older than N business days (not returned) → active."""

    kind = "ach.confirm-enroll"
    short_task = "ConEnrTsk"
    description = "activate pnd_wait accounts after the payee's days to activate"
    counted = "activated"

    def apply(self, s: UnitSession, payee: Payee, ctx: JobContext, actor: Actor) -> int:
        days = payee.settings.days_to_activate
        accts = list(s.scalars(select(PaymentAccount).where(
            PaymentAccount.ddn == payee.name, PaymentAccount.account_status == AccountStatus.PND_WAIT,
            PaymentAccount.txn_date.is_not(None))))
        ready = [a for a in accts if a.txn_date is not None and ctx.calendar.business_days_between(
            a.txn_date.astimezone().date(), ctx.today) >= days]
        for a in ready:
            a.account_status, a.notify_status = AccountStatus.ACTIVE, "N"
        audit_objects(s, ready, AuditOp.UPDATE, actor, f"activated after {days} business days")
        return len(ready)
