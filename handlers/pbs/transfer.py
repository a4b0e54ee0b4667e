"""``pbs.transfer`` (seed 003's PBS File Transfer Engine): the SFTP exchange with Nets.

1. Download every file of the remote download folder into the PBS channel's
   inbox (complete files only; a file is never fetched twice: the registry is
   ``fetched_remote``), where the daemon picks them up.
2. Upload every complete file of the outgoing target (its signal file is
   there). Never resumed: a broken upload is written again from the start
   (seed 003: "resume" must be disabled). A file that fails for good goes to
   the upload error folder with ``NAME.error.json``.
3. Keep the uploaded file under ``delivered/DELIVERED_<date>`` (the "safe
   copy") and mark the ``pbs_delivery`` it belongs to as sent.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import or_, select

from handlers.jobs import Job, JobContext, JobResult
from handlers.pbs.settings import pbs_settings
from spool import fsops
from spool.sftp import SftpEndpoint, SftpStage, TransferError
from store.fetched import DbFetchedRegistry
from store.models.pbs import DeliveryState, PbsDelivery

OPTIONS = {"download", "upload"}


class TransferJob(Job):
    kind = "pbs.transfer"
    dry_run_safe = False  # moves files or talks to a remote system outside a unit of work
    description = "download files from Nets into the PBS inbox; upload the outgoing files"
    short_task = "XferTsk"

    known_options = OPTIONS

    def check_options(self) -> list[str]:
        problems = super().check_options()
        try:
            conf = pbs_settings(self.settings)
        except ValidationError:
            return problems  # reported for the [pbs] section itself
        if conf.sftp is None:
            problems.append("pbs.sftp (the Nets SFTP endpoint) is not configured")
        problems += conf.target_problems(self.settings)
        if conf.channel not in self.settings.channels:
            problems.append(f"pbs.channel {conf.channel!r} is not a channel")
        return problems

    def run(self, ctx: JobContext) -> JobResult:
        conf = pbs_settings(ctx.settings)
        if conf.sftp is None:
            raise RuntimeError("pbs.sftp is not configured")
        endpoint = SftpEndpoint(**{"name": "pbs", **conf.sftp})
        stage = SftpStage(endpoint)
        counts = {"downloaded": 0, "download_failed": 0, "uploaded": 0, "upload_failed": 0}
        problems: list[str] = []
        if self.options.get("download", True):
            inbox = ctx.settings.channels[conf.channel].inbox
            fsops.ensure_dir(inbox)
            try:
                report = stage.download_all(inbox, DbFetchedRegistry(ctx.db, endpoint.name))
            except TransferError as exc:  # listing failed: still upload
                counts["download_failed"] += 1
                problems.append(str(exc))
            else:
                counts["downloaded"] = len(report.fetched)
                counts["download_failed"] = len(report.failed)
                problems += [str(e) for e in report.failed]
        if self.options.get("upload", True):
            for path in self._outgoing(ctx):
                try:
                    stage.upload(path)
                except TransferError as exc:
                    counts["upload_failed"] += 1
                    problems.append(str(exc))
                    self._file_failed(ctx, path, exc)
                    continue
                counts["uploaded"] += 1
                self._file_delivered(ctx, path)
        message = "; ".join(problems[:10])
        if problems:
            raise RuntimeError(f"{len(problems)} transfer(s) failed: {message}")
        moved = counts["downloaded"] + counts["uploaded"]
        return JobResult(outcome="success" if moved else "noop", counts=counts)

    def _outgoing(self, ctx: JobContext) -> list[Path]:
        """Complete outgoing files: not hidden, not a signal, and signalled when the target signals."""
        target = ctx.settings.outbound[pbs_settings(ctx.settings).outbound_target]
        if not target.folder.exists():
            return []
        names = {e.name for e in fsops.scan(target.folder) if e.kind == "file"}
        signals = {target.signal_name(n) for n in names} - {None}
        out = []
        # The XML names the zip of PDFs it comes with: send the zip first.
        for name in sorted(names, key=lambda n: (n.lower().endswith(".xml"), n)):
            if name.startswith(".") or name in signals:
                continue
            signal = target.signal_name(name)
            if signal is not None and signal not in names:
                continue
            out.append(target.folder / name)
        return out

    def _signal(self, ctx: JobContext, path: Path) -> Path | None:
        target = ctx.settings.outbound[pbs_settings(ctx.settings).outbound_target]
        signal = target.signal_name(path.name)
        return None if signal is None else path.parent / signal

    def _file_delivered(self, ctx: JobContext, path: Path) -> None:
        conf = pbs_settings(ctx.settings)
        folder = ctx.settings.path(conf.delivered_dir) / f"DELIVERED_{ctx.today:%Y%m%d}"
        fsops.move_no_clobber(path, folder, path.name)
        sig = self._signal(ctx, path)
        if sig is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(sig)
        with ctx.unit() as uow:
            for d in uow.session.scalars(select(PbsDelivery).where(
                    or_(PbsDelivery.xml_name == path.name, PbsDelivery.zip_name == path.name))):
                d.sent_at = ctx.now
                if d.state == DeliveryState.PACKAGED:
                    d.state = DeliveryState.SENT

    def _file_failed(self, ctx: JobContext, path: Path, exc: TransferError) -> None:
        conf = pbs_settings(ctx.settings)
        folder = ctx.settings.path(conf.upload_error_dir)
        fsops.ensure_dir(folder)
        dest = fsops.move_no_clobber(path, folder, path.name)
        fsops.write_json_atomic(Path(f"{dest}.error.json"), {**exc.to_dict(), "file": path.name,
                                                               "time": ctx.now.isoformat()})
        sig = self._signal(ctx, path)
        if sig is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(sig)
