"""``pbs.inbound`` through the pipeline: corpus, built deliveries, bad files, duplicates, receipts."""

from __future__ import annotations

import datetime as dt

import pytest

from formats.pbs.writer import automatic_payment, build_0602, build_0603, mandate_event, slip_payment
from store.models.core import FileState, Notification, SpoolFile
from store.models.pbs import (
    DeliveryState,
    OcrHeader,
    OcrLine,
    Pbs0603Result,
    PbsAgreement,
    PbsDelivery,
    PbsReceivedDelivery,
)
from tests.pbs.helpers import CORPUS


def test_corpus_0602_automatic(pbs_env):
    env = pbs_env()
    out = env.drop("D0602.BS1", (CORPUS / "nets_spec_example_0602_sec0211.txt").read_bytes())
    assert out.state == "done", out.reason
    assert env.processed("D0602.BS1")
    [delivery] = env.rows(PbsReceivedDelivery)
    assert (delivery.delivery_type, delivery.delivery_number) == ("0602", "3589289001")
    [header] = env.rows(OcrHeader)
    assert (header.section, header.line_count, header.delivery_id) == ("0211", 6, delivery.id)
    lines = env.rows(OcrLine)
    assert [(ln.transaction_code, ln.payment_reference, ln.total_amount, ln.status) for ln in lines] == [
        ("0236", "0000000001", 8000, "new"), ("0236", "0000000002", 8450, "new"),
        ("0239", "0000000003", -7450, "new"), ("0236", "0000000004", 8450, "new"),
        ("0237", "0000000005", 0, "new"), ("0238", "0000000007", 0, "new")]
    assert all(isinstance(ln.total_amount, int) for ln in lines)
    assert lines[0].customer_number == "10000000700012" and lines[0].agreement_number is not None
    assert header.total_amount == 8000 + 8450 - 7450 + 8450
    assert out.counts["ocr_lines"] == 6


def test_corpus_0602_automatic_and_slip(pbs_env):
    env = pbs_env()
    out = env.drop("D0602b.BS1", (CORPUS / "nets_spec_example_0602_sec0211_0215.txt").read_bytes())
    assert out.state == "done", out.reason
    headers = env.rows(OcrHeader)
    assert [(h.section, h.line_count) for h in headers] == [("0211", 4), ("0215", 1)]
    slip = env.rows(OcrLine, OcrLine.section == "0215")[0]
    assert (slip.card_type, slip.payment_reference, slip.total_amount, slip.agreement_number) == (
        "71", "001164165", 95500, None)
    assert slip.archive_reference


def test_corpus_0603_updates_agreements_in_the_same_file(pbs_env):
    env = pbs_env()
    out = env.drop("D0603.BS1", (CORPUS / "nets_spec_example_0603_sec0212.txt").read_bytes())
    assert out.state == "done", out.reason
    results = env.rows(Pbs0603Result)
    assert len(results) == 15 and all(r.status == "applied" and r.agreement_id for r in results)
    agreements = {a.customer_number: a for a in env.rows(PbsAgreement)}
    assert len(agreements) == 15
    assert agreements["70027588"].status == "active"
    assert agreements["70027588"].start_date == dt.date(2002, 6, 3)
    assert (agreements["59709763"].status, agreements["59709763"].cancel_reason) == (
        "cancelled", "cancelled_by_creditor")
    assert agreements["70030023"].cancel_reason == "cancelled_by_betalingsservice"
    assert agreements["80033382"].cancel_reason == "cancelled_by_debtor_bank"
    assert agreements["80033382"].end_date == dt.date(2002, 5, 23)


def test_built_0602_signs_and_0603_lifecycle(pbs_env):
    env = pbs_env(policy="strict")
    data = build_0602([automatic_payment("7001", "INV-1", 12345), automatic_payment("7002", "INV-2", 500, code="0239"),
                       slip_payment("7003", "INV3", 999, "ARCH0000001")], delivery_number="0000000042")
    assert env.drop("p.bs1", data).state == "done"
    assert {ln.payment_reference: ln.total_amount for ln in env.rows(OcrLine)} == {
        "INV-1": 12345, "INV-2": -500, "INV3": 999}
    env.drop("m1.bs1", build_0603([mandate_event("7001", "11")], delivery_number="0000000043"))
    env.drop("m2.bs1", build_0603([mandate_event("7001", "11", code="0232", end_date=dt.date(2024, 3, 1))],
                                  delivery_number="0000000044"))
    [agreement] = env.rows(PbsAgreement)
    assert (agreement.agreement_number, agreement.status, agreement.cancel_reason, agreement.end_date) == (
        "000000011", "cancelled", "cancelled_by_debtor_bank", dt.date(2024, 3, 1))
    assert env.count(Pbs0603Result) == 2


def test_duplicate_delivery_number_is_rejected_and_nothing_loaded_twice(pbs_env):
    env = pbs_env(policy="strict")
    first = build_0602([automatic_payment("7001", "INV-1", 100)], delivery_number="0000000077")
    second = build_0602([automatic_payment("7001", "INV-1", 100), automatic_payment("7009", "INV-9", 1)],
                        delivery_number="0000000077")
    assert env.drop("a.bs1", first).state == "done"
    out = env.drop("b.bs1", second)  # other content, same BS002 delivery number
    assert out.state == "error"
    report = env.error_report("b.bs1")
    assert report["code"] == "duplicate_delivery"
    assert "0000000077" in report["reason"] and "already loaded" in report["reason"]
    assert (report["record"], report["field"], report["columns"]) == ("BS002", "delivery_number", [21, 30])
    assert env.count(OcrLine) == 1 and env.count(PbsReceivedDelivery) == 1


def _lines(data: bytes) -> list[str]:
    return data.decode("cp1252").splitlines()


def _join(lines: list[str]) -> bytes:
    return "".join(ln + "\r\n" for ln in lines).encode("cp1252")


GOOD = build_0602([automatic_payment("7001", "INV-1", 100), automatic_payment("7002", "INV-2", 200)],
                  delivery_number="0000000101")


def _truncated() -> bytes:
    return _join(_lines(GOOD)[:-1])


def _wrong_length() -> bytes:
    lines = _lines(GOOD)
    lines[2] = lines[2].ljust(128) + "XYZ"
    return _join(lines)


def _wrong_count() -> bytes:
    lines = _lines(GOOD)
    end = next(i for i, ln in enumerate(lines) if ln.startswith("BS092"))
    lines[end] = lines[end][:28] + "99999999999" + lines[end][39:]
    return _join(lines)


def _wrong_type() -> bytes:
    lines = _lines(GOOD)
    lines[0] = lines[0][:16] + "0601" + lines[0][20:]
    return _join(lines)


def _non_digit_amount() -> bytes:
    lines = _lines(GOOD)
    lines[2] = lines[2][:60] + "X" + lines[2][61:]
    return _join(lines)


@pytest.mark.parametrize(("maker", "record", "field"), [
    (_truncated, "BS992", "record_type"),
    (_wrong_length, "BS042", "record_length"),
    (_wrong_count, "BS092", "count_042"),
    (_wrong_type, "BS002", "delivery_type"),
    (_non_digit_amount, "BS042/0211", "amount"),
])
def test_bad_files_go_to_error_with_record_and_field(pbs_env, maker, record, field):
    env = pbs_env(policy="strict")
    out = env.drop("bad.bs1", maker())
    assert out.state == "error"
    report = env.error_report("bad.bs1")
    assert report["code"] == "format_error" and report["issues"]
    assert report["record"] and report["field"] and report["line"]
    if record:
        assert report["record"] == record
    if field:
        assert report["field"] == field
    assert env.count(OcrLine) == 0 and env.count(OcrHeader) == 0 and env.count(PbsReceivedDelivery) == 0


def test_wrong_count_names_the_count_field(pbs_env):
    env = pbs_env(policy="strict")
    env.drop("bad.bs1", _wrong_count())
    report = env.error_report("bad.bs1")
    assert report["record"] == "BS092" and "count" in report["field"]
    assert report["columns"] and report["value"]


def test_unknown_file_is_rejected_as_wrong_type(pbs_env):
    env = pbs_env()
    out = env.drop("hello.txt", b"hello world\r\n")
    assert out.state == "error"
    report = env.error_report("hello.txt")
    assert report["code"] == "wrong_file_type" and report["field"] == "record_type"


def test_placeholder_ids_need_the_guide_policy(pbs_env):
    env = pbs_env(policy="strict")
    out = env.drop("D0602.BS1", (CORPUS / "nets_spec_example_0602_sec0211.txt").read_bytes())
    assert out.state == "error"
    assert env.error_report("D0602.BS1")["field"] in ("data_supplier", "pbs_number")


def _receipt_41(identifier: str, accepted: int, status: str = "BS00") -> bytes:
    return (f"PBCNET41BS1{identifier}100105123456+{status} LEVERANCE ACCEPTERET\r\n"
            "*********************************************************\r\n"
            "* TILDELT LEVERANCE NR: 2506025001                      *\r\n"
            "* ANTAL RECORDS: 000012                                 *\r\n"
            "* LEVERANCE  SEKTIONER  TEKSTANTAL  BELØBSANTAL  BELØB  *\r\n"
            f"* LEVERANCE 1 0 {accepted} 150,00                       *\r\n"
            "*********************************************************\r\n").encode("cp1252")


def _sent_delivery(env, count: int) -> PbsDelivery:
    d = PbsDelivery(identifier="D0000000000000007", state=DeliveryState.SENT, invoice_count=count,
                    total_amount=15000, agreement_number="000012345", xml_name="PBS_D0000000000000007.xml",
                    zip_name="PBS_D0000000000000007.zip")
    with env.db.transaction() as s:
        s.add(d)
    return d


def test_receipt_matching_the_count_confirms_the_delivery(pbs_env):
    env = pbs_env()
    _sent_delivery(env, 3)
    out = env.drop("V00000001T.AB", _receipt_41("D0000000000000007", 3))
    assert out.state == "done", out.reason
    [d] = env.rows(PbsDelivery)
    assert (d.state, d.accepted_count, d.accepted_amount, d.receipt_delivery_number) == (
        "confirmed", 3, 15000, "2506025001")
    assert d.problem is None and env.count(Notification) == 0


def test_receipt_mismatch_marks_the_delivery_and_alerts(pbs_env):
    env = pbs_env()
    _sent_delivery(env, 3)
    out = env.drop("V00000002T.AB", _receipt_41("D0000000000000007", 2))
    assert out.state == "done", out.reason
    [d] = env.rows(PbsDelivery)
    assert d.state == "mismatch" and "accepted 2" in d.problem and "we sent 3" in d.problem
    [note] = env.rows(Notification)
    assert note.recipients == ["ops@example.test"] and "accepted 2" in note.subject
    assert note.kind == "pbs.receipt" and note.ref == str(d.id)


def test_transmission_receipt_and_rejection(pbs_env):
    env = pbs_env()
    _sent_delivery(env, 3)
    ok = b"PBCNET40BS1D0000000000000007100105123456+PN00DATA ACCEPTERET\r\n"
    assert env.drop("T1.BS1", ok).state == "done"
    assert env.rows(PbsDelivery)[0].state == "transmitted"
    assert env.drop("V3.BS1", _receipt_41("D0000000000000007", 3, status="BS17")).state == "done"
    d = env.rows(PbsDelivery)[0]
    assert d.state == "rejected" and "BS17" in d.problem
    assert env.count(Notification) == 1


def test_receipt_for_an_unknown_delivery_is_an_error(pbs_env):
    env = pbs_env()
    out = env.drop("V9.BS1", _receipt_41("D0000000000000999", 3))
    assert out.state == "error"
    report = env.error_report("V9.BS1")
    assert report["code"] == "unknown_delivery" and report["field"] == "identifier"
    with env.db.transaction() as s:
        assert s.get(SpoolFile, out.file_id).state == FileState.ERROR


def test_config_validation_of_the_pbs_section_routes_and_jobs(tmp_path):
    from daemon.validate import validate
    from store.config import Settings
    from tests.pbs.helpers import pbs_config

    good = Settings(**pbs_config(tmp_path, "sqlite:///x.db"))
    assert validate(good, check_filesystem=False) == []
    bad = pbs_config(tmp_path, "sqlite:///x.db", policy="lenient",
                     jobs={"pbs-transfer": {"kind": "pbs.transfer", "every": "1 h"}})
    bad["pbs"]["payment_type"] = "05"
    problems = validate(Settings(**bad), check_filesystem=False)
    assert any(p.startswith("pbs.payment_type") for p in problems), problems
    bad["pbs"]["payment_type"] = "07"
    problems = validate(Settings(**bad), check_filesystem=False)
    assert any("routes[0].options: policy must be one of" in p for p in problems), problems
    assert any("jobs.pbs-transfer.options: pbs.sftp" in p for p in problems), problems


def test_delivery_receipt_without_its_count_is_not_taken_as_a_match(pbs_env):
    env = pbs_env()
    _sent_delivery(env, 3)
    data = b"".join(ln + b"\r\n" for ln in _receipt_41("D0000000000000007", 3).splitlines()
                    if b"LEVERANCE 1" not in ln)
    assert env.drop("V4.BS1", data).state == "done"
    d = env.rows(PbsDelivery)[0]
    assert d.state == "mismatch" and "no readable LEVERANCE" in d.problem
    assert env.count(Notification) == 1


def test_delivery_without_line_breaks_loads_with_a_tolerance_warning(pbs_env):
    env = pbs_env(policy="strict")
    data = build_0602([automatic_payment(f"{n:04d}", f"INV{n}", 100 + n) for n in range(1, 61)], envelope=True)
    flat = b"".join(line.ljust(128).encode("cp1252") for line in data.decode("cp1252").splitlines())
    out = env.drop("D0602flat.BS1", flat)
    assert out.state == "done", out.reason
    assert out.counts["ocr_lines"] == 60 and env.count(OcrLine) == 60
    assert env.processed("D0602flat.BS1")
    [row] = env.rows(SpoolFile)
    assert [w["code"] for w in row.summary["warnings"]] == ["no_line_breaks"]
    assert env.rows(PbsReceivedDelivery)[0].warnings == 1
