"""``spoolgate import``: every bad row is reported, nothing is half-imported, re-imports are audited."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from daemon.cli import main
from handlers.ach.importer import ImportRejected
from store.models.ach import CheckPayment, PaymentAccount, PaymentAccountHistory, PaymentPayee
from tests.ach.conftest import Env
from tests.ach.support import ach_config, import_doc
from tests.support import write_config

DAY = dt.date(2026, 6, 18)


def test_bad_rows_reject_the_whole_file(env: Env) -> None:
    doc = import_doc(DAY)
    doc["payments"][0]["amount"] = 12.5
    doc["payments"][1]["amount"] = True
    doc["payments"][2]["amount"] = "100"
    doc["payments"][3]["payee"] = "NOPE"
    doc["payments"][4]["pid"] = "A9"
    doc["payments"].append({"payee": "UTILCO", "external_id": "X1", "payer_id": "x", "pay_date": "2026-02-30",
                            "amount": 1})
    doc["payments"].append({"payee": "UTILCO", "external_id": "X2", "payer_id": "y", "pay_date": "2026-06-01",
                            "amount": 1})
    doc["payments"].append({**doc["payments"][7], "external_id": "P5"})
    del doc["payments"][5]["external_id"]
    doc["accounts"][0]["routing_transit"] = "011000016"
    doc["accounts"][1]["account_number"] = "1" * 18
    doc["accounts"][2]["colour"] = "red"
    doc["accounts"].append(dict(doc["accounts"][3]))
    doc["payees"][1]["settings"]["odfi"] = "12ab"
    with pytest.raises(ImportRejected) as info:
        env.import_(doc)
    problems = "\n".join(info.value.problems)
    for expected in ("payments[0].amount", "payments[1].amount", "payments[2].amount", "payments[3].payee",
                     "payments[4].pid: unknown payment account A9", "payments[8].pay_date",
                     "payments[9]: without a pid", "accounts[0].routing_transit", "accounts[1].account_number",
                     "accounts[2].colour", "accounts[5].pid: A4 appears twice", "payees[1].settings.odfi",
                     "payments[5].external_id: Field required",
                     "payments[10].external_id: P5 of payee UTILCO is also payments[4]"):
        assert expected in problems, (expected, problems)
    assert "111111111111111111" not in problems  # account numbers are masked
    for model in (PaymentPayee, PaymentAccount, CheckPayment):
        assert env.scalar(select(func.count()).select_from(model)) == 0


def test_cli_import_and_reimport(tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path / "cfg.toml", ach_config(tmp_path, db_url))
    doc = tmp_path / "in.json"
    doc.write_text(json.dumps(import_doc(DAY)))
    assert main(["--config", str(cfg), "import", str(doc)]) == 0
    assert "imported 2 payee(s), 5 new and 0 updated account(s), 8 payment(s)" in capsys.readouterr().out
    again = {"accounts": [{**import_doc(DAY)["accounts"][0], "account_status": "inactive"}]}
    doc.write_text(json.dumps(again))
    assert main(["--config", str(cfg), "import", str(doc)]) == 0
    (tmp_path / "broken.json").write_text("{not json")
    assert main(["--config", str(cfg), "import", str(tmp_path / "broken.json")]) == 1
    from store.db import Database

    db = Database(db_url)
    try:
        with db.transaction() as s:
            hist = list(s.execute(select(PaymentAccountHistory.audit_operation, PaymentAccountHistory.account_status,
                                         PaymentAccountHistory.job_id)
                                  .where(PaymentAccountHistory.pid == "A1")
                                  .order_by(PaymentAccountHistory.history_id)).all())
            assert s.scalar(select(func.count()).select_from(CheckPayment)) == 8
    finally:
        db.dispose()
    assert hist == [(1001, "active", 0), (1002, "inactive", 0)]


def test_reimport_never_creates_a_second_payment(tmp_path: Path, db_url: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path / "cfg.toml", ach_config(tmp_path, db_url))
    assert main(["--config", str(cfg), "init"]) == 0
    doc = tmp_path / "in.json"
    doc.write_text(json.dumps(import_doc(DAY)))
    capsys.readouterr()
    assert main(["--config", str(cfg), "import", str(doc)]) == 0
    assert "8 payment(s); 0 payment(s) already imported" in capsys.readouterr().out
    changed = import_doc(DAY)
    changed["payments"][0]["amount"] = 99999  # the same external id: the payment is left as it is
    changed["payments"].append({**changed["payments"][1], "external_id": "P9"})
    doc.write_text(json.dumps(changed))
    assert main(["--config", str(cfg), "import", str(doc)]) == 0
    assert "1 payment(s); 8 payment(s) already imported, unchanged" in capsys.readouterr().out
    from store.db import Database

    db = Database(db_url)
    try:
        with db.transaction() as s:
            amounts = sorted(s.scalars(select(CheckPayment.amount)))
    finally:
        db.dispose()
    assert len(amounts) == 9 and 99999 not in amounts and amounts.count(5000) == 2
