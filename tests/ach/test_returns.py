"""``ach.returns`` through the pipeline: returns, NOCs, prenote returns, exceptions, rejections, the ack."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from store.models.ach import CheckStatus, PaymentAccountHistory, PaymentLog
from store.models.core import SpoolFile
from tests.ach.builders import Original, Ret, build
from tests.ach.conftest import Env, make_env
from tests.ach.support import R1, R2, R3, import_doc
from tests.support import REPO

TODAY = dt.date(2026, 6, 18)
NS = {"a": "urn:spoolgate:ach:transmission-ack:1"}


def submitted(env: Env) -> Original:
    env.import_(import_doc(TODAY))
    assert env.run("enroll", TODAY).outcome == "success"
    assert env.run("nightly", TODAY).outcome == "success"
    return Original(*(f.read_bytes() for f in env.out_files()))


def by_payer(env: Env) -> dict[tuple[str, int, int], int]:
    return {(p.payer_id, p.amount, p.status): p.payment_id for p in env.payments().values()}


def full_return_file(o: Original) -> tuple[bytes, dict[str, str]]:
    c07 = f"{R1}{'300777'.ljust(17)}37"
    c03 = f"{R3}   222333"
    c06 = f"{'200777'.ljust(17)}   27"
    items = [
        Ret(o.trace_of("100001", prenote=False), "R01"),
        Ret(o.trace_of("200002", prenote=False), "R02"),
        Ret(o.trace_of("600006"), "R03"),
        Ret(o.trace_of("300003", prenote=True), "R03"),
        Ret("091000019999999", "R01"),  # unknown trace
        Ret(o.trace_of("100001", prenote=False), "R01"),  # the same payment again
        Ret(o.trace_of("100001", prenote=False), "C02", R2),
        Ret(o.trace_of("200002", prenote=False), "C03", c03),
        Ret(o.trace_of("100001", prenote=False), "C05", "37"),
        Ret(o.trace_of("200002", prenote=False), "C06", c06),
        Ret(o.trace_of("300003", prenote=True), "C07", c07),
        Ret(o.trace_of("400004", prenote=True), "C01", "400999"),  # WATERCO: no auto-update
    ]
    return build(o, items, swap=True), {"C07": c07, "C03": c03, "C06": c06}


@pytest.mark.parametrize("chunk", [2000, 2], ids=["one-chunk", "chunks-of-2"])
def test_return_file_applies_everything(tmp_path: Path, db_url: str, chunk: int) -> None:
    """In chunks of 2 the same payment is returned again and account A1 corrected again in later
    chunks, while the earlier chunks' writes may still be running behind (PostgreSQL)."""
    env = make_env(tmp_path, db_url, ach={"payees": {"WATERCO": {"noc_auto_update": False}},
                                          "returns_chunk": chunk})
    try:
        o = submitted(env)
        data, corrected = full_return_file(o)
        before = by_payer(env)
        out = env.drop("returns_0618.ach", data)
        assert out.state == "done", out.reason
        assert out.counts == {"batches": 3, "entries": 12, "returns": 3, "prenote_returns": 1, "nocs": 6,
                              "exceptions": 2, "not_returns": 0}
        assert (env.spool / "ach/processed/returns_0618.ach").read_bytes() == data
        pays = env.payments()
        alice = pays[before["alice", 12345, 7]]
        assert (alice.status, alice.txn_err_msg, alice.reminded) == (CheckStatus.RETURNED, "R01", "N")
        assert pays[before["bob", 5000, 7]].txn_err_msg == "R02"
        assert pays[before["frank", 777, 7]].status == CheckStatus.RETURNED
        carol = pays[before["carol", 0, 17]]
        assert (carol.status, carol.txn_err_msg) == (CheckStatus.PRENOTE_RETURNED, "R03")
        log_id = alice.log_id
        assert log_id is not None and carol.log_id == log_id
        nocs = [p for p in pays.values() if p.status == CheckStatus.NOC_RETURNED]
        assert sorted(str(p.txn_err_msg) for p in nocs) == ["C01", "C02", "C03", "C05", "C06", "C07"]
        assert all(p.amount == 0 and p.log_id == log_id for p in nocs)

        accts = env.accounts()
        a1, a2, a3, a4 = accts["A1"], accts["A2"], accts["A3"], accts["A4"]
        assert (a1.routing_transit, a1.account_type, a1.account_number) == (R2, "saving", "100001")
        assert a1.txn_message == "C05::37::27"
        assert (a2.routing_transit, a2.account_number, a2.account_type) == (R3, "200777", "checking")
        assert a2.txn_message == f"C06::{corrected['C06'].strip()}::{'222333'.ljust(17)}   37"
        assert (a3.account_status, a3.routing_transit, a3.account_number, a3.account_type) == (
            "bad_active", R1, "300777", "saving")
        assert a3.txn_message == f"C07::{corrected['C07']}::{R3}{'300003'.ljust(17)}27"
        assert a3.notify_status == "N"
        assert (a4.account_number, a4.txn_message, a4.notify_status) == ("400004", "C01::400999::400004", "N")
        hist = env.all(select(PaymentAccountHistory.txn_message, PaymentAccountHistory.job_name,
                              PaymentAccountHistory.audit_operation)
                       .where(PaymentAccountHistory.pid == "A1").order_by(PaymentAccountHistory.history_id))
        assert [h.txn_message for h in hist[-2:]] == [f"C02::{R2}::{R1}", "C05::37::27"]
        assert {(h.job_name, h.audit_operation) for h in hist[-2:]} == {("ach-ach.returns", 1002)}

        rows = env.all(select(PaymentLog.param_name, PaymentLog.param_value).where(PaymentLog.log_id == log_id))
        report: dict[str, list[str | None]] = {}
        for name, value in rows:
            report.setdefault(name, []).append(value)
        assert report["report_type"] == ["exception"] and sorted(map(str, report["payee"])) == ["UTILCO", "WATERCO"]
        assert len(report["returned_payment"]) == 3
        assert any("no payment with this trace number" in str(e) for e in report["exception"])
        assert any("already returned" in str(e) for e in report["exception"])

        (ack,) = env.out_files("acks/out", "ack_*.xml")
        assert Path(f"{ack}.done").exists()
        doc = etree.fromstring(ack.read_bytes())
        assert doc.findtext("a:Status", namespaces=NS) == "ACCEPTED"
        assert doc.xpath("string(a:Transmission/@fileName)", namespaces=NS) == "returns_0618.ach"
        assert doc.xpath("string(a:Transmission/@sha256)", namespaces=NS) == out_sha(env, "returns_0618.ach")
        assert doc.xpath("string(a:Batches/@count)", namespaces=NS) == "3"
        assert doc.xpath("string(a:Errors/@count)", namespaces=NS) == "2"
        assert {b.get("payee") for b in doc.iterfind("a:Batches/a:Batch", NS)} == {"UTILCO", "WATERCO"}
    finally:
        env.db.dispose()


def out_sha(env: Env, name: str) -> str:
    return str(env.scalar(select(SpoolFile.sha256).where(SpoolFile.original_name == name)))


def test_rejected_files_change_nothing(env: Env) -> None:
    o = submitted(env)
    alice = o.trace_of("100001", prenote=False)
    assert o.header is not None
    before = {p.payment_id: p.status for p in env.payments().values()}
    cases = {
        "unknown_company.ach": build(o, [Ret(alice, "R01")], unknown_company=("NOBODY INC", "9999999999")),
        "unknown_origin.ach": build(o, [Ret(alice, "R01")],
                                    header=replace(o.header, immediate_origin=" 111000025")),
    }
    good = build(o, [Ret(alice, "R01")])
    lines = good.split(b"\n")
    lines[2] = lines[2][:29] + b"00000X2345" + lines[2][39:]  # a letter in the amount
    cases["bad_amount.ach"] = b"\n".join(lines)
    for name, data in cases.items():
        out = env.drop(name, data)
        assert out.state == "error", name
        report = json.loads((env.spool / "ach/error" / f"{name}.error.json").read_text())
        assert (env.spool / "ach/error" / name).read_bytes() == data
        if name == "unknown_company.ach":
            assert "matches no payee" in report["reason"] and report["line"] == 2
        elif name == "unknown_origin.ach":
            assert "match no ACH payee" in report["reason"] and report["record"] == "FileHeader"
        else:
            assert report["line"] == 3 and report["field"] == "amount"
    assert {p.payment_id: p.status for p in env.payments().values()} == before
    assert env.out_files("acks/out", "*") == []
    assert env.scalar(select(PaymentLog.id).where(PaymentLog.param_value == "exception")) is None


def test_ack_through_xslt(tmp_path: Path, db_url: str) -> None:
    env = make_env(tmp_path, db_url, ach={"ack": {"xslt": str(REPO / "etc/ack.xsl"), "name": "ack_{stem}.txt"}})
    try:
        o = submitted(env)
        out = env.drop("r.ach", build(o, [Ret(o.trace_of("200002", prenote=False), "R01")]))
        assert out.state == "done", out.reason
        text = (env.spool / "acks/out/ack_r.txt").read_text()
        assert text.startswith("TRANSMISSION ACK r.ach ACCEPTED\n")
        assert "BATCH 1 UTILITY CO ENTRIES 1 RETURNS 1 NOCS 0" in text and "ERRORS 0" in text
        assert (env.spool / "acks/out/ack_r.txt.done").exists()
    finally:
        env.db.dispose()
