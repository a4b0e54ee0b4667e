"""The console under test: a spool the real daemon has worked on, seeded ACH rows, three users,
and the real ``spoolgate web`` process on a free loopback port."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO, DaemonProcess, archive_config, wait_for, write_config

PASSWORDS = {"olga": "operator-pass-1234", "vic": "viewer-pass-12345", "aud": "auditor-pass-1234"}
ROLES = {"olga": "operator", "vic": "viewer", "aud": "auditor"}
#: a full account number seeded on the payment; no page or export may show it
ACCOUNT = "987654321012"
PAYER_ACCOUNT = "55512345678"
NAME = "Jane Quincy Doe"


@dataclass
class Console:
    url: str
    root: Path
    config: Path
    db_url: str
    ids: dict[str, int]
    proc: subprocess.Popen[bytes]
    log: Path
    clients: list[Any] = field(default_factory=list)

    def client(self, **headers: str) -> Any:
        """An HTTP client closed with the fixture."""
        import httpx

        c = httpx.Client(base_url=self.url, follow_redirects=False, timeout=30, headers=headers)
        self.clients.append(c)
        return c

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "daemon", "--config", str(self.config), *args], cwd=REPO,
                              input=stdin, capture_output=True, text=True, timeout=60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(db_url: str, root: Path) -> dict[str, int]:
    """ACH rows the daemon does not make from a drop folder: a payment changed by the processed
    file and carried by an outbound file, a held batch, job runs with a failure and an overlap."""
    from sqlalchemy import select

    from store.db import Database
    from store.models.ach import CheckPayment, CheckPaymentHistory, PaymentPayee, SuspendedBatch
    from store.models.core import JobRun, OutboundFile, OutboundItem, SpoolFile

    db = Database(db_url)
    now = dt.datetime.now(dt.UTC)
    try:
        with db.transaction() as s:
            good = s.scalar(select(SpoolFile).where(SpoolFile.original_name == "returns-20261130.txt",
                                                    SpoolFile.state == "done"))
            bad = s.scalar(select(SpoolFile).where(SpoolFile.original_name == "bad-batch.txt"))
            assert good is not None and bad is not None
            payee = PaymentPayee(name="ACME-POWER", gateway="ach")
            s.add(payee)
            s.flush()
            pay = CheckPayment(payee_id=payee.payee_id, payer_id="u-1", pay_date=now.date(), status=7,
                               routing_transit="021000021", account_name=NAME, check_account_number=ACCOUNT,
                               amount=12345, payer_account_number=PAYER_ACCOUNT, txn_number="021000020000001",
                               pid="PID-1")
            s.add(pay)
            s.flush()
            cols = {c.name: getattr(pay, c.name) for c in CheckPayment.__table__.columns}
            s.add(CheckPaymentHistory(**{**cols, "status": 6}, audit_operation=1001, job_id=0, job_name="import",
                                      time_stamp=now - dt.timedelta(hours=3)))
            s.add(CheckPaymentHistory(**cols, audit_operation=1002, job_id=good.id, job_name=f"drop-{good.handler}",
                                      audit_reason="returned R01", time_stamp=now - dt.timedelta(hours=1)))
            out = OutboundFile(target="acks", folder=str(root / "spool/acks/out"), name="ACH-SUBMIT-0001.txt",
                               temp_name=".ACH-SUBMIT-0001.txt.tmp", signal_style="summary", sha256="0" * 64,
                               size=940, records=10, state="delivered", source="job:1", delivered_at=now)
            out.items.append(OutboundItem(kind="payment", ref=str(pay.payment_id), amount=12345))
            s.add(out)
            batch = SuspendedBatch(payee_id=payee.payee_id, effective_date=now.date(), entries=42,
                                   debit_total=250000000, credit_total=0,
                                   reason="debit total 2,500,000.00 over the batch debit limit 1,000,000.00",
                                   job_name="ach-check-submit-CheckSubmit")
            s.add(batch)
            for i, (start_h, secs, outcome) in enumerate([(20, 300, "success"), (14, 900, "failure"),
                                                         (8, 5400, "success"), (7, 600, "success"),
                                                         (2, 120, "noop")]):
                started = now - dt.timedelta(hours=start_h)
                s.add(JobRun(job="nightly", kind="core.noop", trigger="schedule", owner=f"host:{i}",
                             started_at=started, finished_at=started + dt.timedelta(seconds=secs), outcome=outcome,
                             message="boom: disk full" if outcome == "failure" else None))
            s.flush()
            return {"good": good.id, "bad": bad.id, "payment": pay.payment_id, "batch": batch.id}
    finally:
        db.dispose()


@pytest.fixture
def console(db_url: str, tmp_path: Path) -> Iterator[Console]:
    root = tmp_path / "site"
    cfg = archive_config(root, db_url, jobs={"nightly": {"kind": "core.noop", "every": "1 h"}})
    config = write_config(tmp_path / "spoolgate.toml", cfg)
    inbox = root / "spool/drop/in"
    inbox.mkdir(parents=True)
    (inbox / "returns-20261130.txt").write_text("ok\n")
    (inbox / "bad-batch.txt").write_text("FAIL on line 1\n")
    # The console starts beside the daemon, as in production: its start-up overlaps the daemon's run.
    port = free_port()
    log = tmp_path / "web.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "daemon", "--config", str(config), "web", "--port", str(port)],
                                cwd=REPO, stdout=fh, stderr=subprocess.STDOUT)
    try:
        daemon = DaemonProcess(config)
        try:
            daemon.wait_ready()
            wait_for(lambda: (root / "spool/drop/error/bad-batch.txt.error.json").exists()
                     and any((root / "spool/drop/processed").rglob("returns-20261130.txt")), 30,
                     what="files filed")
            wait_for(lambda: _heartbeats(db_url), 30, what="a daemon heartbeat")
        finally:
            assert daemon.terminate() == 0, daemon.log()
        ids = _seed(db_url, root)
        # directly, not through the CLI: a process start per console (``users add`` has its own test)
        _add_users(db_url, ROLES)
        wait_for(lambda: _listening(port) or proc.poll() is not None, 30, what="spoolgate web listening")
        assert proc.poll() is None, log.read_text()
        c = Console(f"http://127.0.0.1:{port}", root, config, db_url, ids, proc, log)
        yield c
        for client in c.clients:
            client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _add_users(db_url: str, roles: dict[str, str]) -> None:
    from daemon.web import auth
    from store.db import Database

    db = Database(db_url, pool=False)
    try:
        with db.transaction() as s:
            for user, role in roles.items():
                auth.add_user(s, user, PASSWORDS[user], role)
    finally:
        db.dispose()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _heartbeats(db_url: str) -> int:
    from sqlalchemy import func, select

    from store.db import Database
    from store.models.console import DaemonHeartbeat

    db = Database(db_url, pool=False)
    try:
        with db.transaction() as s:
            return int(s.scalar(select(func.count()).select_from(DaemonHeartbeat)) or 0)
    finally:
        db.dispose()


def db_rows(db_url: str, stmt: Any) -> list[Any]:
    from store.db import Database

    db = Database(db_url, pool=False)
    try:
        with db.transaction() as s:
            return list(s.execute(stmt).all())
    finally:
        db.dispose()
