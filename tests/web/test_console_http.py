"""The console's protocol rules against the real ``spoolgate web`` process: the login gate, cookies,
CSRF, roles, the login rate limit, masking in pages and exports, and operator actions from the CLI."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from store.models.ach import SuspendedBatch
from store.models.console import OperatorAction
from store.models.core import SpoolFile
from tests.web.conftest import ACCOUNT, NAME, PASSWORDS, PAYER_ACCOUNT, Console, db_rows

PAGES = ["/", "/files", "/files?name=returns", "/errors", "/batches", "/jobs", "/audit"]


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html[:2000]
    return m.group(1)


def login(c: Console, user: str, password: str | None = None, **headers: str) -> Any:
    client = c.client(**headers)
    token = _csrf(client.get("/login").text)
    r = client.post("/login", data={"username": user, "password": password or PASSWORDS[user], "csrf": token,
                                    "next": "/"})
    assert r.status_code == 303, r.text
    return client


def _actions(c: Console) -> list[OperatorAction]:
    return [r[0] for r in db_rows(c.db_url, select(OperatorAction).order_by(OperatorAction.id))]


def test_no_page_without_login(console: Console) -> None:
    anon = console.client()
    for path in [*PAGES, f"/files/{console.ids['good']}", "/files?payment=1"]:
        r = anon.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
    r = anon.post(f"/errors/{console.ids['bad']}/retry", data={"reason": "x", "csrf": "x"})
    assert r.status_code == 401
    # a forged session cookie is no session
    anon.cookies.set("sg_session", "forged")
    assert anon.get("/").status_code == 303


def test_session_cookie_flags_and_security_headers(console: Console) -> None:
    client = console.client()
    token = _csrf(client.get("/login").text)
    r = client.post("/login", data={"username": "olga", "password": PASSWORDS["olga"], "csrf": token})
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("sg_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    # behind a TLS proxy on loopback (X-Forwarded-Proto: https) the cookie is Secure
    tls = console.client(**{"X-Forwarded-Proto": "https"})
    form = tls.get("/login")
    assert "Secure" in form.headers["set-cookie"]
    token = _csrf(form.text)
    # the client keeps a Secure cookie for https only; the proxy would pass it on, so pass it by hand
    r = tls.post("/login", data={"username": "olga", "password": PASSWORDS["olga"], "csrf": token},
                 headers={"cookie": f"sg_login={token}"})
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("sg_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_login_without_its_csrf_token_is_refused(console: Console) -> None:
    anon = console.client()
    r = anon.post("/login", data={"username": "olga", "password": PASSWORDS["olga"], "csrf": "guess"})
    assert r.status_code == 403 and "sg_session" not in r.headers.get("set-cookie", "")


def test_state_change_without_csrf_is_refused_and_changes_nothing(console: Console) -> None:
    op = login(console, "olga")
    bad = console.ids["bad"]
    r = op.post(f"/errors/{bad}/retry", data={"reason": "fixed upstream"})
    assert r.status_code == 403 and "security token" in r.text
    r = op.post(f"/batches/{console.ids['batch']}/release", data={"reason": "ok", "csrf": "wrong"})
    assert r.status_code == 403
    assert (console.root / "spool/drop/error/bad-batch.txt").exists()
    assert not (console.root / "spool/drop/in/bad-batch.txt").exists()
    assert db_rows(console.db_url, select(SpoolFile.state).where(SpoolFile.id == bad)) == [("error",)]
    assert db_rows(console.db_url, select(SuspendedBatch.state)) == [("suspended",)]
    assert _actions(console) == []


def test_operator_retry_and_release_need_a_reason_and_are_recorded(console: Console) -> None:
    op = login(console, "olga")
    bad, batch = console.ids["bad"], console.ids["batch"]
    token = _csrf(op.get("/errors").text)
    r = op.post(f"/errors/{bad}/retry", data={"reason": "   ", "csrf": token})
    assert r.status_code == 303 and "reason+is+required" in r.headers["location"]
    assert (console.root / "spool/drop/error/bad-batch.txt").exists()
    r = op.post(f"/errors/{bad}/retry", data={"reason": "upstream resent a fixed header", "csrf": token})
    assert r.status_code == 303
    assert (console.root / "spool/drop/in/bad-batch.txt").read_text() == "FAIL on line 1\n"
    assert not (console.root / "spool/drop/error/bad-batch.txt").exists()
    assert not (console.root / "spool/drop/error/bad-batch.txt.error.json").exists()
    assert db_rows(console.db_url, select(SpoolFile.state).where(SpoolFile.id == bad)) == [("retried",)]
    r = op.post(f"/batches/{batch}/release", data={"reason": "treasury approved the payroll run", "csrf": token})
    assert r.status_code == 303
    assert db_rows(console.db_url, select(SuspendedBatch.state, SuspendedBatch.released_by)) == [("released", "olga")]
    # a second release is refused and recorded as refused
    op.post(f"/batches/{batch}/release", data={"reason": "again", "csrf": token})
    r = op.post("/jobs/nightly/run", data={"reason": "rerun after the fix", "csrf": token})
    assert r.status_code == 303
    got = [(a.actor, a.via, a.action, a.target, a.reason, a.outcome) for a in _actions(console)]
    assert got == [
        ("olga", "web", "retry", f"file:{bad}", "upstream resent a fixed header", "ok"),
        ("olga", "web", "release", f"ach-batch:{batch}", "treasury approved the payroll run", "ok"),
        ("olga", "web", "release", f"ach-batch:{batch}", "again", "refused"),
        ("olga", "web", "job-run", "job:nightly", "rerun after the fix", "ok"),
    ]
    audit = op.get("/audit").text
    assert "treasury approved the payroll run" in audit and "upstream resent a fixed header" in audit


def test_viewer_is_refused_every_action_and_the_audit_page(console: Console) -> None:
    viewer = login(console, "vic")
    for path in PAGES[:-1]:
        r = viewer.get(path)
        assert r.status_code == 200, path
        assert "Retry</button>" not in r.text and "Release</button>" not in r.text
    assert viewer.get("/audit").status_code == 403
    token = _csrf(viewer.get("/").text)
    r = viewer.post(f"/errors/{console.ids['bad']}/retry", data={"reason": "let me", "csrf": token})
    assert r.status_code == 403 and "viewer" in r.text
    r = viewer.post(f"/batches/{console.ids['batch']}/release", data={"reason": "let me", "csrf": token})
    assert r.status_code == 403
    assert (console.root / "spool/drop/error/bad-batch.txt").exists()
    assert db_rows(console.db_url, select(SuspendedBatch.state)) == [("suspended",)]
    assert [(a.actor, a.outcome) for a in _actions(console)] == [("vic", "refused"), ("vic", "refused")]
    auditor = login(console, "aud")
    assert auditor.get("/audit").status_code == 200
    r = auditor.post(f"/batches/{console.ids['batch']}/release", data={"reason": "x",
                                                                       "csrf": _csrf(auditor.get("/").text)})
    assert r.status_code == 403


def test_login_is_rate_limited(console: Console) -> None:
    client = console.client()
    for _ in range(5):
        token = _csrf(client.get("/login").text)
        r = client.post("/login", data={"username": "olga", "password": "wrong-password!", "csrf": token})
        assert r.status_code == 401
    token = _csrf(client.get("/login").text)
    r = client.post("/login", data={"username": "olga", "password": PASSWORDS["olga"], "csrf": token})
    assert r.status_code == 429 and "Too many failed logins" in r.text
    assert "sg_session" not in r.headers.get("set-cookie", "")


def test_account_numbers_and_names_are_masked_on_pages_and_exports(console: Console) -> None:
    aud = login(console, "aud")
    pay = console.ids["payment"]
    pages = [aud.get(p).text for p in [*PAGES, f"/files?payment={pay}", f"/files/{console.ids['good']}"]]
    story = pages[-2]
    assert "returns-20261130.txt" in story and "ACH-SUBMIT-0001.txt" in story  # changed by / carried by
    assert "********" + ACCOUNT[-4:] in story and "J. Q. D." in story
    token = _csrf(pages[0])
    for by, value in [("payment_id", str(pay)), ("account", PAYER_ACCOUNT), ("pid", "PID-1")]:
        form = {"csrf": token, "by": by, "value": value, "from": "2000-01-01", "to": "2100-01-01"}
        page = aud.post("/audit", data=form).text
        assert "returned R01" in page, by
        pages.append(page)
        csv = aud.post("/audit.csv", data=form)
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        assert "check_payments_history" in csv.text and "returned R01" in csv.text
        pages.append(csv.text)
    pages.append(aud.post("/audit.csv", data={"csrf": token, "what": "actions"}).text)
    for text in pages:
        assert ACCOUNT not in text and PAYER_ACCOUNT not in text and NAME not in text


def test_cli_actions_are_recorded_with_by_and_reason(console: Console) -> None:
    r = console.cli("retry", str(console.ids["bad"]), "--by", "night-ops", "--reason", "header fixed")
    assert r.returncode == 0, r.stderr
    assert (console.root / "spool/drop/in/bad-batch.txt").exists()
    r = console.cli("release", str(console.ids["batch"]), "--reason", "limit raised for December")
    assert r.returncode == 0, r.stderr
    r = console.cli("release", "999", "--by", "night-ops", "--reason", "typo")
    assert r.returncode == 1
    r = console.cli("jobs", "run", "nightly", "--by", "night-ops", "--reason", "manual check")
    assert r.returncode == 0, r.stderr
    import getpass

    got = [(a.actor, a.via, a.action, a.target, a.reason, a.outcome) for a in _actions(console)]
    assert got[0] == ("night-ops", "cli", "retry", f"file:{console.ids['bad']}", "header fixed", "ok")
    assert got[1] == (getpass.getuser(), "cli", "release", f"ach-batch:{console.ids['batch']}",
                      "limit raised for December", "ok")
    assert got[2] == ("night-ops", "cli", "release", "ach-batch:999", "typo", "refused")
    assert got[3] == ("night-ops", "cli", "job-run", "job:nightly", "manual check", "ok")


def test_users_add_from_the_cli_makes_a_user_who_can_log_in_with_that_role(console: Console) -> None:
    r = console.cli("users", "add", "nina", "--role", "viewer", "--password-stdin", stdin="nina-long-password\n")
    assert r.returncode == 0, r.stderr
    viewer = login(console, "nina", "nina-long-password")
    assert viewer.get("/").status_code == 200
    assert viewer.get("/audit").status_code == 403


def test_users_passwd_ends_sessions_and_remove_locks_out(console: Console) -> None:
    op = login(console, "olga")
    assert op.get("/").status_code == 200
    r = console.cli("users", "passwd", "olga", "--password-stdin", stdin="a-new-long-password\n")
    assert r.returncode == 0, r.stderr
    assert op.get("/").status_code == 303  # the old session is gone
    login(console, "olga", "a-new-long-password")
    assert console.cli("users", "add", "x", "--role", "root", "--password-stdin", stdin="long-enough-pass\n"
                       ).returncode == 2
    assert console.cli("users", "add", "shorty", "--role", "viewer", "--password-stdin", stdin="short\n"
                       ).returncode == 1
    assert console.cli("users", "remove", "vic").returncode == 0
    client = console.client()
    token = _csrf(client.get("/login").text)
    r = client.post("/login", data={"username": "vic", "password": PASSWORDS["vic"], "csrf": token})
    assert r.status_code == 401
