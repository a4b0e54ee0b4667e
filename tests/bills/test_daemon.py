"""Bill files through the real daemon process: valid, malformed and XXE, plus a few-MB file streamed."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import func, select

from store.db import Database
from store.models.bills import Bill
from store.models.core import SpoolFile
from tests.bills.test_load import XXE
from tests.formats.bills.helpers import bill, bills_bytes, one_bill
from tests.support import DaemonProcess, files_in, wait_for, write_config

from .conftest import bills_config


def _drop(inbox: Path, name: str, data: bytes) -> None:
    tmp = inbox / f".{name}.tmp"
    tmp.write_bytes(data)
    os.rename(tmp, inbox / name)


def test_valid_malformed_and_xxe_files_through_the_daemon(tmp_path, db_url):
    cfg = write_config(tmp_path / "spoolgate.toml", bills_config(tmp_path, db_url, route_options={
        "data_compress": True}))
    d = DaemonProcess(cfg)
    try:
        d.wait_ready()
        spool = tmp_path / "spool/bills"
        inbox = spool / "processing"
        many = [bill(n, line_items=()) for n in range(1, 1001)]
        _drop(inbox, "good.xml", bills_bytes(many))
        _drop(inbox, "broken.xml", one_bill().replace(b"</bills>", b"</bils>"))
        _drop(inbox, "xxe.xml", XXE)
        wait_for(lambda: len(files_in(spool / "processed")) + len(files_in(spool / "error")) >= 3, 30,
                 what="three files filed")
    finally:
        assert d.terminate() == 0, d.log()
    assert [p.name for p in files_in(spool / "processed")] == ["good.xml"]
    assert sorted(p.name for p in files_in(spool / "error")) == ["broken.xml", "xxe.xml"]
    assert all((spool / "error" / f"{n}.error.json").exists() for n in ("broken.xml", "xxe.xml"))
    assert files_in(inbox) == [] and files_in(spool / "work") == []
    db = Database(db_url, pool=False)
    try:
        with db.transaction() as s:
            assert s.scalar(select(func.count(Bill.id))) == 1000
            assert s.scalar(select(func.sum(Bill.amount_due))) == 1000 * 12345
            states = dict(s.execute(select(SpoolFile.original_name, SpoolFile.state)).all())
    finally:
        db.dispose()
    assert states == {"good.xml": "done", "broken.xml": "error", "xxe.xml": "error"}
