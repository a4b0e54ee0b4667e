"""Bill notify reaches people: addresses from the bill file, the consolidated message through the real
daemon to a real SMTP server on loopback."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select

from store.db import Database
from store.models.bills import BillNotice, BillUser
from tests.formats.bills.helpers import bill, bills_bytes
from tests.support import DaemonProcess, files_in, wait_for, write_config

from .conftest import bills_config

JANE = ("jane@example.com", "jane.doe@work.example.org")


def _file() -> bytes:
    return bills_bytes([
        bill(1, user_id="jane", account_number="ACC-100001", amount_due=5000, user_emails=JANE),
        bill(2, user_id="jane", account_number="ACC-200002", amount_due=2500, user_emails=JANE),
        bill(3, user_id="bob", account_number="ACC-300003", user_emails=("bob@example.net",)),
        bill(4, user_id="nobody", account_number="ACC-400004"),
    ])


def test_loading_fills_bill_users_and_replaces_addresses(bills_env) -> None:
    env = bills_env()
    assert env.load("a.xml", _file()) == "done"
    assert env.load("b.xml", bills_bytes([bill(9, user_id="bob", user_emails=("robert@example.net",))])) == "done"
    with env.db.transaction() as s:
        users = {u.user_id: (u.email, u.emails, u.notify) for u in s.scalars(select(BillUser))}
    assert users == {"jane": (JANE[0], list(JANE), True), "bob": ("robert@example.net", ["robert@example.net"], True)}


def test_notify_sends_the_consolidated_message_end_to_end(tmp_path: Path, db_url: str, smtp_server) -> None:
    cfg = bills_config(tmp_path, db_url, smtp={"host": smtp_server.host, "port": smtp_server.port,
                                                "sender": "bills@example.com"},
                       jobs={"notify": {"kind": "bills.notify", "every": "1 s"}})
    config = write_config(tmp_path / "spoolgate.toml", cfg)
    spool = tmp_path / "spool/bills"
    d = DaemonProcess(config)
    try:
        d.wait_ready()
        tmp = spool / "processing" / ".n.xml.tmp"
        tmp.write_bytes(_file())
        os.rename(tmp, spool / "processing" / "n.xml")
        mails = smtp_server.wait_for(2, timeout=60)
        wait_for(lambda: files_in(spool / "processed"), 30, what="bill file processed")
    finally:
        assert d.terminate() == 0, d.log()
    by_rcpt = {m.rcpt_tos: m.message for m in mails}
    assert set(by_rcpt) == {JANE, ("bob@example.net",)}
    jane = by_rcpt[JANE]
    assert jane["Subject"] == "New bills for 2 of your accounts" and jane["From"] == "bills@example.com"
    body = jane.get_content()
    assert "******0001" in body and "******0002" in body and "ACC-100001" not in body
    assert by_rcpt[("bob@example.net",)]["Subject"] == "New bill for account ******0003"
    db = Database(db_url, pool=False)
    try:
        with db.transaction() as s:
            notices = {n.user_id: n.notification_id is not None for n in s.scalars(select(BillNotice))}
    finally:
        db.dispose()
    assert notices == {"jane": True, "bob": True, "nobody": False}
