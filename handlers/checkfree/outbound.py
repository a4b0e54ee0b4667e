"""The outbound CheckFree flow: ``out/bd`` → ``out/history`` → encrypt → ``out/ftp`` → upload → removed.

Each file's stage lives in ``checkfree_transfers``. A step first makes its
filesystem change durable (fsynced, by atomic rename or link), then commits the
new stage; every step checks what the previous run may already have done, so a
kill -9 between any two steps neither loses nor repeats anything:

- the history copy is linked in only complete and accepted if it already holds
  the same bytes;
- the encrypted file appears in ``out/ftp`` only complete (gpg output is renamed
  on success), so one found there is the one to send;
- ``uploading`` is committed before the upload starts; a run that finds a file
  still ``uploading`` first asks the server whether the complete file is already
  there and does not send it again if so;
- ``out/ftp`` is cleared only after ``uploaded`` is committed.

An upload that fails after the endpoint's retries moves the encrypted file to
``out/error`` with ``NAME.error.json``; moving it back to ``out/ftp`` retries it.

So a pass commits in many steps on purpose, each its own unit of work of the
job (``_step``), never one transaction around a filesystem change.
"""

from __future__ import annotations

import contextlib
import logging
import os
import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from formats.checkfree import BadFileName, parse_name
from handlers.checkfree import settings as cfs
from spool import atomic, fsops
from spool.crashpoints import crashpoint
from store.db import utcnow
from store.models.checkfree import CheckfreeTransfer, TransferState

if TYPE_CHECKING:
    from spool.sftp import SftpStage
    from store.config import Settings
    from store.unit import UnitOfWork, UnitSession

log = logging.getLogger("spoolgate.checkfree.outbound")

PGP_SUFFIX = ".pgp"
_CHUNK = 1 << 20


class StageConflict(Exception):
    """A folder holds a different file under a transfer's name; an operator must look."""


@dataclass
class FlowReport:
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


@dataclass(frozen=True)
class _Row:
    id: int
    name: str
    state: str
    plain_sha256: str | None
    encrypted_size: int | None

    @classmethod
    def of(cls, r: CheckfreeTransfer) -> _Row:
        return cls(r.id, r.name, r.state, r.plain_sha256, r.encrypted_size)


def _sha(path: Path) -> tuple[str, int]:
    return fsops.sha256_file(path)


def copy_no_clobber(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` complete or not at all; an identical ``dst`` is success."""
    fsops.ensure_dir(dst.parent)
    with open(src, "rb") as fi, atomic.AtomicFile(dst, mode=0o640) as out:
        while chunk := fi.read(_CHUNK):
            out.write(chunk)
        try:
            out.publish()
        except FileExistsError:
            if _sha(dst)[0] != out.sha256:
                raise StageConflict(f"{dst} exists with other content") from None


def _unlink(path: Path) -> bool:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    fsops.fsync_dir(path.parent)
    return True


class OutboundFlow:
    """One pass over every unfinished transfer; safe to run again at any point."""

    def __init__(self, settings: Settings, units: Callable[[], UnitOfWork], *,
                 stage: SftpStage | None = None) -> None:
        self.settings = settings
        self.units = units
        self.cf = cfs.checkfree(settings)
        self.bd = cfs.folder(settings, "out_bd")
        self.history = cfs.folder(settings, "out_history")
        self.ftp = cfs.folder(settings, "out_ftp")
        self.error = cfs.folder(settings, "out_error")
        self._stage = stage

    @property
    def stage(self) -> SftpStage:
        if self._stage is None:
            from spool.sftp import SftpStage

            self._stage = SftpStage(cfs.endpoint(self.settings))
        return self._stage

    # -- bookkeeping -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _step(self) -> Iterator[UnitSession]:
        """One committed step: a unit of work of the job."""
        with self.units() as work:
            yield work.session

    def _set(self, row: _Row, state: TransferState, **values: Any) -> _Row:
        with self._step() as s:
            res = s.execute(update(CheckfreeTransfer)
                            .where(CheckfreeTransfer.id == row.id, CheckfreeTransfer.state == row.state)
                            .values(state=state, updated_at=utcnow(), **values))
            if not res.rowcount:  # type: ignore[attr-defined]
                raise RuntimeError(f"transfer {row.name}: state changed under us (expected {row.state})")
        log.info("checkfree transfer %s: %s -> %s", row.name, row.state, state)
        return _Row(row.id, row.name, str(state), values.get("plain_sha256", row.plain_sha256),
                    values.get("encrypted_size", row.encrypted_size))

    def adopt(self, report: FlowReport) -> None:
        """Rows for debit files in out/bd written without one; retries moved back into out/ftp."""
        with self._step() as s:
            known = {r.name: r.state for r in s.execute(select(CheckfreeTransfer.name, CheckfreeTransfer.state))}
        for entry in fsops.scan(self.bd) if self.bd.exists() else ():
            name = entry.name
            if name.startswith(".") or entry.kind != "file" or name in known:
                continue
            try:
                cdp = parse_name(name)
            except BadFileName:
                continue
            if cdp.file_type != "debit":
                continue
            sha, size = _sha(entry.path)
            payee = self.cf.payee_by_ftp_user(cdp.ftp_user)
            with self._step() as s:
                s.add(CheckfreeTransfer(name=name, payee=payee[0] if payee else None, state=TransferState.NEW,
                                        plain_sha256=sha, plain_size=size, source="adopted"))
            report.add("adopted")
        for entry in fsops.scan(self.ftp) if self.ftp.exists() else ():
            name = entry.name
            if not name.endswith(PGP_SUFFIX) or name.startswith("."):
                continue
            base = name[: -len(PGP_SUFFIX)]
            if known.get(base) == TransferState.ERROR:
                with self._step() as s:
                    s.execute(update(CheckfreeTransfer).where(CheckfreeTransfer.name == base)
                              .values(state=TransferState.ENCRYPTED, error=None, updated_at=utcnow()))
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.error / f"{name}.error.json")
                report.add("retried")

    def run(self) -> FlowReport:
        report = FlowReport()
        for d in (self.bd, self.history, self.ftp, self.error):
            fsops.ensure_dir(d)
        self.adopt(report)
        with self._step() as s:
            rows = [_Row.of(r) for r in s.scalars(
                select(CheckfreeTransfer)
                .where(CheckfreeTransfer.state.not_in([TransferState.DONE, TransferState.ERROR]))
                .order_by(CheckfreeTransfer.id))]
        try:
            for row in rows:
                try:
                    self.advance(row, report)
                except Exception as exc:
                    from spool.pgp import PgpError

                    detail = exc.to_dict() if isinstance(exc, PgpError) else {"reason": str(exc),
                                                                               "exception": type(exc).__name__}
                    log.error("checkfree transfer %s: %s", row.name, exc)
                    with self._step() as s:
                        s.execute(update(CheckfreeTransfer).where(CheckfreeTransfer.id == row.id)
                                  .values(error=detail, updated_at=utcnow()))
                    report.add("failed")
                    report.problems.append(f"{row.name}: {exc}")
        finally:
            self._stage = None
        return report

    # -- the steps ---------------------------------------------------------------------------------

    def advance(self, row: _Row, report: FlowReport) -> None:
        name = row.name
        bd, hist = self.bd / name, self.history / name
        enc = self.ftp / f"{name}{PGP_SUFFIX}"
        if row.state == TransferState.NEW:
            if not bd.exists():
                raise StageConflict(f"{bd} is missing (never encrypted)")
            sha, size = _sha(bd)
            if row.plain_sha256 is not None and sha != row.plain_sha256:
                raise StageConflict(f"{bd} changed since it was written (sha256 {sha}, recorded "
                                    f"{row.plain_sha256})")
            copy_no_clobber(bd, hist)
            crashpoint("checkfree_after_history")
            row = self._set(row, TransferState.ARCHIVED, plain_sha256=sha, plain_size=size)
            report.add("archived")
        if row.state == TransferState.ARCHIVED:
            if not enc.exists():
                self._encrypt(bd, enc)
            crashpoint("checkfree_after_encrypt")
            esha, esize = _sha(enc)
            row = self._set(row, TransferState.ENCRYPTED, encrypted_sha256=esha, encrypted_size=esize)
            report.add("encrypted")
        if row.state == TransferState.ENCRYPTED:
            for p in (bd, bd.with_name(f"{name}.done")):
                _unlink(p)
            crashpoint("checkfree_after_bd_removed")
            if not enc.exists():
                raise StageConflict(f"{enc} is missing before its upload")
            with self._step() as s:
                s.execute(update(CheckfreeTransfer).where(CheckfreeTransfer.id == row.id)
                          .values(upload_attempts=CheckfreeTransfer.upload_attempts + 1))
            row = self._set(row, TransferState.UPLOADING)
            self._upload(row, enc, report, resumed=False)
            return
        if row.state == TransferState.UPLOADING:
            self._upload(row, enc, report, resumed=True)
            return
        if row.state == TransferState.UPLOADED:
            self._finish(row, enc, report)

    def _encrypt(self, src: Path, dst: Path) -> None:
        pgp = cfs.pgp_settings(self.settings)
        home = cfs.pgp_home(self.settings)
        home.encrypt_file(src, dst, [pgp.recipient], sign_with=pgp.our_key if pgp.sign_outbound else None,
                          passphrase=cfs.passphrase(self.settings) if pgp.sign_outbound else None,
                          armor=pgp.armor)
        fsops.fsync_dir(dst.parent)

    def _remote_size(self, remote_name: str) -> int | None:
        """Size of the final remote file, None when absent; raises when the server cannot be asked."""
        return self.stage.remote_size(remote_name)

    def _upload(self, row: _Row, enc: Path, report: FlowReport, *, resumed: bool) -> None:
        from spool.sftp import TransferError

        remote_name = enc.name
        if not enc.exists():
            if (self.error / enc.name).exists():
                self._set(row, TransferState.ERROR)
                report.add("upload_failed")
                return
            raise StageConflict(f"{enc} is missing while uploading")
        if resumed:
            # The last run died while uploading: the complete file may be there already.
            found = self._remote_size(remote_name)
            if found is not None and found == row.encrypted_size:
                log.warning("checkfree transfer %s: found complete on the server after an interrupted run; "
                            "not sent again", row.name)
                row = self._set(row, TransferState.UPLOADED, uploaded_at=utcnow(),
                                remote_path=posixpath.join(self.stage.ep.upload_dir, remote_name))
                report.add("uploaded")
                self._finish(row, enc, report)
                return
            with self._step() as s:
                s.execute(update(CheckfreeTransfer).where(CheckfreeTransfer.id == row.id)
                          .values(upload_attempts=CheckfreeTransfer.upload_attempts + 1))
        crashpoint("checkfree_before_upload")
        try:
            result = self.stage.upload(enc, remote_name)
        except TransferError as exc:
            self._file_error(row, enc, exc.to_dict() | {"file": enc.name, "transfer": row.name})
            report.add("upload_failed")
            report.problems.append(f"{row.name}: {exc}")
            return
        crashpoint("checkfree_after_upload")
        row = self._set(row, TransferState.UPLOADED, uploaded_at=utcnow(), remote_path=result.remote_path)
        report.add("uploaded")
        crashpoint("checkfree_after_uploaded_commit")
        self._finish(row, enc, report)

    def _file_error(self, row: _Row, enc: Path, detail: dict[str, Any]) -> None:
        fsops.ensure_dir(self.error)
        fsops.write_json_atomic(self.error / f"{enc.name}.error.json", detail)
        fsops.move(enc, self.error / enc.name)
        self._set(row, TransferState.ERROR, error=detail)

    def _finish(self, row: _Row, enc: Path, report: FlowReport) -> None:
        _unlink(enc)
        crashpoint("checkfree_after_ftp_removed")
        self._set(row, TransferState.DONE)
        report.add("done")
