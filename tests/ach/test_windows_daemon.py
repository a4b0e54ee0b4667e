"""Same-day ACH through the real daemon: check-submit scheduled by the daemon writes to the window open now."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from daemon.cli import main
from formats.nacha import parse
from handlers.ach.windows import next_window
from store.config import Settings
from store.db import Database
from store.models.core import OutboundFile
from tests.ach.conftest import Env
from tests.ach.support import R1, ach_config, payee_settings
from tests.ach.test_windows import FED, WINDOW_CONFIG, WINDOWS
from tests.support import DaemonProcess, wait_for, write_config

ET = ZoneInfo("America/New_York")


def test_daemon_check_submit_uses_the_window_open_now(tmp_path: Path, db_url: str) -> None:
    jobs = {"nightly": {"kind": "ach.check-submit", "every": "1 s", "options": {"payee": "UTILCO"}}}
    data = ach_config(tmp_path, db_url, jobs=jobs)
    cfg = write_config(tmp_path / "spoolgate.toml", data)
    env = Env(tmp_path, db_url, Settings(**data), Database(db_url))
    before = dt.datetime.now(dt.UTC)
    due = before.astimezone(ET).date()
    doc = {"payees": [{"name": "UTILCO", "settings": payee_settings("UTILITY CO", "1111111111",
                                                                   windows=WINDOW_CONFIG)}],
           "accounts": [],
           "payments": [{"external_id": "W2", "payee": "UTILCO", "payer_id": "alice", "pay_date": str(due),
                         "amount": 4200,
                         "same_day": True, "routing_transit": R1, "check_account_number": "100001",
                         "account_name": "ALICE A", "account_type": "checking"}]}
    (tmp_path / "import.json").write_text(json.dumps(doc))
    try:
        assert main(["--config", str(cfg), "import", str(tmp_path / "import.json")]) == 0
        d = DaemonProcess(cfg)
        try:
            d.wait_ready()
            wait_for(lambda: list((env.spool / "ach/out").glob("*.ach.done")), 30, what="ACH file and signal")
        finally:
            assert d.terminate() == 0, d.log()
        after = dt.datetime.now(dt.UTC)
        choices = {c.note: c for c in (next_window(WINDOWS, "America/New_York", t, FED) for t in (before, after))
                   if c is not None}
        [summary] = env.all(select(OutboundFile.summary))
        note = summary[0]["windows"]["UTILCO"]
        assert note in choices, (note, list(choices))
        choice = choices[note]
        [f] = env.out_files()
        [batch] = parse(f.read_bytes()).batches
        if choice.window.same_day and due <= choice.day:
            assert batch.header.effective_entry_date == f"{choice.day:%y%m%d}"
            assert batch.header.company_descriptive_date.strip() == f"SD{choice.window.settlement:%H%M}"
        else:
            assert batch.header.company_descriptive_date.strip() == ""
            assert batch.header.effective_entry_date > f"{choice.day:%y%m%d}"
    finally:
        env.db.dispose()
