"""0603 mandates: applied by the deliveries' own dates, full lists (0210) end unlisted agreements."""

from __future__ import annotations

import datetime as dt

from formats.pbs.writer import build_0603, mandate_event
from store.models.pbs import Pbs0603Result, PbsAgreement, PbsAgreementHistory

D = dt.date


def _agreements(env) -> dict[str, PbsAgreement]:
    return {a.customer_number: a for a in env.rows(PbsAgreement)}


def test_a_late_march_subscription_does_not_undo_a_november_cancellation(pbs_env):
    env = pbs_env(policy="strict")
    nov = build_0603([mandate_event("C1", "1", code="0232", start_date=D(2024, 3, 1), end_date=D(2024, 11, 30))],
                     created=D(2024, 11, 5), delivery_number="0000000011")
    march = build_0603([mandate_event("C1", "1", code="0231", start_date=D(2024, 3, 1))],
                       created=D(2024, 3, 1), delivery_number="0000000003")
    assert env.drop("M0603_nov.BS1", nov).state == "done"
    out = env.drop("M0603_mar.BS1", march)
    assert out.state == "done" and out.counts.get("agreements_superseded") == 1, out.counts
    [a] = env.rows(PbsAgreement)
    assert (a.status, a.cancel_reason, a.end_date) == ("cancelled", "cancelled_by_debtor_bank", D(2024, 11, 30))
    assert (a.as_of_date, a.as_of_delivery) == (D(2024, 11, 5), "0000000011")
    results = env.rows(Pbs0603Result, order=Pbs0603Result.id)
    assert [(r.transaction_code, r.status) for r in results] == [("0232", "applied"), ("0231", "superseded")]
    history = env.rows(PbsAgreementHistory, order=PbsAgreementHistory.history_id)
    assert [(h.audit_operation, h.status) for h in history] == [(1001, "cancelled")]


def test_in_order_the_cancellation_wins_too(pbs_env):
    env = pbs_env(policy="strict")
    assert env.drop("a.BS1", build_0603([mandate_event("C1", "1", code="0231")], created=D(2024, 3, 1),
                                        delivery_number="0000000003")).state == "done"
    assert env.drop("b.BS1", build_0603([mandate_event("C1", "1", code="0233", end_date=D(2024, 11, 30))],
                                        created=D(2024, 11, 5), delivery_number="0000000011")).state == "done"
    [a] = env.rows(PbsAgreement)
    assert (a.status, a.cancel_reason) == ("cancelled", "cancelled_by_creditor")
    history = env.rows(PbsAgreementHistory, order=PbsAgreementHistory.history_id)
    assert [(h.audit_operation, h.status, h.job_name) for h in history] == [
        (1001, "active", "pbs-pbs.inbound"), (1002, "cancelled", "pbs-pbs.inbound")]


def test_full_list_ends_unlisted_agreements_of_its_creditor_only(pbs_env):
    env = pbs_env(policy="strict")
    other = build_0603([mandate_event("X9", "9", code="0231", pbs_number="07654321")], pbs_number="07654321",
                       created=D(2024, 3, 1), delivery_number="0000000004")
    assert env.drop("subs.BS1", build_0603([mandate_event(c, n, code="0231") for c, n in
                                            (("C1", "1"), ("C2", "2"), ("C3", "3"))],
                                           created=D(2024, 3, 1), delivery_number="0000000003")).state == "done"
    assert env.drop("other.BS1", other).state == "done"
    full = build_0603([mandate_event("C1", "1", code="0230"), mandate_event("C2", "2", code="0230")],
                      created=D(2024, 4, 1), delivery_number="0000000005")
    out = env.drop("full.BS1", full)
    assert out.state == "done" and out.counts["agreements_not_in_full_list"] == 1, out.counts
    a = _agreements(env)
    assert (a["C1"].status, a["C2"].status) == ("active", "active")
    assert (a["C3"].status, a["C3"].cancel_reason, a["C3"].end_date) == ("cancelled", "not in full list",
                                                                        D(2024, 4, 1))
    assert a["X9"].status == "active"  # another creditor's agreement
    [row] = env.rows(PbsAgreementHistory, PbsAgreementHistory.id == a["C3"].id,
                     PbsAgreementHistory.audit_operation == 1002)
    assert row.audit_reason == "0603 0210: not in full list" and row.status == "cancelled"


def test_a_full_list_older_than_the_latest_change_does_not_undo_it(pbs_env):
    env = pbs_env(policy="strict")
    assert env.drop("subs.BS1", build_0603([mandate_event("C1", "1", code="0231"),
                                            mandate_event("C2", "2", code="0231")],
                                           created=D(2024, 3, 1), delivery_number="0000000003")).state == "done"
    may = build_0603([mandate_event("C4", "4", code="0231", start_date=D(2024, 5, 1)),
                      mandate_event("C2", "2", code="0233", end_date=D(2024, 5, 31))],
                     created=D(2024, 5, 1), delivery_number="0000000009")
    assert env.drop("may.BS1", may).state == "done"
    april = build_0603([mandate_event("C1", "1", code="0230"), mandate_event("C2", "2", code="0230")],
                       created=D(2024, 4, 15), delivery_number="0000000007")
    out = env.drop("april.BS1", april)
    assert out.state == "done", out.reason
    a = _agreements(env)
    assert a["C4"].status == "active"  # subscribed by the newer May delivery, absent from the April list
    assert (a["C2"].status, a["C2"].cancel_reason) == ("cancelled", "cancelled_by_creditor")
    assert a["C1"].status == "active"
    assert out.counts.get("agreements_not_in_full_list", 0) == 0 and out.counts["agreements_superseded"] == 1


def test_a_change_in_the_same_delivery_survives_its_full_list(pbs_env):
    from formats.pbs import codes
    from formats.pbs.records.bs002 import DeliveryStart
    from formats.pbs.records.bs012 import SectionStart
    from formats.pbs.writer import SectionData, build_delivery

    env = pbs_env(policy="strict")
    assert env.drop("subs.BS1", build_0603([mandate_event("C1", "1", code="0231")], created=D(2024, 3, 1),
                                           delivery_number="0000000003")).state == "done"
    day = D(2024, 4, 1)
    changes = SectionData(SectionStart("01234567", codes.SECTION_CHANGES, "00001", "", day),
                          [mandate_event("C9", "9", code="0231")])
    full = SectionData(SectionStart("01234567", codes.SECTION_ACTIVE, "00001", "", day),
                       [mandate_event("C1", "1", code="0230")])
    data = build_delivery(DeliveryStart("12345678", "BS1", codes.DELIVERY_0603, "0000000004", day), [changes, full])
    out = env.drop("both.BS1", data)
    assert out.state == "done", out.reason
    a = _agreements(env)
    assert (a["C1"].status, a["C9"].status) == ("active", "active")
    assert out.counts.get("agreements_not_in_full_list", 0) == 0
