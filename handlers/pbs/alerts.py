"""``pbs.alerts``: one alert e-mail per PBS file that went to error/ (seed 003's
"alert email to configured recipients").

A failing file's transaction is rolled back, so the handler cannot queue the
alert itself; this job scans the ledger for error rows of the PBS channel(s)
not yet alerted and queues one notification each, recording the file in
``pbs_alert`` in the same transaction (never twice, also across daemons).
"""

from __future__ import annotations

import json

from sqlalchemy import select

from handlers.jobs import Job, JobContext, JobResult
from handlers.pbs.settings import pbs_settings
from store.models.core import FileState, SpoolFile
from store.models.pbs import PbsAlert

OPTIONS = {"channels", "recipients", "limit"}


class AlertsJob(Job):
    kind = "pbs.alerts"
    description = "mail the alert group about PBS files filed to error/"
    short_task = "AlertTsk"

    known_options = OPTIONS

    def run(self, ctx: JobContext) -> JobResult:
        conf = pbs_settings(ctx.settings)
        channels = list(self.options.get("channels") or [conf.channel])
        recipients = list(self.options.get("recipients") or conf.alert_group(ctx.settings))
        limit = int(self.options.get("limit", 200))
        with ctx.unit() as uow:
            s = uow.session
            rows = list(s.scalars(
                select(SpoolFile)
                .outerjoin(PbsAlert, PbsAlert.spool_file_id == SpoolFile.id)
                .where(SpoolFile.channel.in_(channels), PbsAlert.spool_file_id.is_(None),
                       SpoolFile.state.in_([FileState.ERROR, FileState.DUPLICATE]),
                       SpoolFile.error.is_not(None))
                .order_by(SpoolFile.id).limit(limit)))
            if not rows:
                return JobResult(outcome="noop")
            if not recipients:
                raise RuntimeError(f"{len(rows)} PBS file(s) in error but no alert recipients configured "
                                   "(pbs.alert_recipients or smtp.alert_recipients)")
            for row in rows:
                report = row.error or {}
                note = uow.notify(recipients, f"PBS file {row.original_name} rejected: {report.get('reason')}",
                                  _body(row, report), kind="pbs.file_error", ref=str(row.id))
                s.flush()
                s.add(PbsAlert(spool_file_id=row.id, notification_id=note.id if note else None,
                               alerted_at=ctx.now))
        return JobResult(counts={"alerts": len(rows)}, message=f"{len(rows)} alert(s) queued")


def _body(row: SpoolFile, report: dict[str, object]) -> str:
    where = ", ".join(f"{k} {report[k]}" for k in ("line", "record", "field", "columns", "value")
                      if report.get(k) is not None)
    lines = [
        f"The PBS file {row.original_name} (channel {row.channel}, ledger id {row.id}) was not loaded.",
        "",
        f"Reason: {report.get('reason')}",
        f"Code: {report.get('code')}",
    ]
    if where:
        lines.append(f"Where: {where}")
    lines += [f"Filed at: {row.final_path}", "", "Report:", json.dumps(
        {k: v for k, v in report.items() if k not in ("traceback", "issues")}, indent=2, default=str)]
    return "\n".join(lines) + "\n"
