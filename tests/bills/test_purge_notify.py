"""bills.purge rules and bills.notify consolidation, sent through a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select, update

from daemon.mailer import Mailer
from store.db import utcnow
from store.models.bills import Bill, BillLineItem, BillNotice, BillUser
from store.models.core import JobRun, Notification
from tests.formats.bills.helpers import bill, bills_bytes

NOW = utcnow()


def _purge_env(bills_env, **options):
    return bills_env(jobs={"purge": {"kind": "bills.purge", "every": "1 day", "options": options}})


def _age(env, bill_ids: list[str], days: int, status: str | None = None) -> None:
    values: dict = {"loaded_at": NOW - dt.timedelta(days=days)}
    if status:
        values["status"] = status
    with env.db.transaction() as s:
        s.execute(update(Bill).where(Bill.bill_id.in_(bill_ids)).values(**values))


def _ids(env) -> list[str]:
    with env.db.transaction() as s:
        return sorted(s.scalars(select(Bill.bill_id)))


def _seed_for_purge(env) -> None:
    assert env.load("p.xml", bills_bytes([bill(n) for n in range(1, 7)])) == "done"
    _age(env, ["B000001"], 100)  # old, published
    _age(env, ["B000002"], 100, "EXPIRED")
    _age(env, ["B000003"], 100, "REJECTED")
    _age(env, ["B000004"], 10, "EXPIRED")  # expired but young


def test_purge_everything_past_the_cutoff_in_chunks(bills_env):
    env = _purge_env(bills_env, older_than_days=30, chunk_size=1)
    _seed_for_purge(env)
    r = env.job("purge")
    assert (r.outcome, r.counts) == ("success", {"bills_purged": 3})
    assert _ids(env) == ["B000004", "B000005", "B000006"]
    with env.db.transaction() as s:
        assert s.scalar(select(func.count(BillLineItem.id))) == 6
    assert env.job("purge").outcome == "noop"


def test_purge_expired_or_rejected_only(bills_env):
    env = _purge_env(bills_env, **{"purge.older.than.Xdays": 30, "purge.exp.rej.only": True})
    _seed_for_purge(env)
    r = env.job("purge")
    assert r.counts == {"bills_purged": 2}
    assert _ids(env) == ["B000001", "B000004", "B000005", "B000006"]


def test_purge_without_a_cutoff_fails_and_deletes_nothing(bills_env):
    env = _purge_env(bills_env)
    _seed_for_purge(env)
    r = env.job("purge")
    assert r.outcome == "failure" and "older_than_days" in r.message
    assert len(_ids(env)) == 6


def _notify_env(bills_env, smtp):
    return bills_env(jobs={"notify": {"kind": "bills.notify", "every": "1 day",
                                      "options": {"few_accounts_max": 3}}},
                     smtp={"host": smtp.host, "port": smtp.port, "sender": "bills@example.com"})


def _users(env) -> None:
    with env.db.transaction() as s:
        s.add_all([BillUser(user_id="solo", email="solo@example.com", name="Solo"),
                   BillUser(user_id="few", email="few@example.com", name="Few"),
                   BillUser(user_id="many", email="many@example.com", name="Many"),
                   BillUser(user_id="quiet", email="quiet@example.com", notify=False)])


def _bills() -> list:
    out = [bill(1, user_id="solo", account_number="ACC-111111", amount_due=5000),
           bill(2, user_id="solo", account_number="ACC-111111", amount_due=2500)]
    out += [bill(10 + k, user_id="few", account_number=f"ACC-2000{k}") for k in range(3)]
    out += [bill(20 + k, user_id="many", account_number=f"ACC-3000{k}") for k in range(5)]
    out += [bill(30, user_id="nobody"), bill(31, user_id="quiet"), bill(32, user_id=None)]
    return out


def _send_all(env) -> int:
    mailer = Mailer(env.settings.smtp, env.db, identity="t")
    total = 0
    while n := mailer.send_pending():
        total += n
    return total


def test_one_message_per_user_per_run_with_the_right_template(bills_env, smtp_server):
    env = _notify_env(bills_env, smtp_server)
    _users(env)
    assert env.load("n.xml", bills_bytes(_bills())) == "done"
    r = env.job("notify")
    assert r.outcome == "success"
    assert r.counts == {"users": 5, "messages": 3, "bills": 12, "no_address": 2}
    assert _send_all(env) == 3
    mails = {m.rcpt_tos[0]: m.message for m in smtp_server.wait_for(3)}
    assert sorted(mails) == ["few@example.com", "many@example.com", "solo@example.com"]
    solo = mails["solo@example.com"]
    assert solo["Subject"] == "New bill for account ******1111"
    assert "(2 bills)" in solo.get_content() and "75.00 USD" in solo.get_content()
    assert "ACC-111111" not in solo.get_content()
    few = mails["few@example.com"]
    assert few["Subject"] == "New bills for 3 of your accounts"
    assert few.get_content().count(" bill, ") == 3
    many = mails["many@example.com"]
    assert "5 new bills are ready for 5 of your accounts" in many.get_content()
    with env.db.transaction() as s:
        assert s.scalar(select(func.count(Bill.id)).where(Bill.notified_run.is_(None))) == 1  # no user
        notices = {n.user_id: (n.accounts, n.bills, n.template) for n in s.scalars(select(BillNotice))}
        lanes = set(s.scalars(select(Notification.lane)))
    assert notices == {"solo": (1, 2, "bill_new_doc_one_account"), "few": (3, 3, "bill_new_doc_few_accounts"),
                       "many": (5, 5, "bill_new_doc_many_accounts"), "nobody": (1, 1, None),
                       "quiet": (1, 1, None)}
    assert lanes == {"bulk"}
    # Consolidated per run only: the next run has nothing new; a new bill gives a new message.
    assert env.job("notify").outcome == "noop"
    assert env.load("n2.xml", bills_bytes([bill(40, user_id="solo", account_number="ACC-444444")])) == "done"
    assert env.job("notify").counts["messages"] == 1
    assert _send_all(env) == 1
    assert len(smtp_server.wait_for(4)) == 4


def test_loaded_bills_wait_until_published(bills_env, smtp_server):
    env = _notify_env(bills_env, smtp_server)
    _users(env)
    assert env.load("l.xml", bills_bytes([bill(1, user_id="solo")])) == "done"
    with env.db.transaction() as s:
        s.execute(update(Bill).values(status="LOADED"))
    assert env.job("notify").outcome == "noop"
    with env.db.transaction() as s:
        s.execute(update(Bill).values(status="PUBLISHED"))
    assert env.job("notify").counts["messages"] == 1


def test_a_failed_run_leaves_everything_pending_for_the_next(bills_env, smtp_server, tmp_path: Path,
                                                               monkeypatch):
    env = _notify_env(bills_env, smtp_server)
    _users(env)
    assert env.load("f.xml", bills_bytes(_bills())) == "done"
    broken = tmp_path / "templates"
    broken.mkdir()
    (broken / "bill_new_doc_many_accounts.txt.j2").write_text("{{ no_such_value }}\n")
    monkeypatch.setenv("SPOOLGATE_TEMPLATES", str(broken))
    r = env.job("notify")
    assert r.outcome == "failure" and "no_such_value" in r.message
    with env.db.transaction() as s:
        assert s.scalar(select(func.count(Notification.id))) == 0
        assert s.scalar(select(func.count(BillNotice.id))) == 0
        assert s.scalar(select(func.count(Bill.id)).where(Bill.notified_run.is_(None))) == 13
    monkeypatch.delenv("SPOOLGATE_TEMPLATES")
    r = env.job("notify")
    assert r.outcome == "success" and r.counts["messages"] == 3
    with env.db.transaction() as s:
        run = s.scalar(select(JobRun).where(JobRun.id == r.run_id))
        assert run.outcome == "success"
    assert _send_all(env) == 3
