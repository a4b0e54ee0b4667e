"""``pbs.settle``: payments for paid invoices become surplus, charge-backs reverse what settle booked."""

from __future__ import annotations

import time

from formats.pbs.writer import automatic_payment, build_0602, slip_payment
from handlers.pbs import settle
from store.models.core import Notification
from store.models.pbs import Invoice, InvoicePayment, OcrLine, OcrLineHistory, PaymentSurplus
from tests.pbs.helpers import invoice


def _lines(env) -> dict[tuple[str, str], OcrLine]:
    return {(ln.customer_number, ln.transaction_code): ln for ln in env.rows(OcrLine)}


def test_payment_for_a_paid_invoice_is_surplus_with_its_invoice_number(pbs_env):
    env = pbs_env(policy="strict")
    env.add_invoices(invoice("INV-1", 10000, paid=10000))
    assert env.drop("D1.BS1", build_0602([automatic_payment("7001", "INV-1", 3000)],
                                         delivery_number="0000000101")).state == "done"
    run = env.job("pbs-settle")
    assert run.counts == {"surplus": 1, "amount": 3000}, run.counts
    [line] = env.rows(OcrLine)
    assert line.status == "settled" and "already paid" in line.status_reason
    [surplus] = env.rows(PaymentSurplus)
    [inv] = env.rows(Invoice)
    assert (surplus.amount, surplus.invoice_number, surplus.invoice_id, surplus.customer_number,
            surplus.status) == (3000, "INV-1", inv.id, "7001", "open")
    assert inv.paid_amount == 10000 and env.count(InvoicePayment) == 0
    assert env.job("pbs-settle").outcome == "noop"  # not retried every run


def test_charge_backs_reverse_the_settled_payments(pbs_env):
    env = pbs_env(policy="strict")
    env.add_invoices(invoice("INV-1", 10000), invoice("INV-2", 2500), invoice("INV-3", 5000))
    paid = build_0602([automatic_payment("7001", "INV-1", 10000), automatic_payment("7003", "INV-3", 6000),
                       slip_payment("7002", "INV-2", 2500, "ARCH0000001")], delivery_number="0000000201")
    assert env.drop("D1.BS1", paid).state == "done"
    assert env.job("pbs-settle").counts == {"settled": 3, "amount": 18500}
    back = build_0602([automatic_payment("7001", "INV-1", 10000, code="0239"),
                       automatic_payment("7003", "INV-3", 6000, code="0239"),
                       slip_payment("7002", "INV-2", 2500, "ARCH0000002", code="0299")],
                      delivery_number="0000000202")
    assert env.drop("D2.BS1", back).state == "done"
    run = env.job("pbs-settle")
    assert run.outcome == "success" and run.counts == {"charged_back": 3}, run.counts

    inv = {i.invoice_number: i for i in env.rows(Invoice)}
    assert {n: i.outstanding for n, i in inv.items()} == {"INV-1": 10000, "INV-2": 2500, "INV-3": 5000}
    lines = _lines(env)
    for customer, code, back_code in (("7001", "0236", "0239"), ("7002", "0297", "0299"), ("7003", "0236", "0239")):
        orig, cb = lines[customer, code], lines[customer, back_code]
        assert orig.status == "charged_back" and f"ocr_line {cb.id}" in str(orig.status_reason)
        assert cb.status == "settled" and cb.reverses_line_id == orig.id and cb.invoice_id == orig.invoice_id
        assert "outstanding again" in str(cb.status_reason)
    reversals = {p.ocr_line_id: p.amount for p in env.rows(InvoicePayment) if p.amount < 0}
    assert reversals == {lines["7001", "0239"].id: -10000, lines["7002", "0299"].id: -2500,
                         lines["7003", "0239"].id: -5000}
    [surplus] = env.rows(PaymentSurplus)
    assert (surplus.invoice_number, surplus.status) == ("INV-3", "reversed")

    history = env.rows(OcrLineHistory, OcrLineHistory.id == lines["7001", "0236"].id, order=OcrLineHistory.history_id)
    assert [(h.audit_operation, h.status, h.job_name) for h in history] == [
        (1001, "new", "pbs-pbs.inbound"), (1002, "settled", "pbs-settle-SettleTsk"),
        (1002, "charged_back", "pbs-settle-SettleTsk")]
    assert history[-1].audit_reason == "pbs.settle: charged_back"
    [alert] = env.rows(Notification, Notification.kind == "pbs.chargeback")
    assert alert.recipients == ["ops@example.test"] and "3 charge-back(s)" in alert.subject
    assert alert.body.count("charged back:") == 3 and "INV-1" in alert.body
    assert env.job("pbs-settle").outcome == "noop"


def test_charge_back_of_a_payment_never_received_is_an_exception_with_an_alert(pbs_env):
    env = pbs_env(policy="strict")
    env.add_invoices(invoice("INV-9", 4000))
    data = build_0602([automatic_payment("7009", "INV-9", 4000, code="0239")], delivery_number="0000000301")
    assert env.drop("D3.BS1", data).state == "done"
    assert env.job("pbs-settle").counts == {"exception": 1}
    [line] = env.rows(OcrLine)
    assert line.status == "exception" and "no payment for it was received" in line.status_reason
    assert env.rows(Invoice)[0].paid_amount == 0
    [alert] = env.rows(Notification, Notification.kind == "pbs.chargeback")
    assert "exception:" in alert.body and "INV-9" in alert.body
    assert env.job("pbs-settle").outcome == "noop"


def test_a_charge_back_settled_in_the_same_run_as_its_payment_reverses_it(pbs_env):
    env = pbs_env(policy="strict")
    env.add_invoices(invoice("INV-1", 10000), invoice("INV-2", 4000))
    assert env.drop("D1.BS1", build_0602([automatic_payment("7001", "INV-1", 10000),
                                          automatic_payment("7002", "INV-2", 4000)],
                                         delivery_number="0000000401")).state == "done"
    assert env.drop("D2.BS1", build_0602([automatic_payment("7001", "INV-1", 10000, code="0239")],
                                         delivery_number="0000000402")).state == "done"
    run = env.job("pbs-settle")
    assert run.counts == {"settled": 2, "charged_back": 1, "amount": 14000}, run.counts
    inv = {i.invoice_number: i for i in env.rows(Invoice)}
    assert (inv["INV-1"].outstanding, inv["INV-2"].outstanding) == (10000, 0)
    lines = _lines(env)
    assert sorted((p.ocr_line_id, p.amount) for p in env.rows(InvoicePayment)) == sorted([
        (lines["7001", "0236"].id, 10000), (lines["7002", "0236"].id, 4000), (lines["7001", "0239"].id, -10000)])
    assert lines["7001", "0236"].status == "charged_back"


def test_batches_of_one_line_each_see_what_the_batch_before_them_wrote(pbs_env, monkeypatch):
    """On PostgreSQL a batch is decided while the one before it still commits behind it (writing a
    batch is slowed down here so that it does): the charge-back in batch 2 must find the payment
    batch 1 settled, and the payment in batch 3 must see the invoice outstanding again. The
    invoice's row lock makes each wait for the commit before; the charge-back also waits for it
    explicitly (``_Batch.settled_before``)."""
    record = settle._record

    def slow_record(*args, **kwargs):
        time.sleep(0.3)
        record(*args, **kwargs)

    monkeypatch.setattr(settle, "_record", slow_record)
    env = pbs_env(policy="strict", jobs={"pbs-settle": {"kind": "pbs.settle", "every": "1 day",
                                                        "calendar": "dk-bank", "options": {"batch": 1}}})
    env.add_invoices(invoice("INV-1", 10000))
    data = build_0602([automatic_payment("7001", "INV-1", 10000),
                       automatic_payment("7001", "INV-1", 10000, code="0239"),
                       slip_payment("7001", "INV-1", 3000, "ARCH0000009")], delivery_number="0000000401")
    assert env.drop("D4.BS1", data).state == "done"
    run = env.job("pbs-settle")
    assert run.outcome == "success" and run.counts == {"settled": 2, "charged_back": 1, "amount": 13000}, run.counts
    lines = _lines(env)
    paid, back, slip = lines["7001", "0236"], lines["7001", "0239"], lines["7001", "0297"]
    assert paid.status == "charged_back" and back.reverses_line_id == paid.id
    assert slip.status == "settled" and "partly paid: 7000" in str(slip.status_reason)
    [inv] = env.rows(Invoice)
    assert inv.paid_amount == 3000
    assert sorted(p.amount for p in env.rows(InvoicePayment)) == [-10000, 3000, 10000]
    assert env.count(PaymentSurplus) == 0
    assert env.job("pbs-settle").outcome == "noop"
