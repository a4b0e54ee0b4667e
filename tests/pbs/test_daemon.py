"""The real daemon process with the PBS channel: 0602 and 0603 in, a bad file out, the alert mailed."""

from __future__ import annotations

from pathlib import Path

from formats.pbs.writer import automatic_payment, build_0602, build_0603, mandate_event
from store.db import Database
from store.models.core import SpoolFile
from store.models.pbs import OcrLine, PbsAgreement, PbsAlert
from tests.pbs.helpers import CORPUS, pbs_config
from tests.support import DaemonProcess, files_in, wait_for, write_config


def test_daemon_loads_0602_and_0603_and_mails_an_alert_for_a_bad_file(tmp_path: Path, db_url: str, smtp_server):
    cfg = pbs_config(tmp_path, db_url, smtp={"host": smtp_server.host, "port": smtp_server.port},
                     jobs={"pbs-alerts": {"kind": "pbs.alerts", "every": "1 s"}})
    config = write_config(tmp_path / "spoolgate.toml", cfg)
    spool = tmp_path / "spool/pbs"
    inbox = spool / "incoming_pbs_files"
    inbox.mkdir(parents=True)
    d = DaemonProcess(config)
    try:
        d.wait_ready()
        files = {
            "D0001.BS1": (CORPUS / "nets_spec_example_0602_sec0211.txt").read_bytes(),
            "D0002.BS1": (CORPUS / "nets_spec_example_0603_sec0212.txt").read_bytes(),
            "D0003.BS1": build_0602([automatic_payment("7001", "INV-1", 4200)], data_supplier="12345678",
                                    delivery_number="0000000003", envelope=True),
            "D0004.BS1": build_0603([mandate_event("7001", "5")], delivery_number="0000000004"),
            "D0005.BS1": build_0602([automatic_payment("7001", "INV-1", 4200)], delivery_number="0000000003")
            + b"BS992 trailing junk\r\n",
            # no line breaks at all: split into 128-character records, loaded with a warning
            "D0006.BS1": b"".join(line.ljust(128).encode("cp1252") for line in build_0602(
                [automatic_payment("7002", "INV-2", 1700)], data_supplier="12345678", delivery_number="0000000006",
                envelope=True).decode("cp1252").splitlines()),
        }
        for name, data in files.items():
            tmp = inbox / f".{name}.tmp"
            tmp.write_bytes(data)
            tmp.rename(inbox / name)
        processed, error = spool / "processed_pbs_files", spool / "error_pbs_files"
        wait_for(lambda: len(files_in(processed)) + len(files_in(error)) == len(files), timeout=30,
                 what="all PBS files filed")
        assert sorted(p.name for p in files_in(processed)) == ["D0001.BS1", "D0002.BS1", "D0003.BS1", "D0004.BS1",
                                                              "D0006.BS1"]
        assert [p.name for p in files_in(error)] == ["D0005.BS1"]
        [mail] = smtp_server.wait_for(1, timeout=30)
        assert "D0005.BS1" in mail.message["Subject"] and mail.rcpt_tos == ("ops@example.test",)
    finally:
        assert d.terminate() == 0, d.log()
    db = Database(db_url, pool=False)
    try:
        with db.transaction() as s:
            lines = list(s.scalars(OcrLine.__table__.select()))
            assert len(lines) == 8
            agreements = s.query(PbsAgreement).count()
            assert agreements == 16
            states = {r.original_name: r.state for r in s.query(SpoolFile)}
            assert states == {"D0001.BS1": "done", "D0002.BS1": "done", "D0003.BS1": "done",
                              "D0004.BS1": "done", "D0005.BS1": "error", "D0006.BS1": "done"}
            flat = s.query(SpoolFile).filter_by(original_name="D0006.BS1").one()
            assert flat.summary is not None and [w["code"] for w in flat.summary["warnings"]] == ["no_line_breaks"]
            assert s.query(PbsAlert).count() == 1
    finally:
        db.dispose()


def test_daemon_charge_back_full_list_and_audit(tmp_path: Path, db_url: str, capsys) -> None:
    """Payments, a charge-back and a full list through the real daemon; ``spoolgate audit`` shows the history."""
    import datetime as dt
    import json

    from daemon.cli import main
    from store.models.pbs import Invoice
    from tests.pbs.helpers import PbsEnv, invoice

    cfg = pbs_config(tmp_path, db_url, policy="strict",
                     jobs={"pbs-settle": {"kind": "pbs.settle", "every": "1 s"}})
    config = write_config(tmp_path / "spoolgate.toml", cfg)
    env = PbsEnv(tmp_path, cfg)
    env.add_invoices(invoice("INV-1", 10000), invoice("INV-2", 700, paid=700))
    inbox, processed = env.channel.inbox, env.channel.processed
    d = DaemonProcess(config)
    try:
        d.wait_ready()
        day = dt.date(2024, 3, 1)

        def drop(name: str, data: bytes, n: int) -> None:
            tmp = inbox / f".{name}.tmp"
            tmp.write_bytes(data)
            tmp.rename(inbox / name)
            wait_for(lambda: len(files_in(processed)) == n, timeout=30, what=f"{name} processed")

        drop("M0603a.BS1", build_0603([mandate_event("7001", "1"), mandate_event("7002", "2")], created=day,
                                      delivery_number="0000000001"), 1)
        drop("M0602a.BS1", build_0602([automatic_payment("7001", "INV-1", 10000),
                                       automatic_payment("7002", "INV-2", 700)], delivery_number="0000000002"), 2)
        wait_for(lambda: env.count(OcrLine, OcrLine.status == "settled") == 2, timeout=30, what="settled")
        drop("M0602b.BS1", build_0602([automatic_payment("7001", "INV-1", 10000, code="0239")],
                                      delivery_number="0000000003"), 3)
        drop("M0603b.BS1", build_0603([mandate_event("7002", "2", code="0230")], created=day + dt.timedelta(days=30),
                                      delivery_number="0000000004"), 4)
        wait_for(lambda: env.count(OcrLine, OcrLine.status == "charged_back") == 1, timeout=30, what="charge-back")
    finally:
        assert d.terminate() == 0, d.log()
    try:
        [inv1] = env.rows(Invoice, Invoice.invoice_number == "INV-1")
        assert inv1.outstanding == 10000
        agreements = {a.customer_number: a for a in env.rows(PbsAgreement)}
        assert (agreements["7001"].status, agreements["7001"].cancel_reason) == ("cancelled", "not in full list")
        assert agreements["7002"].status == "active"
        capsys.readouterr()
        assert main(["--config", str(config), "audit", "--pbs-customer", "7001", "--from", "2000-01-01",
                     "--to", "2100-12-31", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        lines = [(r["transaction_code"], r["status"], r["audit_operation"]) for r in out["ocr_line_history"]]
        assert lines[:3] == [("0236", "new", 1001), ("0236", "settled", 1002), ("0239", "new", 1001)], lines
        assert sorted(lines[3:]) == [("0236", "charged_back", 1002), ("0239", "settled", 1002)]  # one run
        assert [(r["status"], r["audit_reason"]) for r in out["pbs_agreement_history"]] == [
            ("active", "0603 0212 0231 subscribed"), ("cancelled", "0603 0210: not in full list")]
        assert main(["--config", str(config), "audit", "--pbs-customer", "7001", "--from", "2000-01-01",
                     "--to", "2100-12-31"]) == 0
        assert "ocr_line_history: 5 row(s)" in capsys.readouterr().out
    finally:
        env.close()
