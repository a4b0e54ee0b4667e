"""handlers/ach/enroll.py: ach.submit-enroll (prenotes) and ach.confirm-enroll against a real database."""

from __future__ import annotations

import datetime as dt
import io

from sqlalchemy import select

from formats.nacha import parse, validate
from store.models.ach import CheckPaymentHistory, CheckStatus
from tests.ach.conftest import Env
from tests.ach.support import import_doc

TODAY = dt.date(2026, 6, 18)  # a Thursday; tomorrow is Juneteenth


def test_submit_enroll_sends_one_prenote_file_for_payees_sharing_the_immediate_fields(env: Env) -> None:
    env.import_(import_doc(TODAY))
    run = env.run("enroll", TODAY)
    assert run.outcome == "success" and run.counts == {"prenotes": 2, "invalid_accounts": 0, "files": 1}
    (f,) = env.out_files()
    assert validate(io.BytesIO(f.read_bytes())).ok
    prenote_file = parse(f.read_bytes())
    assert [e.detail.transaction_code for _, e in prenote_file.entries()] == [28, 28]
    assert {b.header.company_name.strip() for b in prenote_file.batches} == {"UTILITY CO", "WATER CO"}
    prenotes = [p for p in env.payments().values() if p.status == CheckStatus.PRENOTE_PROCESSED]
    assert sorted(str(p.pid) for p in prenotes) == ["A3", "A4"]
    assert [p.txn_number for p in sorted(prenotes, key=lambda p: str(p.pid))] == [
        e.detail.trace_number for _, e in prenote_file.entries()]
    assert env.accounts()["A3"].account_status == "pnd_wait"
    hist = env.all(select(CheckPaymentHistory.audit_operation, CheckPaymentHistory.job_name)
                   .where(CheckPaymentHistory.status == CheckStatus.PRENOTE_PROCESSED))
    assert sorted(hist) == [(1001, "enroll-SubEnrTsk")] * 2
    assert env.run("enroll", TODAY).outcome == "noop"  # nothing pnd_active any more


def test_confirm_enroll_activates_after_the_days_to_activate(env: Env) -> None:
    env.import_(import_doc(TODAY))
    env.run("enroll", TODAY)
    assert env.run("confirm", dt.date(2026, 6, 22)).outcome == "noop"  # one business day later
    run = env.run("confirm", dt.date(2026, 6, 24))  # 3 business days (Juneteenth skipped)
    assert run.counts == {"activated": 2}
    accts = env.accounts()
    assert accts["A3"].account_status == "active" and accts["A3"].notify_status == "N"
    assert env.run("confirm", dt.date(2026, 6, 25)).outcome == "noop"
