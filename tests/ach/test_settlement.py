"""Settlement positions for a day of files reconcile, to the cent, with the ledger's own figures."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from daemon import settlement
from daemon.pipeline import Pipeline
from formats.pbs.writer import automatic_payment, build_0602
from store.config import Settings
from store.db import utcnow
from store.models.core import OutboundFile, OutboundItem, SpoolFile
from tests.ach.builders import Original
from tests.ach.conftest import Env, make_env
from tests.ach.support import R1, R2, import_doc
from tests.ach.test_returns import TODAY, full_return_file
from tests.support import REPO, write_config

PBS_A, PBS_B = "01234567", "07654321"
#: WATERCO's bank takes files until midnight only: everything it gets today is held over
SETTLEMENT = {"timezone": "UTC", "cutoff": "23:59", "payee_cutoffs": {"WATERCO": "00:00"}}
PBS = {"agreement_number": "000012345", "data_supplier_cvr": "12345678", "system_code": "BS2",
       "alert_recipients": ["ops@example.test"]}


def _env(tmp_path: Path, db_url: str) -> Env:
    env = make_env(tmp_path, db_url, settlement=SETTLEMENT, pbs=PBS,
                   ach={"payees": {"WATERCO": {"noc_auto_update": False}}})
    cfg = env.settings.model_dump(mode="json")
    cfg["channels"]["pbs"] = {
        "inbox": "pbs/in", "work": "pbs/work", "processed": "pbs/processed", "error": "pbs/error", "quiet_ms": 200,
        "routes": [{"pattern": "*", "handler": "pbs.inbound", "options": {"policy": "strict"}}]}
    env.settings = Settings(**cfg)
    return env


def _a_day_of_files(env: Env) -> None:
    doc = import_doc(TODAY)
    doc["payments"] += [
        {"external_id": "S1", "payee": "WATERCO", "payer_id": "gina", "pay_date": str(TODAY), "amount": 4321,
         "routing_transit": R1,
         "check_account_number": "700007", "account_name": "GINA G", "account_type": "checking"},
        {"external_id": "S2", "payee": "WATERCO", "payer_id": "hank", "pay_date": str(TODAY), "amount": 1999,
         "routing_transit": R2,
         "check_account_number": "800008", "account_name": "HANK H", "account_type": "checking"}]
    env.import_(doc)
    assert env.run("enroll", TODAY).outcome == "success"
    assert env.run("nightly", TODAY).outcome == "success"
    o = Original(*(f.read_bytes() for f in env.out_files()))
    data, _ = full_return_file(o)
    assert env.drop("returns_0618.ach", data).state == "done"
    pipe = Pipeline(env.settings, env.db)
    inbox = env.settings.channels["pbs"].inbox
    inbox.mkdir(parents=True, exist_ok=True)
    files: list[tuple[str, str, str, list[tuple[str, str, int, str]]]] = [
        ("a.bs1", PBS_A, "0000000001", [("7001", "INV-1", 12345, "0236"), ("7002", "INV-2", 1, "0236")]),
        ("b.bs1", PBS_B, "0000000002", [("7003", "INV-3", 99999, "0236"), ("7004", "INV-4", 250, "0239")])]
    for name, creditor, number, pays in files:
        payments = [automatic_payment(c, ref, amt, pbs_number=creditor, code=code) for c, ref, amt, code in pays]
        (inbox / name).write_bytes(build_0602(payments, pbs_number=creditor, delivery_number=number))
        fid = pipe.claim("pbs", inbox / name)
        assert fid is not None and pipe.process(fid).state == "done"


def test_a_day_of_files_reconciles_with_the_ledger(tmp_path: Path, db_url: str) -> None:
    env = _env(tmp_path, db_url)
    try:
        _a_day_of_files(env)
        day = utcnow().date()
        with env.db.transaction() as s:
            ps = {(p.channel, p.party): p for p in settlement.positions(s, day, env.settings)}
            ach_files = list(s.scalars(select(OutboundFile).where(OutboundFile.id.in_(
                select(OutboundItem.outbound_id).where(OutboundItem.kind == "payment")))))
            ledger = {f.original_name: (f.counts or {}, f.totals or {}, f.id) for f in s.scalars(select(SpoolFile))}
    finally:
        env.db.dispose()
    assert set(ps) == {("ach", "UTILCO"), ("ach", "WATERCO"), ("pbs", PBS_A), ("pbs", PBS_B)}
    util, water = ps["ach", "UTILCO"], ps["ach", "WATERCO"]
    assert util.odfi == water.odfi == "09100001"

    # outbound: sent + ready + held over is exactly what the files we wrote say they carry
    (out,) = ach_files
    assert out.summary is not None
    carried = [(p.sent.count + p.ready.count + p.held_over.count, p.sent.debit + p.ready.debit + p.held_over.debit,
                p.sent.credit + p.ready.credit + p.held_over.credit) for p in (util, water)]
    assert (sum(c[0] for c in carried), sum(c[1] for c in carried), sum(c[2] for c in carried)) == \
        (out.summary["entries"], out.summary["debit"], out.summary["credit"])
    assert (util.sent.count, util.sent.debit, util.held_over.count) == (3, 12345 + 5000 + 777, 0)
    assert (water.held_over.count, water.held_over.debit, water.sent.count) == (2, 4321 + 1999, 0)
    assert util.ready.count == water.ready.count == 0  # delivered at once

    # returns and NOCs: what the return file's ledger row counted
    counts, totals, _ = ledger["returns_0618.ach"]
    assert util.returns.count + water.returns.count == counts["returns"] == 3
    assert util.returns.debit + water.returns.debit == totals["returned_amount"] == 18122
    assert util.nocs + water.nocs == counts["nocs"] == 6
    assert util.prenote_returns + water.prenote_returns == counts["prenote_returns"] == 1
    assert util.net == 18122 - 18122 and water.net == 0  # held over does not settle today

    # PBS: received per creditor, each file's own total and line count
    for name, creditor in (("a.bs1", PBS_A), ("b.bs1", PBS_B)):
        p = ps["pbs", creditor]
        counts, totals, file_id = ledger[name]
        assert p.received.count == counts["ocr_lines"]
        assert p.received.credit - p.received.debit == totals["received"] == p.net
        assert p.inbound_files == [file_id]
    assert ps["pbs", PBS_A].net == 12346 and ps["pbs", PBS_B].net == 99999 - 250


def test_report_settlement_cli_text_json_csv(tmp_path: Path, db_url: str) -> None:
    env = _env(tmp_path, db_url)
    try:
        _a_day_of_files(env)
    finally:
        env.db.dispose()
    path = write_config(tmp_path / "spoolgate.toml", env.settings.model_dump(mode="json", exclude_none=True))
    day = utcnow().date().isoformat()

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "daemon", "--config", str(path), "report", "settlement",
                               "--date", day, *args], cwd=REPO, capture_output=True, text=True, timeout=60)

    as_json = cli("--json")
    assert as_json.returncode == 0, as_json.stderr
    doc = json.loads(as_json.stdout)
    assert doc["date"] == day and len(doc["positions"]) == 4
    water = next(p for p in doc["positions"] if p["party"] == "WATERCO")
    assert water["held_over"] == {"count": 2, "debit": 6320, "credit": 0} and water["net"] == 0
    rows = list(csv.DictReader(io.StringIO(cli("--csv").stdout)))
    assert [r["party"] for r in rows] == ["UTILCO", "WATERCO", PBS_A, PBS_B]
    assert rows[0]["sent_debit"] == "18122" and rows[0]["returns_amount"] == "18122" and rows[3]["net"] == "99749"
    text = cli()
    assert text.returncode == 0 and "ACH UTILCO ODFI 09100001" in text.stdout and "181.22" in text.stdout
    assert "997.49" in text.stdout
    empty = subprocess.run([sys.executable, "-m", "daemon", "--config", str(path), "report", "settlement",
                            "--date", "2001-01-01"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert empty.returncode == 0 and "no activity" in empty.stdout
    bad = subprocess.run([sys.executable, "-m", "daemon", "--config", str(path), "report", "settlement",
                          "--date", "yesterday"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr




def test_committed_but_undelivered_file_is_ready_not_sent(tmp_path: Path, db_url: str) -> None:
    """The window between the commit and the rename into place (or a crash in it): ready to be sent."""
    from store.models.ach import CheckPayment, PaymentPayee
    from store.unit import UnitOfWork

    env = _env(tmp_path, db_url)
    try:
        env.import_(import_doc(TODAY))
        with env.db.transaction() as s:
            pays = [(p.payment_id, p.amount) for p in s.scalars(
                select(CheckPayment).join(PaymentPayee, PaymentPayee.payee_id == CheckPayment.payee_id)
                .where(PaymentPayee.name == "UTILCO", CheckPayment.amount > 0).order_by(CheckPayment.payment_id))]
        uow = UnitOfWork(env.db, env.settings, source="test")
        try:
            with uow.outbound("ach_out", "ppd_ready.ach") as out:
                out.write(b"staged\n")
                for pid, amount in pays[:2]:
                    out.item("payment", pid, amount)
            uow.commit()  # committed; deliver() has not run
        except BaseException:
            uow.rollback()
            raise
        with env.db.transaction() as s:
            (util,) = settlement.positions(s, utcnow().date(), env.settings)
        assert (util.ready.count, util.ready.debit, util.sent.count, util.net) == \
            (2, pays[0][1] + pays[1][1], 0, 0)
        uow.deliver()
        with env.db.transaction() as s:
            (util,) = settlement.positions(s, utcnow().date(), env.settings)
        assert (util.sent.count, util.sent.debit, util.ready.count) == (2, pays[0][1] + pays[1][1], 0)
        assert util.net == util.sent.debit
    finally:
        env.db.dispose()
