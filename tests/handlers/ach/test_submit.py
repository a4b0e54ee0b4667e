"""handlers/ach/submit.py: ach.check-submit against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from daemon.scheduler import Scheduler
from formats.nacha import parse, validate
from store.models.ach import (
    CheckPaymentHistory,
    CheckStatus,
    HoldState,
    PaymentCounter,
    PaymentLog,
    SuspendedBatch,
)
from store.models.core import Notification, OutboundItem
from tests.ach.conftest import Env, make_env, noon
from tests.ach.support import ach_config, default_jobs, import_doc
from tests.support import write_config

TODAY = dt.date(2026, 6, 18)  # a Thursday; tomorrow is Juneteenth
EFFECTIVE = dt.date(2026, 6, 22)


def _ids(env: Env) -> dict[tuple[str, int], int]:
    return {(p.payer_id, p.amount): p.payment_id for p in env.payments().values()}


def _report(env: Env, log_id: int) -> dict[str, list[str | None]]:
    out: dict[str, list[str | None]] = {}
    for name, value in env.all(select(PaymentLog.param_name, PaymentLog.param_value)
                               .where(PaymentLog.log_id == log_id).order_by(PaymentLog.batch_index)):
        out.setdefault(name, []).append(value)
    return out


@pytest.mark.parametrize("chunk", [10_000, 1], ids=["one-chunk", "entry-by-entry"])
def test_submit_enroll_then_check_submit(env: Env, chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Entry by entry, each payment's row is written (behind, on PostgreSQL) while the writer formats
    the next entries: the rows must still carry the trace numbers the file gave them."""
    monkeypatch.setattr("handlers.ach.submit.SUBMIT_CHUNK", chunk)
    env.import_(import_doc(TODAY))
    enroll = env.run("enroll", TODAY)
    assert enroll.outcome == "success" and enroll.counts["prenotes"] == 2
    run = env.run("nightly", TODAY)
    assert run.outcome == "success", run.message
    assert run.counts == {"submitted": 3, "cancelled": 1, "failed": 0, "zero_processed": 1, "suspended_batches": 0,
                          "pending_skipped": 2, "files": 1}
    files = env.out_files()
    assert len(files) == 2
    for f in files:
        assert Path(f"{f}.done").exists()
        report = validate(io.BytesIO(f.read_bytes()))
        assert report.ok, report.errors
        assert f.name.startswith("ppd_") and len(f.name) == len("ppd_yyyyMMddHHmmssSSS.ach")
    prenote_file, pay_file = (parse(f.read_bytes()) for f in files)
    assert [e.detail.transaction_code for _, e in prenote_file.entries()] == [28, 28]
    assert {b.header.company_name.strip() for b in prenote_file.batches} == {"UTILITY CO", "WATER CO"}
    (batch,) = pay_file.batches
    assert batch.header.effective_entry_date == EFFECTIVE.strftime("%y%m%d")
    assert batch.header.service_class_code == 225
    assert [e.detail.transaction_code for e in batch.entries] == [27, 37, 27]

    ids = _ids(env)
    pays = env.payments()
    alice, bob, frank = pays[ids["alice", 12345]], pays[ids["bob", 5000]], pays[ids["frank", 777]]
    for p, code in ((alice, "27"), (bob, "37"), (frank, "27")):
        assert p.status == CheckStatus.PROCESSED and p.action_code == code and p.reminded == "N"
        assert p.txn_start_date == EFFECTIVE and p.log_id is not None
    assert [alice.txn_number, bob.txn_number, frank.txn_number] == [e.detail.trace_number for e in batch.entries]
    assert alice.txn_number == "091000010000003"  # after the two prenotes: one sequence per ODFI
    zero = pays[ids["alice", 0]]
    assert zero.status == CheckStatus.PROCESSED and zero.txn_number is None
    assert pays[ids["erin", 4200]].status == CheckStatus.CANCELLED
    assert pays[ids["erin", 4200]].txn_err_msg == "payment account cancelled"
    assert pays[ids["carol", 999]].status == CheckStatus.SCHEDULED  # account pending
    assert pays[ids["alice", 100]].status == CheckStatus.SCHEDULED  # not due yet
    assert env.scalar(select(PaymentCounter.counter_value).where(
        PaymentCounter.counter_name == "trace:09100001")) == 5
    items = env.all(select(OutboundItem.kind, OutboundItem.ref, OutboundItem.amount)
                    .where(OutboundItem.kind == "payment"))
    assert sorted(items) == sorted(("payment", str(p.payment_id), p.amount) for p in (alice, bob, frank))

    rep = _report(env, alice.log_id or 0)
    assert rep["report_type"] == ["summary"] and rep["payee"] == ["UTILCO"]
    assert rep["total_debit_amount"] == ["18122"] and rep["submitted"] == ["3"] and rep["zero_processed"] == ["1"]
    assert rep["file"] == [files[1].name]
    hist = env.all(select(CheckPaymentHistory.audit_operation, CheckPaymentHistory.status,
                          CheckPaymentHistory.job_name, CheckPaymentHistory.job_id)
                   .where(CheckPaymentHistory.payment_id == alice.payment_id)
                   .order_by(CheckPaymentHistory.history_id))
    assert hist == [(1001, 6, "test-import", 0), (1002, 7, "nightly-ChkSubTsk", run.run_id)]
    prenotes = [p for p in pays.values() if p.status == CheckStatus.PRENOTE_PROCESSED]
    assert sorted(str(p.pid) for p in prenotes) == ["A3", "A4"]
    assert all(p.amount == 0 and p.action_code == "28" for p in prenotes)
    accts = env.accounts()
    assert accts["A3"].account_status == "pnd_wait" and accts["A3"].txn_date is not None


def test_risk_limit_suspends_then_release(tmp_path: Path, db_url: str) -> None:
    env = make_env(tmp_path, db_url)
    try:
        doc = import_doc(TODAY)
        doc["payees"][0]["settings"]["risk_limits"] = [{"max_batch_debit": 10000, "effective_from": "2026-01-01"}]
        doc["payees"][0]["settings"]["recipients"] = ["ops@example.com"]
        env.import_(doc)
        run = env.run("nightly", TODAY)
        assert run.counts["suspended_batches"] == 1 and run.counts["submitted"] == 0
        (note,) = env.all(select(Notification.kind, Notification.recipients, Notification.body))
        assert note.kind == "ach-suspended" and note.recipients == ["ops@example.com"]
        assert "spoolgate release" in note.body
        assert env.out_files() == []
        (batch,) = env.all(select(SuspendedBatch.id, SuspendedBatch.state, SuspendedBatch.debit_total,
                                  SuspendedBatch.reason))
        assert batch.state == HoldState.SUSPENDED and batch.debit_total == 18122
        assert "exceeds limit 10000" in batch.reason
        held = [p for p in env.payments().values() if p.hold_id == batch.id]
        assert len(held) == 3 and all(p.status == CheckStatus.SCHEDULED for p in held)
        assert env.run("nightly", TODAY).counts.get("submitted", 0) == 0  # still held

        from daemon.cli import main

        cfg = write_config(tmp_path / "cfg.toml", ach_config(tmp_path, db_url))
        assert main(["--config", str(cfg), "release", str(batch.id), "--by", "ops"]) == 0
        assert main(["--config", str(cfg), "release", str(batch.id)]) == 1  # not suspended any more
        assert main(["--config", str(cfg), "release", "999"]) == 1
        run = env.run("nightly", TODAY)
        assert run.counts["submitted"] == 3, run
        assert env.scalar(select(SuspendedBatch.state)) == HoldState.SUBMITTED
        assert len(env.out_files()) == 1
    finally:
        env.db.dispose()


def test_empty_file_and_limit_window(tmp_path: Path, db_url: str) -> None:
    jobs = default_jobs()
    jobs["nightly"]["options"]["generate_empty_file"] = True
    env = make_env(tmp_path, db_url, jobs=jobs)
    try:
        doc = import_doc(TODAY + dt.timedelta(days=10))
        doc["payees"][0]["settings"]["risk_limits"] = [{"max_entry": 1, "effective_to": "2026-01-01"}]
        env.import_(doc)
        run = env.run("nightly", TODAY)
        assert run.counts["files"] == 1 and run.counts.get("submitted", 0) == 0
        (f,) = env.out_files()
        assert validate(io.BytesIO(f.read_bytes())).ok
        assert parse(f.read_bytes()).batches == ()
        run = env.run("nightly", TODAY + dt.timedelta(days=10))  # the expired limit does not hold them
        assert run.counts["submitted"] == 3 and run.counts.get("suspended_batches", 0) == 0
    finally:
        env.db.dispose()


def test_checkfree_payee_without_writer_fails_clearly(tmp_path: Path, db_url: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = default_jobs()
    jobs["nightly"]["options"]["extra_payees"] = ["WATERCO", "CFPAY"]
    env = make_env(tmp_path, db_url, jobs=jobs)
    try:
        doc = import_doc(TODAY)
        doc["payees"].append({"name": "CFPAY", "gateway": "checkfree", "settings": {}})
        doc["payments"].append({"payee": "CFPAY", "external_id": "Z1", "payer_id": "zed", "pay_date": str(TODAY),
                                "amount": 4321,
                                "routing_transit": "011000015", "check_account_number": "77", "account_name": "Z",
                                "account_type": "checking"})
        env.import_(doc)
        monkeypatch.setitem(sys.modules, "handlers.checkfree.debit", None)  # the module is not deployed
        run = env.run("nightly", TODAY)
        assert run.outcome == "failure"
        assert "payee CFPAY" in run.message and "CheckFree debit writer unavailable" in run.message
        pays = {(p.payer_id, p.amount): p for p in env.payments().values()}
        assert pays["zed", 4321].status == CheckStatus.SCHEDULED
        assert pays["alice", 12345].status == CheckStatus.PROCESSED  # the ACH payees went out
        assert len(env.out_files()) == 1
    finally:
        env.db.dispose()


def test_config_validation_names_the_problems(tmp_path: Path) -> None:
    from daemon.validate import validate
    from store.config import Settings

    bad_section = ach_config(tmp_path, "sqlite:///x.db", ach={"returns_policy": "nope"})
    assert any(p.startswith("ach.returns_policy") and "nope" in p
               for p in validate(Settings(**bad_section), check_filesystem=False))
    jobs = default_jobs()
    jobs["nightly"]["options"] = {"extra_payees": 5, "days_before": -1, "cancel_if_account_invalid": "Y"}
    cfg = ach_config(tmp_path, "sqlite:///x.db", jobs=jobs)
    cfg["channels"]["ach"]["routes"][0]["options"] = {"partner": "bank9", "colour": 1}
    problems = "\n".join(validate(Settings(**cfg), check_filesystem=False))
    for expected in ("jobs.nightly.options: option 'payee' is required",
                     "extra_payees must be a list", "days_before must be a whole number",
                     "cancel_if_account_invalid must be true or false", "unknown option 'colour'",
                     "partner 'bank9' has no entry"):
        assert expected in problems, (expected, problems)


def test_check_submit_dry_run_leaves_nothing_behind(env: Env) -> None:
    from sqlalchemy import inspect, text

    env.import_(import_doc(TODAY))
    assert env.run("enroll", TODAY).outcome == "success"

    def snapshot() -> tuple[dict[str, list[str]], list[str]]:
        with env.db.engine.connect() as conn:
            rows = {t: sorted(map(str, conn.execute(text(f'SELECT * FROM "{t}"')).all()))
                    for t in inspect(conn).get_table_names()}
        return rows, sorted(str(p.relative_to(env.spool)) for p in env.spool.rglob("*") if p.is_file())

    before = snapshot()
    dry = Scheduler(env.settings, env.db, identity="test", clock=lambda: noon(TODAY)).run("nightly", dry_run=True)
    assert dry.outcome == "success" and dry.counts["submitted"] == 3 and dry.run_id == 0
    assert snapshot() == before
    assert env.run("nightly", TODAY).counts["submitted"] == 3  # the real run still has everything to do
