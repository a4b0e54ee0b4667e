"""examples/README.md, run as written: its commands, in order, against the example config.

The commands are parsed from the README's walk-through and must equal the steps below one
to one, so the README cannot drift from what is checked. They run through bash in a folder
laid out like the checkout (``etc/``, ``examples/``, ``.venv/bin/spoolgate``), so ``./var``,
the SQLite database and the spool tree are the test's own; ``make run`` is what the
Makefile's run target does: ``init``, then ``run`` in the foreground (here: a subprocess).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO, files_in, wait_for

pytestmark = pytest.mark.slow

README = REPO / "examples" / "README.md"
SG = ".venv/bin/spoolgate --config etc/spoolgate.example.toml"
CHANNELS = {"archive": "archive/in", "ach": "ach/in", "checkfree": "checkfree/in/bd", "pbs": "pbs/in",
            "bills": "bills/in", "refunds": "refunds/in", "setups": "setups/in"}


def readme_commands() -> list[str]:
    walk = README.read_text().split("## Walk-through", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for block in re.findall(r"```sh\n(.*?)```", walk, re.S) for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")]


class Site:
    """A folder laid out like the checkout, with ``.venv/bin/spoolgate`` running this checkout's code."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.spool = root / "var" / "spool"
        shutil.copytree(REPO / "etc", root / "etc")
        shutil.copytree(REPO / "examples", root / "examples")
        shim = root / ".venv" / "bin" / "spoolgate"
        shim.parent.mkdir(parents=True)
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m daemon "$@"\n')
        shim.chmod(0o755)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("SPOOLGATE_", "NOTIFY_SOCKET"))}
        self.env["PYTHONPATH"] = str(REPO)
        self.daemon: subprocess.Popen[bytes] | None = None
        self.log = root / "daemon.log"

    def sh(self, command: str) -> str:
        proc = subprocess.run(["bash", "-c", command], cwd=self.root, env=self.env, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, f"{command}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout

    def make_run(self) -> str:
        out = self.sh(f"{SG} init")
        self._log = self.log.open("wb")
        self.daemon = subprocess.Popen(["bash", "-c", f"exec {SG} run"], cwd=self.root, env=self.env,
                                       stdout=self._log, stderr=subprocess.STDOUT)
        wait_for(lambda: "spoolgate ready" in self.log.read_text() or self.daemon.poll() is not None,  # type: ignore[union-attr]
                 60, what="daemon ready")
        assert self.daemon.poll() is None, self.log.read_text()
        return out

    def stop(self) -> int:
        if self.daemon is None:
            return 0
        if self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
        try:
            return self.daemon.wait(timeout=60)
        finally:
            self._log.close()

    def landed(self, folder: str, name: str) -> Path:
        found: Path = wait_for(lambda: next((p for p in files_in(self.spool / folder) if p.name == name), None),
                               30, what=f"{name} in {folder}")
        return found

    def ledger(self, out: str) -> dict[str, Any]:
        [row] = json.loads(out)
        assert row["state"] == "done" and Path(row["final_path"]).exists(), row
        return dict(row)


def test_walkthrough_as_written(tmp_path: Path) -> None:
    site = Site(tmp_path)
    spool = site.spool

    def started(out: str) -> None:
        assert f"initialised spool tree under {spool} and database sqlite:///{tmp_path}/var/spoolgate.db" in out
        for channel, inbox in CHANNELS.items():
            assert f"drop {channel} files into {spool / inbox}\n" in out
        assert "spoolgate ready: 7 channel(s)" in site.log.read_text()

    def archived(_: str) -> None:
        assert site.landed("archive/processed", "hello.txt").read_text() == "hello\n"

    def hello_ledger(out: str) -> None:
        row = site.ledger(out)
        assert row["handler"] == "archive" and row["original_name"] == "hello.txt" and len(row["sha256"]) == 64

    def imported(out: str) -> None:
        assert out == ("imported 2 payee(s), 3 new and 0 updated account(s), 3 payment(s); "
                       "0 payment(s) already imported, unchanged\n")

    def nightly(out: str) -> None:
        result = json.loads(out)
        assert result["outcome"] == "success"
        assert (result["counts"]["submitted"], result["counts"]["checkfree_submitted"]) == (2, 1)
        [ach] = files_in(spool / "ach/out")
        assert ach.name.startswith("ppd_") and ach.suffix == ".ach"
        assert Path(f"{ach}.done").read_text().startswith("records=")
        [debit] = files_in(spool / "checkfree/out/bd")
        assert debit.name.startswith("test.acmeutil.debit.dat.")

    def returned(_: str) -> None:
        site.landed("ach/processed", "returns.ach")
        [done] = wait_for(lambda: list((spool / "acks/out").glob("*.done")), 30, what="ack signal")
        assert re.fullmatch(r"ack_\d+_returns\.xml\.done", done.name)
        assert b"TransmissionAcknowledgment" in Path(str(done).removesuffix(".done")).read_bytes()

    def audit(out: str) -> None:
        assert "check_payments_history: 3 row(s)" in out
        assert "submitted in ppd_" in out and "returned R01 in returns.ach" in out

    def setups_landed(_: str) -> None:
        site.landed("setups/processed", "portal-setups.jsonl")

    def setups_ledger(out: str) -> None:
        row = site.ledger(out)
        assert row["handler"] == "setups.load" and row["state"] == "done"
        assert row["counts"] == {"payment_account_create": 1, "payment_reminder_create": 1,
                                 "recurring_payment_create": 1}

    def confirm_landed(_: str) -> None:
        site.landed("checkfree/in/history", "test.acmeutil.confirm.dat.20260106093000")

    def confirm_ledger(out: str) -> None:
        row = site.ledger(out)
        assert row["handler"] == "checkfree.inbound" and row["counts"]["accepted"] == 1

    def pbs_landed(_: str) -> None:
        site.landed("pbs/processed", "D0602.BS1")

    def pbs_ledger(out: str) -> None:
        counts = site.ledger(out)["counts"]
        assert (counts["ocr_lines"], counts["payments_completed"]) == (2, 2)

    def bills_landed(_: str) -> None:
        site.landed("bills/processed", "bills-2026-01.xml")

    def bills_ledger(out: str) -> None:
        counts = site.ledger(out)["counts"]
        assert (counts["bills"], counts["line_items"]) == (2, 3)

    def refunds_landed(_: str) -> None:
        site.landed("refunds/processed", "refunds.xml")

    def refund_submit(out: str) -> None:
        result = json.loads(out)
        assert result["outcome"] == "noop" and result["counts"]["waiting"] == 1

    def ar_extract(out: str) -> None:
        result = json.loads(out)
        assert result["outcome"] == "success" and result["counts"]["payments"] == 1
        target, _, name = result["message"].partition("/")
        assert target == "ar_out" and name.startswith("ar_") and name.endswith(".xml")
        assert (spool / "ar/out" / name).exists() and (spool / "ar/out" / f"{name}.done").exists()

    def bad_landed(_: str) -> None:
        bad = site.landed("bills/error", "bad-amount.xml")
        report = json.loads(Path(f"{bad}.error.json").read_text())
        assert (report["line"], report["field"]) == (33, "amountDue")

    def errors(out: str) -> None:
        assert "bills/bad-amount.xml: line 33 field amountDue <amountDue>: not a decimal amount" in out

    def status(out: str) -> None:
        bills = out.split("bills:\n", 1)[1].split("refunds:\n", 1)[0]
        assert re.search(r"error\s+1 file\(s\)", bills), out
        assert "bad-amount.xml" in out.split("last errors:", 1)[1]

    steps: list[tuple[str, Callable[[str], None]]] = [
        ("make run", started),
        ("cp examples/archive/hello.txt var/spool/archive/in/", archived),
        (f"{SG} ledger show hello.txt", hello_ledger),
        (f"{SG} import examples/ach/payments.json", imported),
        (f"{SG} jobs run nightly", nightly),
        ("cp examples/ach/returns.ach var/spool/ach/in/", returned),
        (f"{SG} audit --payment-id 1 --from 2026-01-01 --to 2099-12-31", audit),
        ("cp examples/setups/portal-setups.jsonl var/spool/setups/in/", setups_landed),
        (f"{SG} ledger show portal-setups.jsonl", setups_ledger),
        ("cp examples/checkfree/test.acmeutil.confirm.dat.20260106093000 var/spool/checkfree/in/bd/",
         confirm_landed),
        (f"{SG} ledger show test.acmeutil.confirm.dat.20260106093000", confirm_ledger),
        ("cp examples/pbs/D0602.BS1 var/spool/pbs/in/", pbs_landed),
        (f"{SG} ledger show D0602.BS1", pbs_ledger),
        ("cp examples/bills/bills-2026-01.xml var/spool/bills/in/", bills_landed),
        (f"{SG} ledger show bills-2026-01.xml", bills_ledger),
        ("cp examples/refunds/refunds.xml var/spool/refunds/in/", refunds_landed),
        (f"{SG} jobs run refund-submit", refund_submit),
        (f"{SG} jobs run ar-extract", ar_extract),
        ("cp examples/bills/bad-amount.xml var/spool/bills/in/", bad_landed),
        (f"{SG} errors", errors),
        (f"{SG} status", status),
    ]
    assert readme_commands() == [command for command, _ in steps]
    try:
        for command, check in steps:
            check(site.make_run() if command == "make run" else site.sh(command))
    finally:
        code = site.stop()
    assert code == 0, site.log.read_text()
    _database_holds(tmp_path / "var" / "spoolgate.db")
    for inbox in CHANNELS.values():
        assert not files_in(spool / inbox)


def _database_holds(path: Path) -> None:
    """What the walk-through says the database holds, read back with the models."""
    from sqlalchemy import func, select

    from store.db import Database
    from store.models.ach import CheckPayment, CheckStatus, PaymentRefund
    from store.models.bills import Bill
    from store.models.pbs import OcrLine

    db = Database(f"sqlite:///{path}")
    try:
        with db.transaction() as s:
            status = dict(s.execute(select(CheckPayment.payer_id, CheckPayment.status)).all())
            assert status == {"alice": CheckStatus.RETURNED, "bob": CheckStatus.PROCESSED,
                              "carol": CheckStatus.PROCESSED}
            assert s.scalar(select(func.count()).select_from(Bill)) == 2
            assert s.scalar(select(func.count()).select_from(OcrLine)) == 2
            assert list(s.execute(select(PaymentRefund.payer_account_number, PaymentRefund.amount,
                                         PaymentRefund.status)).all()) == [("ACCT-BOB", 1000, "scheduled")]
    finally:
        db.dispose()
