"""The real daemon process with the PBS channel: 0602 and 0603 in, a bad file out, the alert mailed."""

from __future__ import annotations

from pathlib import Path

from daemon.db import Database
from daemon.models.core import SpoolFile
from daemon.models.pbs import OcrLine, PbsAgreement, PbsAlert
from formats.pbs.writer import automatic_payment, build_0602, build_0603, mandate_event
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
        }
        for name, data in files.items():
            tmp = inbox / f".{name}.tmp"
            tmp.write_bytes(data)
            tmp.rename(inbox / name)
        processed, error = spool / "processed_pbs_files", spool / "error_pbs_files"
        wait_for(lambda: len(files_in(processed)) + len(files_in(error)) == len(files), timeout=30,
                 what="all PBS files filed")
        assert sorted(p.name for p in files_in(processed)) == ["D0001.BS1", "D0002.BS1", "D0003.BS1", "D0004.BS1"]
        assert [p.name for p in files_in(error)] == ["D0005.BS1"]
        [mail] = smtp_server.wait_for(1, timeout=30)
        assert "D0005.BS1" in mail.message["Subject"] and mail.rcpt_tos == ("ops@example.test",)
    finally:
        assert d.terminate() == 0, d.log()
    db = Database(db_url, pool=False)
    try:
        with db.transaction() as s:
            lines = list(s.scalars(OcrLine.__table__.select()))
            assert len(lines) == 7
            agreements = s.query(PbsAgreement).count()
            assert agreements == 16
            states = {r.original_name: r.state for r in s.query(SpoolFile)}
            assert states == {"D0001.BS1": "done", "D0002.BS1": "done", "D0003.BS1": "done",
                              "D0004.BS1": "done", "D0005.BS1": "error"}
            assert s.query(PbsAlert).count() == 1
    finally:
        db.dispose()
