"""The set-based step of recurring-payments against the general path: the same seeded database run once
with ``set_based: false`` and once with the default, every table the job writes dumped (ids mapped to
natural keys, the notification's queue time left out) and compared; and the step must have taken exactly
the setups seeded as its common case (on PostgreSQL it takes none: the general path runs alone)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from datetime import date as D
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from handlers.recurring import setbased
from handlers.recurring.dates import local_midnight
from store.models.ach import CheckPayment, CheckPaymentHistory, PaymentAccount
from store.models.bills import Bill
from store.models.core import Notification
from store.models.recurring import (
    NEVER_PAID,
    NO_DUE_DATE,
    UNLIMITED,
    PaymentBillSummary,
    PaymentBillSummaryHistory,
    PaymentEmailHistory,
    RecurringPayment,
    RecurringPaymentAccount,
    RecurringPaymentHistory,
)
from tests.recurring.support import Env, at, default_jobs, make_env
from tests.recurring.test_jobs import _install_hook

RUN = at(2030, 3, 10, 5, 0)
LPT_MID = local_midnight(D(2030, 2, 8))  # first document date 2030-02-08
LPT_RUN = dt.datetime(2030, 3, 5, 5, 0).astimezone()  # first document date 2030-03-06
BILL = (D(2030, 3, 8), D(2030, 3, 12), 5000, 500, "PUBLISHED")
SEEDED = dt.datetime(2030, 3, 1, 12, 0, tzinfo=dt.UTC)
GOOD_PIDS = ("A1", "A2", "P-pnd", "P-null")


def _cases() -> list[tuple[bool, dict[str, Any], list[tuple[Any, ...]], dict[str, Any]]]:
    """(taken by the set-based step, setup columns, bills of its account, extra rows)."""
    c: list[tuple[bool, dict[str, Any], list[tuple[Any, ...]], dict[str, Any]]] = []
    for k in range(30):  # the common case, varied
        c.append((True, {"amount_type": "min_due" if k % 3 == 1 else "amount_due", "days_before_due": 1 + k % 3,
                         "pid": GOOD_PIDS[k % 4], "last_process_time": LPT_RUN if k % 2 else LPT_MID,
                         "payer_email_addr": None if k % 10 == 0 else f"c{k}@example.test"}, [BILL], {}))
    d = D
    c += [
        (True, {}, [(*BILL[:4], "LOADED")], {}),
        (True, {}, [BILL, (d(2030, 3, 7), d(2030, 3, 20), 1, 1, "EXPIRED")], {}),
        (False, {}, [BILL, (d(2030, 3, 9), d(2030, 3, 11), 700, 70, "PUBLISHED")], {}),  # two bills
        # window bounds
        (True, {"last_process_time": LPT_RUN}, [(d(2030, 3, 6), *BILL[1:])], {}),
        (False, {"last_process_time": LPT_RUN}, [(d(2030, 3, 5), *BILL[1:])], {}),
        (True, {"last_process_time": LPT_RUN}, [(d(2030, 3, 5), d(2030, 3, 11), 9, 9, "PUBLISHED"),
                                                 (d(2030, 3, 7), *BILL[1:])], {}),
        (True, {"last_process_time": LPT_MID}, [(d(2030, 2, 8), *BILL[1:])], {}),
        (True, {"last_process_time": LPT_MID}, [(d(2030, 2, 7), d(2030, 2, 20), 9, 9, "PUBLISHED"), BILL], {}),
        (True, {"last_process_time": local_midnight(d(2030, 3, 6))}, [(d(2030, 3, 6), *BILL[1:])], {}),
        (True, {"last_process_time": dt.datetime(2030, 3, 5, 23, 59).astimezone()},
         [(d(2030, 3, 6), *BILL[1:])], {}),
        (False, {"last_process_time": dt.datetime(2030, 3, 6, 0, 1).astimezone()},
         [(d(2030, 3, 6), *BILL[1:])], {}),
        (True, {}, [(d(2030, 3, 10), *BILL[1:])], {}),
        (False, {}, [(d(2030, 3, 11), *BILL[1:])], {}),
        (False, {}, [(d(2030, 3, 8), d(2030, 3, 25), 5000, 500, "PUBLISHED")], {}),  # beyond the horizon
        # summaries already there
        (False, {}, [BILL], {"summary": ("active", d(2030, 2, 8), d(2030, 2, 12))}),
        (False, {}, [BILL], {"summary": ("scheduled", d(2030, 3, 1), d(2030, 3, 12))}),  # rebill, nothing to cancel
        (False, {}, [BILL], {"summary": ("scheduled", d(2030, 3, 1), d(2030, 3, 15))}),
        (True, {}, [BILL], {"summary": ("scheduled", d(2030, 2, 8), d(2030, 2, 12))}),
        (True, {}, [BILL], {"summary": ("superseded", d(2030, 3, 1), d(2030, 3, 12))}),
        # payment accounts
        (False, {"pid": "P-bad"}, [BILL], {}),
        (False, {"pid": "P-inactive"}, [BILL], {}),
        (False, {"pid": "P-missing"}, [BILL], {}),
        # limits, counts, dates, amounts
        (True, {"amount_limit": "less_than", "amount": 5001}, [BILL], {}),
        (False, {"amount_limit": "less_than", "amount": 5000}, [BILL], {}),
        (True, {"amount_limit": "up_to", "amount": 5000}, [BILL], {}),
        (False, {"amount_limit": "up_to", "amount": 4999}, [BILL], {}),
        (True, {"curr_num_payments": 3, "max_num_payments": 5}, [BILL], {}),
        (False, {"curr_num_payments": 4, "max_num_payments": 5}, [BILL], {}),
        (True, {"end_date": d(2030, 3, 11)}, [BILL], {}),
        (False, {"end_date": d(2030, 3, 10)}, [BILL], {}),
        (False, {"end_date": d(2030, 3, 9)}, [BILL], {}),
        (False, {}, [(*BILL[:2], 0, 0, "PUBLISHED")], {}),
        (False, {"amount_type": "min_due"}, [(*BILL[:2], 5000, 0, "PUBLISHED")], {}),
        (False, {"amount_type": "fixed", "amount": 1234}, [BILL], {}),
        (False, {"pay_date_type": "monthly", "pay_day": 11}, [BILL], {}),
        (False, {"bill_scheduled": "N", "next_pay_date": d(2030, 3, 11)}, [BILL],
         {"summary": ("active", d(2030, 3, 8), d(2030, 3, 12))}),
        (False, {"status": "inactive"}, [BILL], {}),
        # values the e-mail shows, masked, trimmed and escaped as the general path does
        (True, {}, [BILL], {"account": " 1234 "}),
        (True, {}, [BILL], {"account": "12"}),
        (True, {}, [BILL], {"account": "\u2003ÄC\u00a05678\u3000"}),
        (True, {"setup_ref": " S-ref\twith\u2003spaces \n and a second line "}, [BILL], {}),
        (True, {"payer_email_addr": "çé\"q@example.test"}, [BILL], {}),
        (True, {"payer_email_addr": ""}, [BILL], {}),
        (True, {"user_id": "ü9"}, [(*BILL[:2], 7, 0, "PUBLISHED")], {}),
        # the setup's accounts
        (True, {}, [BILL], {"accounts": ["self"]}),
        (False, {}, [BILL], {"accounts": ["self", "other"]}),
        (False, {}, [BILL], {"accounts": ["other"]}),
    ]
    return c


def _seed(env: Env) -> int:
    env.import_base()
    cases = _cases()
    with env.db.transaction() as s:
        for pid, status in (("P-pnd", "pnd_active"), ("P-null", None), ("P-bad", "bad_active"),
                            ("P-inactive", "inactive")):
            s.add(PaymentAccount(pid=pid, user_id="u9", ddn="UTILCO",
                                 account_holder_name=f"HÔLDER {pid}".ljust(40, "Ü"),
                                 account_number=f"9{len(pid)}", routing_transit="011000015", account_status=status,
                                 account_type="" if pid == "P-null" else None))
        s.flush()
        for k, (_, over, bills, extra) in enumerate(cases):
            acct = extra.get("account", f"ACC{k:04d}")
            cols: dict[str, Any] = {
                "setup_ref": f"S{k:04d}", "user_id": f"u{k % 7}", "payee_id": 1, "pid": "A1",
                "payer_account_number": acct, "payer_email_addr": f"c{k}@example.test", "amount_type": "amount_due",
                "pay_date_type": "before_due", "days_before_due": 1, "start_date": D(2030, 1, 1),
                "end_date": NO_DUE_DATE, "max_num_payments": UNLIMITED, "bill_scheduled": "Y", "status": "active",
                "last_process_time": LPT_RUN, "last_pay_date": NEVER_PAID, "next_pay_date": NO_DUE_DATE,
                "curr_num_payments": 0, "expiry_notified": "N", "create_time": SEEDED, "last_modify_time": SEEDED,
                **over}
            rp = RecurringPayment(**cols)
            s.add(rp)
            s.flush()
            for n, (doc, due, amount, minimum, status) in enumerate(bills):
                s.add(Bill(bill_id=f"B{k:04d}-{n}", account_number=acct, user_id="u1", payer_name="X",
                           document_date=doc, due_date=due, amount_due=amount, minimum_amount_due=minimum,
                           currency="USD", status=status))
            for a in extra.get("accounts", []):
                s.add(RecurringPaymentAccount(recurring_id=rp.recurring_id,
                                              payer_account_number=acct if a == "self" else f"OTHER{k}"))
            if "summary" in extra:
                st, doc, due = extra["summary"]
                s.add(PaymentBillSummary(recurring_id=rp.recurring_id, doc_id=f"OLD{k}", payer_account_number=acct,
                                         doc_date=doc, due_date=due, amount_due=100, min_amount_due=10, status=st,
                                         create_time=SEEDED, last_modify_time=SEEDED))
    return sum(1 for fast, *_ in cases if fast)


def _dump(env: Env) -> dict[str, Any]:
    """Every table the job writes, ids replaced by natural keys, in a canonical order."""
    with env.db.transaction() as s:
        def rows(model: Any) -> list[dict[str, Any]]:
            return [dict(m) for m in s.execute(select(model.__table__)).mappings()]

        pays, summs = rows(CheckPayment), rows(PaymentBillSummary)
        pay_key = {p["payment_id"]: ("pay", p["flexible_field_1"], p["bill_id"]) for p in pays}
        summ_key = {m["bill_id"]: ("summary", m["recurring_id"], m["doc_id"]) for m in summs}
        assert len(pay_key) == len(set(pay_key.values())) and len(summ_key) == len(set(summ_key.values()))

        def norm(r: dict[str, Any], drop: tuple[str, ...] = ()) -> dict[str, Any]:
            out = {k: v for k, v in r.items() if k not in drop}
            if out.get("payment_id") is not None:
                out["payment_id"] = pay_key[out["payment_id"]]
            return out

        def summary(r: dict[str, Any]) -> dict[str, Any]:
            out = norm(r, ("history_id",))
            out["bill_id"] = summ_key[out["bill_id"]]
            return out

        def setup(r: dict[str, Any]) -> dict[str, Any]:
            out = norm(r, ("history_id",))
            if out["bill_id"] is not None:
                out["bill_id"] = summ_key[out["bill_id"]]
            return out

        def canon(rs: list[dict[str, Any]]) -> list[str]:
            return sorted(repr(sorted(r.items())) for r in rs)

        return {
            "check_payments": canon([norm(p) for p in pays]),
            "check_payments_history": canon([norm(p, ("history_id",)) for p in rows(CheckPaymentHistory)]),
            "payment_bill_summaries": canon([summary(m) for m in summs]),
            "payment_bill_summaries_history": canon([summary(m) for m in rows(PaymentBillSummaryHistory)]),
            "recurring_payments": canon([setup(r) for r in rows(RecurringPayment)]),
            "recurring_payments_history": canon([setup(r) for r in rows(RecurringPaymentHistory)]),
            "notifications": canon([norm(n, ("id", "created_at")) for n in rows(Notification)]),
            "payment_email_history": canon([norm(h, ("history_id", "notification_id"))
                                            for h in rows(PaymentEmailHistory)]),
        }


#: operator templates (``$SPOOLGATE_TEMPLATES``): names in the subject line, whose values carry blanks and
#: line breaks; and one with a filter, which the step cannot join in SQL (rendered in Python instead)
TEMPLATES = {
    "names": "{{ setup }} {{ account }} for {{ amount }}\n\n\n{{ email }} {{ user_id }} {{ recurring_id }} "
             "{{ pay_date }} {{ setup }}",
    "filter": "Payment of {{ amount | trim }} on {{ pay_date }}\n{{ setup }} {{ account }}",
}

VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "audited": {"audit_notifications": True},
    "template_names": {"audit_notifications": True, "template": "names"},
    "template_filter": {"template": "filter", "chunk": 9},
    "options": {"email_on_schedule": False, "cancel_if_account_invalid": False, "audit_notifications": True,
                "chunk": 7},
    "hooks": {"hooks": ["double"], "audit_notifications": True},
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_setbased_writes_what_the_general_path_writes(tmp_path: Path, db_url: str, second_url: str, variant: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    options = dict(VARIANTS[variant])
    if "hooks" in options:
        _install_hook(tmp_path, monkeypatch)
    if "template" in options:
        folder = tmp_path / "templates"
        folder.mkdir()
        (folder / "recurring_scheduled.txt.j2").write_text(TEMPLATES[options.pop("template")], encoding="utf-8")
        monkeypatch.setenv("SPOOLGATE_TEMPLATES", str(folder))
    taken: list[int] = []
    step = setbased.step

    def counting(*args: Any) -> int:
        n = step(*args)
        taken.append(n)
        return n

    monkeypatch.setattr(setbased, "step", counting)
    dumps, counts = [], []
    for name, fast in (("general", False), ("fast", True)):
        url = db_url if name == "general" else second_url
        env = make_env(tmp_path / name, url, jobs=default_jobs(**options, set_based=fast))
        try:
            expected = _seed(env)
            out = env.run("recurring-payments", RUN)
            counts.append(out.counts)
            dumps.append(_dump(env))
            if fast:
                _assert_step_order(env, sum(taken), one_chunk="chunk" not in options)
        finally:
            env.db.dispose()
        if not fast:
            assert taken == []
    general, fast_dump = dumps
    for table in general:
        assert fast_dump[table] == general[table], table
    assert counts[1] == counts[0]
    assert counts[0]["scheduled"] >= expected
    sqlite = db_url.startswith("sqlite")
    assert sum(taken) == (expected if sqlite and "hooks" not in options else 0)


@pytest.fixture
def second_url(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> Iterator[str]:
    """A second fresh database of ``db_url``'s backend."""
    if db_url.startswith("sqlite"):
        path = tmp_path / "second.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    from tests.conftest import drop_pg, fresh_pg

    url, name = fresh_pg(request.getfixturevalue("_pg_template"))
    yield url
    drop_pg(name)


def _assert_step_order(env: Env, taken: int, *, one_chunk: bool) -> None:
    """What the dumps leave out (ids): each audited notice names its own e-mail; in a run of one chunk the
    step's payments (numbered first) go in (payer_id, pid) order, and its summaries and e-mails in setup
    order, as the general path numbers a chunk."""
    with env.db.transaction() as s:
        notes = {n.id: n for n in s.scalars(select(Notification))}
        for h in s.scalars(select(PaymentEmailHistory)):
            assert h.notification_id is not None
            n = notes[h.notification_id]
            assert n.recipients == [h.recipient] and h.content == (n.body[:100] or None)
        if not one_chunk or not taken:
            return
        pays = s.execute(select(CheckPayment.payer_id, CheckPayment.pid, CheckPayment.flexible_field_1)
                         .order_by(CheckPayment.payment_id).limit(taken)).all()
        assert [tuple(p[:2]) for p in pays] == sorted(tuple(p[:2]) for p in pays)
        rids = set(s.scalars(select(RecurringPayment.recurring_id)
                             .where(RecurringPayment.setup_ref.in_([p[2] for p in pays]))))
        summs = s.scalars(select(PaymentBillSummary.recurring_id).where(PaymentBillSummary.recurring_id.in_(rids),
                                                                        PaymentBillSummary.doc_id.like("B%"))
                          .order_by(PaymentBillSummary.bill_id)).all()
        assert len(summs) == taken and list(summs) == sorted(summs)
        noticed = [int(h.ref_id) for h in s.scalars(select(PaymentEmailHistory)
                                                     .order_by(PaymentEmailHistory.notification_id))]
        mine = [r for r in noticed if r in rids]
        assert mine == sorted(mine) and noticed[:len(mine)] == mine
