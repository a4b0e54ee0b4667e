"""End to end through the real daemon: import → prenotes and check-submit → return files dropped in the
inbox → statuses, accounts, history, reports, ack and signal, processed/ and error/."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from daemon.cli import main
from formats.nacha import validate
from store.models.ach import CheckStatus
from store.models.core import OutboundFile, SpoolFile
from tests.ach.builders import Original, Ret, build
from tests.ach.conftest import Env
from tests.ach.support import R2, ach_config, default_jobs, import_doc
from tests.support import DaemonProcess, wait_for, write_config

TODAY = dt.date(2026, 6, 18)


def test_daemon_end_to_end(tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from store.config import Settings
    from store.db import Database

    jobs = default_jobs()
    for j in jobs.values():
        j["enabled"] = False  # run by hand at a fixed date below, never by the daemon's clock
    data = ach_config(tmp_path, db_url, jobs=jobs)
    cfg = write_config(tmp_path / "spoolgate.toml", data)
    env = Env(tmp_path, db_url, Settings(**data), Database(db_url))
    try:
        doc = tmp_path / "import.json"
        bad = import_doc(TODAY)
        bad["payments"][0]["amount"] = "123.45"
        doc.write_text(json.dumps(bad))
        assert main(["--config", str(cfg), "import", str(doc)]) == 1
        assert "payments[0].amount" in capsys.readouterr().err
        doc.write_text(json.dumps(import_doc(TODAY)))
        assert main(["--config", str(cfg), "import", str(doc)]) == 0
        assert env.run("enroll", TODAY).outcome == "success"
        assert env.run("nightly", TODAY).counts["submitted"] == 3
        files = env.out_files()
        for f in files:
            assert validate(io.BytesIO(f.read_bytes())).ok
        o = Original(*(f.read_bytes() for f in files))
        alice = o.trace_of("100001", prenote=False)
        good = build(o, [Ret(alice, "R01"), Ret(o.trace_of("300003", prenote=True), "R03"),
                         Ret(o.trace_of("400004", prenote=True), "C02", R2), Ret("091000019999999", "R02")],
                     swap=True)
        bad_file = build(o, [Ret(o.trace_of("200002", prenote=False), "R01")],
                         unknown_company=("NOBODY INC", "9999999999"))

        d = DaemonProcess(cfg)
        try:
            d.wait_ready()
            inbox = env.settings.channels["ach"].inbox
            zipped = gzip.compress(good)  # the same returns, compressed: never "longer than 94"
            for name, content in (("ret_good.ach", good), ("ret_bad.ach", bad_file), ("ret_zip.ach", zipped)):
                tmp = inbox / f"{name}.part"
                tmp.write_bytes(content)
                tmp.rename(inbox / name)
            processed = env.spool / "ach/processed/ret_good.ach"
            errored = env.spool / "ach/error/ret_bad.ach"
            compressed = env.spool / "ach/error/ret_zip.ach"
            wait_for(lambda: processed.exists() and errored.exists() and compressed.exists(), 30,
                     what="all three files filed")
            wait_for(lambda: list((env.spool / "acks/out").glob("*.done")), 10, what="ack signal")
        finally:
            assert d.terminate() == 0, d.log()
        assert processed.read_bytes() == good
        report = json.loads(Path(f"{errored}.error.json").read_text())
        assert "matches no payee" in report["reason"]
        zreport = json.loads(Path(f"{compressed}.error.json").read_text())
        assert zreport["reason"].startswith("gzip-compressed: decompress first"), zreport["reason"]
        assert compressed.read_bytes() == zipped
        assert list((env.spool / "ach/in").iterdir()) == [] and list((env.spool / "ach/work").iterdir()) == []

        pays = {(p.payer_id, p.amount, p.status): p for p in env.payments().values()}
        assert ("alice", 12345, CheckStatus.RETURNED) in pays
        assert ("bob", 5000, CheckStatus.PROCESSED) in pays  # only in the rejected file
        assert ("carol", 0, CheckStatus.PRENOTE_RETURNED) in pays
        accts = env.accounts()
        assert accts["A3"].account_status == "bad_active" and accts["A3"].txn_message == "R03"
        assert accts["A4"].routing_transit == R2 and str(accts["A4"].txn_message).startswith("C02::")
        (ack,) = (env.spool / "acks/out").glob("ack_*.xml")
        assert b"<Status>ACCEPTED</Status>" in ack.read_bytes()
        outs = env.all(select(OutboundFile.name, OutboundFile.state, OutboundFile.signal_name))
        assert len(outs) == 3 and all(state == "delivered" for _n, state, _s in outs)
        assert all((env.spool / ("acks/out" if n.startswith("ack_") else "ach/out") / str(s)).exists()
                   for n, _st, s in outs)
        ledger = dict(env.all(select(SpoolFile.original_name, SpoolFile.state)))
        assert ledger == {"ret_good.ach": "done", "ret_bad.ach": "error", "ret_zip.ach": "error"}

        day = dt.datetime.now().astimezone().date().isoformat()
        capsys.readouterr()
        assert main(["--config", str(cfg), "report", "daily", "--date", str(TODAY), "--payee", "UTILCO",
                     "--json"]) == 0
        daily = json.loads(capsys.readouterr().out)
        (summary,) = [r for r in daily["reports"] if r["report_type"] == "summary" and r.get("submitted") == "3"]
        assert summary["total_debit_amount"] == "18122"
        assert main(["--config", str(cfg), "report", "daily", "--date", day, "--json"]) == 0
        exc = [r for r in json.loads(capsys.readouterr().out)["reports"] if r["report_type"] == "exception"]
        assert len(exc) == 1 and exc[0]["file"] == "ret_good.ach" and exc[0]["returns"] == "1"
        assert any("no payment with this trace number" in e for e in exc[0]["exception"])
        assert main(["--config", str(cfg), "report", "daily", "--date", day]) == 0
        assert "Status of checks changed that day" in capsys.readouterr().out

        pid = pays["alice", 12345, CheckStatus.RETURNED].payment_id
        assert main(["--config", str(cfg), "audit", "--payment-id", str(pid), "--from", "2026-01-01",
                     "--to", "2030-12-31", "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)["check_payments_history"]
        assert [(r["audit_operation"], r["status"], r["job_name"]) for r in rows] == [
            (1001, 6, "cli-import"), (1002, 7, "nightly-ChkSubTsk"), (1002, -4, "ach-ach.returns")]
        assert all(r["check_account_number"].endswith("0001") and "100001" not in r["check_account_number"]
                   for r in rows)
        assert main(["--config", str(cfg), "audit", "--pid", "A3", "--from", "2026-01-01", "--to", "2030-12-31",
                     "--json"]) == 0
        by_pid = json.loads(capsys.readouterr().out)
        assert [r["account_status"] for r in by_pid["payment_accounts_history"]] == [
            "pnd_active", "pnd_wait", "bad_active"]
        assert {r["status"] for r in by_pid["check_payments_history"]} == {6, 17, -14}
        assert main(["--config", str(cfg), "audit", "--account", "ACCT-ALICE", "--from", "2026-01-01",
                     "--to", "2030-12-31"]) == 0
        assert "check_payments_history: 3 row(s)" in capsys.readouterr().out
    finally:
        env.db.dispose()
