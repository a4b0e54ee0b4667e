import io
from datetime import date

import pytest

from formats.checkfree import (
    BatchHeader,
    BatchSummary,
    CdpReader,
    Confirmation,
    Detail,
    JournalEntry,
    JournalOutcome,
    ReturnEntry,
    ReturnKind,
    Settlement,
    parse_name,
    read_file,
)

from .helpers import inbound_bytes, inbound_name, join, lines, splice


def det(n: int, status: str, reason: str = "", **kw) -> Detail:
    base: dict = {"transaction_id": f"TX{n:08d}", "amount": 1500 * n, "account_number": f"ACCT-{1000 + n}",
            "payment_date": date(2024, 2, 1), "status": status, "reason_code": reason,
            "confirmation_no": f"CF{n:013d}", "status_date": date(2024, 2, 2)}
    base.update(kw)
    return Detail(**base)


def read(ftype: str, details: list[Detail], **kw):
    data = inbound_bytes(ftype, details, **kw)
    return read_file(io.BytesIO(data), expected_name=parse_name(inbound_name(ftype)))


def test_confirm__accepted_and_rejected_with_reason():
    f = read("confirm", [det(1, "AC"), det(2, "RJ", "E02"), det(3, "RJ", "E99")])
    assert f.ok, f.issues.issues
    a, r, u = f.entries()
    assert isinstance(a, Confirmation) and a.accepted and a.reason == "" and a.transaction_id == "TX00000001"
    assert isinstance(r, Confirmation) and not r.accepted
    assert (r.reason_code, r.reason) == ("E02", "invalid bank account number")
    assert isinstance(u, Confirmation) and (u.accepted, u.reason) == (False, "code E99")
    assert r.amount == 3000 and r.confirmation_no == "CF0000000000002" and r.line == 4


def test_confirm__rejection_without_reason_is_a_warning_not_an_accept():
    f = read("confirm", [det(1, "RJ")])
    (c,) = f.entries()
    assert isinstance(c, Confirmation) and not c.accepted and "no reason code" in c.reason
    assert [i.code for i in f.issues.warnings] == ["missing"]


def test_confirm__unknown_status_is_an_error():
    f = read("confirm", [det(1, "OK")])
    (e,) = f.issues.errors
    assert (e.code, e.field, e.columns, e.line) == ("bad_status", "status", (144, 145), 3)


def test_tranjrnl__per_transaction_status():
    f = read("tranjrnl", [det(1, "AC"), det(2, "ER", "E03"), det(3, "ER")])
    assert f.ok
    a, e, e2 = f.entries()
    assert isinstance(a, JournalEntry) and a.outcome is JournalOutcome.ACCEPTED and not a.failed
    assert isinstance(e, JournalEntry) and e.failed and e.reason == "payment date before the current date"
    assert isinstance(e2, JournalEntry) and e2.failed and e2.reason == "error out (status ER)"


def test_returns__return_and_noc_with_corrected_data():
    f = read("returns", [det(1, "RT", "R01", confirmation_no="021000020000001"),
                         det(2, "NC", "C01", corrected_data="987654321")])
    assert f.ok, f.issues.issues
    r, c = f.entries()
    assert r == ReturnEntry("TX00000001", 1500, ReturnKind.RETURN, "R01", "021000020000001", date(2024, 2, 2),
                            None, "ACCT-1001", 3)
    assert isinstance(c, ReturnEntry) and c.kind is ReturnKind.NOC and c.code == "C01"
    assert c.corrected_data == "987654321"


@pytest.mark.parametrize("d, code, field", [
    (det(1, "RT", "C01"), "bad_return_code", "reason_code"),
    (det(1, "NC", "R01", corrected_data="1"), "bad_return_code", "reason_code"),
    (det(1, "RT", ""), "bad_return_code", "reason_code"),
    (det(1, "NC", "C01"), "missing", "corrected_data"),
    (det(1, "XX", "R01"), "bad_status", "status"),
])
def test_returns__bad_rows(d, code, field):
    f = read("returns", [d])
    assert [(i.code, i.field) for i in f.issues.errors] == [(code, field)]


def test_setlment__settlements():
    f = read("setlment", [det(1, "ST"), det(2, "ST")])
    assert f.ok
    s1, _ = f.entries()
    assert s1 == Settlement("TX00000001", 1500, date(2024, 2, 2), "CF0000000000001", 3)


def test_transumm__batch_summary():
    bh = BatchHeader(batch_no=1, effective_date=date(2024, 2, 1), payee_number="0000012345",
                     description="SUMMARY", summary=BatchSummary(count=2, amount=4500, status="OK"))
    f = read("transumm", [det(1, "AC"), det(2, "AC")], batch=bh)
    assert f.ok, f.issues.issues
    assert f.batches[0].header.summary == BatchSummary(2, 4500, "OK")
    assert all(isinstance(e, Detail) for e in f.entries())


def test_transumm__summary_amount_must_be_numeric():
    bh = BatchHeader(batch_no=1, effective_date=date(2024, 2, 1), summary=BatchSummary(1, 1500, "OK"))
    ls = lines(inbound_bytes("transumm", [det(1, "AC")], batch=bh))
    ls[1] = splice(ls[1], 47, "0000000000150Q")
    f = read_file(io.BytesIO(join(ls)))
    assert [(i.code, i.field, i.columns) for i in f.issues.errors] == [("non_numeric", "summary_amount", (47, 60))]


def test_client_id__exposed_before_entries_are_read():
    data = inbound_bytes("confirm", [det(1, "AC")], client_id="OTHER99")
    reader = CdpReader(io.BytesIO(data), expected_name=parse_name(inbound_name("confirm")))
    header = reader.read_header()
    assert header is not None and header.client_id == "OTHER99"
    assert reader.records == 1
    assert len(list(reader)) == 1 and not reader.issues.errors


def test_inbound_controls_checked():
    ls = lines(inbound_bytes("returns", [det(1, "RT", "R01")]))
    ls[-1] = splice(ls[-1], 13, "00000002")
    f = read_file(io.BytesIO(join(ls)))
    assert [(i.code, i.field) for i in f.issues.errors] == [("control_mismatch", "detail_count")]


def test_inbound_routing_may_be_masked():
    f = read("confirm", [det(1, "AC", routing_number="*****0021", bank_account="****6789")])
    assert f.ok
    (c,) = f.entries()
    assert isinstance(c, Confirmation)
