"""bills.load through the in-process pipeline: where each file ends up and what the database holds."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from store.models.bills import AuditEvent, Bill, BillLineItem, decode_bill_data
from store.models.core import Notification, SpoolFile
from tests.formats.bills.helpers import bill, bills_bytes, one_bill
from tests.support import files_in

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE bills [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bills version="1"><bill><billId>&xxe;</billId></bill></bills>
"""


def _counts(env) -> tuple[int, int]:
    with env.db.transaction() as s:
        return s.scalar(select(func.count(Bill.id))), s.scalar(select(func.count(BillLineItem.id)))


def _report(env, name: str) -> dict:
    return json.loads((env.channel.error / f"{name}.error.json").read_text())


def test_valid_file_loads_every_bill_with_line_items(bills_env):
    env = bills_env()
    data = bills_bytes([bill(n) for n in range(1, 6)] + [bill(6, line_items=(), user_id=None, pdf_ref=None)])
    assert env.load("jan.xml", data) == "done"
    [placed] = files_in(env.channel.processed)
    assert placed.name == "jan.xml" and placed.read_bytes() == data
    assert files_in(env.channel.error) == []
    assert _counts(env) == (6, 10)
    with env.db.transaction() as s:
        b = s.scalar(select(Bill).where(Bill.bill_id == "B000002"))
        assert (b.account_number, b.user_id, b.amount_due, b.minimum_amount_due, b.currency) == (
            "ACC-1002", "user2", 12345, 1000, "USD")
        assert b.status == "PUBLISHED" and b.data is None and b.line_count == 2 and b.notified_run is None
        items = s.execute(select(BillLineItem.position, BillLineItem.description, BillLineItem.amount,
                                 BillLineItem.code).where(BillLineItem.bill_pk == b.id)
                          .order_by(BillLineItem.position)).all()
        assert items == [(1, "Energy", 10000, "E1"), (2, "Tax", 2345, None)]
        row = s.scalar(select(SpoolFile))
        assert row.counts == {"bills": 6, "line_items": 10}
        assert row.totals == {"amount_due": 6 * 12345}
        ev = s.scalar(select(AuditEvent))
        assert ev.event_type == "bills_loaded" and ev.detail["bills"] == 6 and ev.job_name == "bills-bills.load"


def test_compressed_data_and_loaded_status_per_route(bills_env):
    env = bills_env(route_options={"loaded_status": "LOADED", "data_compress": True, "batch_size": 2})
    assert env.load("feb.xml", bills_bytes([bill(n) for n in range(1, 6)])) == "done"
    assert _counts(env) == (5, 0)
    with env.db.transaction() as s:
        rows = s.scalars(select(Bill).order_by(Bill.id)).all()
        assert {r.status for r in rows} == {"LOADED"}
        assert {r.data_encoding for r in rows} == {"zlib+json"}
        doc = decode_bill_data(rows[2].data, rows[2].data_encoding)
    assert doc["billId"] == "B000003" and doc["amountDue"] == 12345
    assert doc["lineItems"] == [{"description": "Energy", "amount": 10000, "code": "E1"},
                                {"description": "Tax", "amount": 2345, "code": None}]


def test_malformed_xml_goes_to_error_with_line_and_column(bills_env):
    env = bills_env()
    data = one_bill().replace(b"</payerName>", b"</payerNam>")
    assert env.load("broken.xml", data) == "error"
    assert [p.name for p in files_in(env.channel.error)] == ["broken.xml"]
    assert files_in(env.channel.processed) == []
    rep = _report(env, "broken.xml")
    assert rep["line"] == 5 and rep["columns"] and rep["columns"][0] > 1, rep
    assert _counts(env) == (0, 0)


def test_xxe_payload_is_refused_and_nothing_is_read(bills_env):
    env = bills_env()
    assert env.load("xxe.xml", XXE) == "error"
    assert [p.name for p in files_in(env.channel.error)] == ["xxe.xml"]
    text = (env.channel.error / "xxe.xml.error.json").read_text()
    assert "root:" not in text and "DOCTYPE" in text.upper()
    assert _counts(env) == (0, 0)


def test_one_bad_bill_rejects_the_whole_file_and_reports_every_problem(bills_env):
    env = bills_env(route_options={"batch_size": 2})
    good = [bill(n) for n in range(1, 5)]
    data = bills_bytes(good).replace(b"<amountDue>123.45</amountDue>", b"<amountDue>12x.45</amountDue>", 1)
    data = data.replace(b"<currency>USD</currency>", b"<currency>usd</currency>", 3)
    assert env.load("bad.xml", data) == "error"
    rep = _report(env, "bad.xml")
    codes = [i["code"] for i in rep["issues"]]
    assert codes == ["bad_amount", "bad_currency", "bad_currency", "bad_currency"], codes
    amount = rep["issues"][0]
    assert (amount["record"], amount["field"], amount["value"]) == ("bill B000001", "amountDue", "12x.45")
    assert amount["line"] and amount["line"] < rep["issues"][3]["line"]
    assert _counts(env) == (0, 0)


def test_a_bill_already_loaded_rejects_the_later_file(bills_env):
    env = bills_env()
    assert env.load("a.xml", bills_bytes([bill(1), bill(2)])) == "done"
    assert env.load("b.xml", bills_bytes([bill(3), bill(2, account_number="ACC-99999")])) == "error"
    rep = _report(env, "b.xml")
    assert rep["code"] == "bill_exists" or rep["issues"][0]["code"] == "bill_exists", rep
    with env.db.transaction() as s:
        assert sorted(s.scalars(select(Bill.bill_id))) == ["B000001", "B000002"]


def test_file_without_bills_is_a_noop_that_notifies(bills_env):
    env = bills_env()
    assert env.load("empty.xml", b'<?xml version="1.0"?>\n<bills version="1"/>\n') == "done"
    assert [p.name for p in files_in(env.channel.processed)] == ["empty.xml"]
    with env.db.transaction() as s:
        n = s.scalar(select(Notification))
        assert n.recipients == ["ops@example.com"] and n.lane == "immediate" and n.kind == "bills-noop"
        assert "nothing to do" in n.subject and "empty.xml" in n.body
        assert s.scalar(select(SpoolFile)).counts == {"bills": 0, "line_items": 0}


def test_route_options_are_checked(bills_env, tmp_path: Path):
    from daemon.validate import validate

    env = bills_env(route_options={"loaded_status": "SHOWN", "colour": 1})
    problems = validate(env.settings, check_filesystem=False)
    assert any("unknown option 'colour'" in p for p in problems)
    assert any("loaded_status must be LOADED or PUBLISHED" in p for p in problems)
