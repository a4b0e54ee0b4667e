"""CheckFree jobs: outbound transfer, SFTP download, clearing, and the cut-off warning."""

from __future__ import annotations

import datetime as dt

from handlers.checkfree import settings as cfs
from handlers.checkfree.cutoff import after_cutoff
from handlers.jobs import Job, JobContext, JobResult


class OutboundJob(Job):
    kind = "checkfree.outbound"
    dry_run_safe = False  # moves files or talks to a remote system outside a unit of work
    description = "out/bd → out/history → encrypt → out/ftp → SFTP upload → removed (crash-safe stages)"
    short_task = "CfOutTsk"

    def check_options(self) -> list[str]:
        problems = super().check_options()
        try:
            cfs.pgp_settings(self.settings)
            cfs.endpoint(self.settings)
        except (KeyError, ValueError) as exc:
            problems.append(str(exc.args[0]) if exc.args else str(exc))
        return problems

    def run(self, ctx: JobContext) -> JobResult:
        from handlers.checkfree.outbound import OutboundFlow

        report = OutboundFlow(ctx.settings, ctx.unit).run()
        counts = report.counts
        message = "; ".join(report.problems)
        late = after_cutoff(cfs.checkfree(ctx.settings), ctx.now) if counts.get("uploaded") else None
        if late:
            ctx.log.warning("CheckFree files uploaded %s", late)
            message = "; ".join(filter(None, [message, f"cut-off: uploaded {late}"]))
        if report.problems:
            raise RuntimeError(message)
        return JobResult(outcome="success" if counts else "noop", counts=counts, message=message)


class DownloadJob(Job):
    kind = "checkfree.download"
    dry_run_safe = False  # moves files or talks to a remote system outside a unit of work
    description = "fetch CheckFree's files by SFTP into in/ftp (never twice)"
    short_task = "CfDnlTsk"

    def check_options(self) -> list[str]:
        problems = super().check_options()
        try:
            cfs.endpoint(self.settings)
        except (KeyError, ValueError) as exc:
            problems.append(str(exc.args[0]) if exc.args else str(exc))
        return problems

    def run(self, ctx: JobContext) -> JobResult:
        from spool.fsops import ensure_dir
        from spool.sftp import SftpStage
        from store.fetched import DbFetchedRegistry

        ep = cfs.endpoint(ctx.settings)
        inbox = cfs.folder(ctx.settings, "in_ftp")
        ensure_dir(inbox)
        report = SftpStage(ep).download_all(inbox, DbFetchedRegistry(ctx.db, ep.name))
        counts = {"fetched": len(report.fetched), "skipped": len(report.skipped), "failed": len(report.failed)}
        if report.failed:
            raise RuntimeError("; ".join(str(e) for e in report.failed))
        return JobResult(outcome="success" if report.fetched else "noop", counts=counts)


class ClearJob(Job):
    """Seed 001: CheckFree sends no notice of success; no return within N business days → paid."""

    kind = "checkfree.clear"
    description = "processed CheckFree payments with no return after N business days → paid"
    short_task = "CfClrTsk"

    known_options = ("business_days",)

    def check_options(self) -> list[str]:
        problems = super().check_options()
        n = self.options.get("business_days")
        if n is not None and (not isinstance(n, int) or n < 0):
            problems.append("business_days must be a non-negative integer")
        return problems

    def run(self, ctx: JobContext) -> JobResult:
        from sqlalchemy import select

        from handlers.checkfree import payments as pay
        from store.models.ach import CheckPayment, CheckStatus, PaymentPayee

        cf = cfs.checkfree(ctx.settings)
        cleared = 0
        with ctx.unit() as uow:
            s = uow.session
            payees = {p.name: p.payee_id for p in s.scalars(
                select(PaymentPayee).where(PaymentPayee.gateway == pay.GATEWAY))}
            for name, payee_id in sorted(payees.items()):
                conf = cf.payees.get(name)
                n = int(self.options.get("business_days",
                                         conf.clear_after_business_days if conf is not None else 5))
                cutoff = _days_back(ctx, n)
                rows = s.scalars(select(CheckPayment).where(
                    CheckPayment.payee_id == payee_id, CheckPayment.status == int(CheckStatus.PROCESSED),
                    CheckPayment.pay_date <= cutoff).order_by(CheckPayment.payment_id).with_for_update())
                for p in rows:
                    pay.set_status(s, p, CheckStatus.PAID, job_id=ctx.run_id, job_name=self.audit_job_name,
                                   reason=f"no return within {n} business days", now=ctx.now)
                    cleared += 1
        return JobResult(outcome="success" if cleared else "noop", counts={"paid": cleared})


def _days_back(ctx: JobContext, n: int) -> dt.date:
    """The latest pay date that is ``n`` business days before today."""
    day = ctx.today
    for _ in range(n):
        day -= dt.timedelta(days=1)
        while not ctx.calendar.is_business_day(day):
            day -= dt.timedelta(days=1)
    return day
