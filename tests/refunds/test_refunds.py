"""LoadsRefunds (good and bad rows, selection window, file-level errors) and SubmitRefund (seed 001 rules)."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from store.db import utcnow
from store.models.ach import CheckPayment, CheckPaymentHistory, CheckStatus, PaymentRefund, PaymentRefundHistory
from tests.support import files_in

from .conftest import refund_xml


def R(acct: str | None, amount: str | None, **kw: str) -> dict[str, str]:
    row = {"payeeId": "BCBS", "userId": "John"}
    if acct is not None:
        row["payerAccoutNumber"] = acct  # the seed's spelling
    if amount is not None:
        row["amount"] = amount
    row.update({"paymentType": "check", "refundType": "R", "sourceSystemPaymentInitiator": "CSR2",
                "transactionDescription": "Refund Desc", "notifyRequired": "N"})
    row.update(kw)
    return row


def _refunds(env) -> list[tuple]:
    with env.db.transaction() as s:
        return [(r.payer_account_number, r.amount, r.status, r.refund_for_payment_id, r.reason)
                for r in s.scalars(select(PaymentRefund).order_by(PaymentRefund.refund_id))]


def _setup(env) -> dict[str, int]:
    payee = env.payee()
    return {"payee": payee,
            "p1": env.payment(payee, "ACC1", 10000, CheckStatus.PAID, 10, txn_number="T1"),
            "p2": env.payment(payee, "ACC2", 5000, CheckStatus.PROCESSED, 2),
            "p3": env.payment(payee, "ACC3", 2000, CheckStatus.PAID, 200),
            "p4": env.payment(payee, "ACC4", 3000, CheckStatus.SCHEDULED, -3)}


def test_good_and_bad_rows_are_scheduled_or_rejected_with_reasons(refunds_env):
    env = refunds_env()
    ids = _setup(env)
    data = refund_xml(
        R("ACC1", "50.00"),
        R(None, "10.00"),
        R("ACC1", "12x.00"),
        R("ACC3", "5.00"),
        R("ACC1", "10.00"),
        R("ACC1", "1.00", paymentType="ccard"),
        R("ACC2", "10.00", billingSystemTransactionNumber=str(ids["p2"])),
        R("ACC4", "1.00"),
        R("ACC1", "1.00", payeeId="NOPE"),
    )
    assert env.load("batch.xml", data) == "done"
    assert [p.name for p in files_in(env.channel.processed)] == ["batch.xml"]
    rows = _refunds(env)
    assert [r[2] for r in rows] == ["scheduled", "rejected", "rejected", "rejected", "rejected", "rejected",
                                    "scheduled", "rejected", "rejected"]
    assert rows[0][:4] == ("ACC1", 5000, "scheduled", ids["p1"]) and rows[0][4] is None
    assert "payer account number is required" in rows[1][4] and rows[1][:2] == ("", 1000)
    assert rows[2][4].startswith("amount:") and rows[2][1] == 0
    assert "no paid or processed check payment for payer account ****" in rows[3][4]
    assert "within 90 days" in rows[3][4] and "ACC3" not in rows[3][4]
    assert "refunded already (multiple refunds not allowed)" in rows[4][4]
    assert "card payments" in rows[5][4]
    assert rows[6][3] == ids["p2"]
    assert "no paid or processed" in rows[7][4]  # a scheduled payment is not refundable
    assert "no payee 'NOPE'" in rows[8][4]
    with env.db.transaction() as s:
        assert s.scalar(select(func.count(PaymentRefundHistory.history_id))) == 9
        hist = s.scalar(select(PaymentRefundHistory).limit(1))
        assert hist.audit_operation == 1001 and hist.job_name == "refunds-refunds.load"


def test_selection_window_in_weeks_and_months(refunds_env):
    env = refunds_env(refunds={"selection_unit": "weeks", "selection_value": 4})
    payee = env.payee()
    old = env.payment(payee, "ACC9", 9000, CheckStatus.PAID, 40)
    assert env.load("w.xml", refund_xml(R("ACC9", "1.00"))) == "done"
    assert _refunds(env)[0][2] == "rejected" and "within 4 weeks" in _refunds(env)[0][4]
    env2 = refunds_env(refunds={"selection_unit": "months", "selection_value": 2})
    assert env2.load("m.xml", refund_xml(R("ACC9", "1.00", flexFieldOne="x"), root="refunds")) == "done"
    assert _refunds(env2)[1][2:4] == ("scheduled", old)


def test_malformed_file_goes_to_error_and_loads_nothing(refunds_env):
    env = refunds_env()
    _setup(env)
    bad = refund_xml(R("ACC1", "1.00")).replace(b"</doc>", b"</dco>")
    assert env.load("bad.xml", bad) == "error"
    assert [p.name for p in files_in(env.channel.error)] == ["bad.xml"]
    report = json.loads((env.channel.error / "bad.xml.error.json").read_text())
    assert report["line"] and report["reason"]
    assert env.load("root.xml", b"<payments><refund/></payments>") == "error"
    assert _refunds(env) == []


def test_submit_refunds_paid_waits_for_processed_cancels_scheduled_rejects_void(refunds_env):
    env = refunds_env()
    ids = _setup(env)
    data = refund_xml(R("ACC1", "50.00"), R("ACC2", "10.00", originalTransactionNumber=""))
    assert env.load("b.xml", data) == "done"
    with env.db.transaction() as s:
        s.add_all([PaymentRefund(payer_account_number="ACC4", amount=3000, refund_type="C", status="scheduled",
                                 refund_for_payment_id=ids["p4"]),
                   PaymentRefund(payer_account_number="ACC1", amount=100, refund_type="V", status="scheduled",
                                 refund_for_payment_id=ids["p1"])])
    r = env.job()
    assert r.outcome == "success"
    assert r.counts == {"processed": 2, "rejected": 1, "waiting": 1, "refund_payments": 1, "cancelled_payments": 1}
    with env.db.transaction() as s:
        refunds = {x.refund_id: x for x in s.scalars(select(PaymentRefund))}
        by_acct = {(x.payer_account_number, x.refund_type): x for x in refunds.values()}
        refund = by_acct[("ACC1", "R")]
        assert refund.status == "processed" and refund.refund_payment_id
        new = s.get(CheckPayment, refund.refund_payment_id)
        assert (new.amount, new.status, new.pay_date, new.check_account_number, new.payer_account_number) == (
            -5000, 6, utcnow().astimezone().date(), "123456789", "ACC1")
        assert by_acct[("ACC2", "R")].status == "scheduled"  # original still processed: waits
        assert by_acct[("ACC4", "C")].status == "processed"
        assert s.get(CheckPayment, ids["p4"]).status == int(CheckStatus.CANCELLED)
        assert by_acct[("ACC1", "V")].status == "rejected" and "card payments only" in by_acct[("ACC1", "V")].reason
        ops = sorted((h.payment_id, h.audit_operation, h.job_name) for h in s.scalars(select(CheckPaymentHistory)))
        assert ops == sorted([(new.payment_id, 1001, "submit-SubRfndTsk"), (ids["p4"], 1002, "submit-SubRfndTsk")])
        s.get(CheckPayment, ids["p2"]).status = int(CheckStatus.PAID)
    r = env.job()
    assert r.counts["processed"] == 1 and r.counts["waiting"] == 0
    assert env.job().outcome == "noop"
    with env.db.transaction() as s:
        assert s.scalar(select(func.sum(CheckPayment.amount)).where(CheckPayment.amount < 0)) == -6000
