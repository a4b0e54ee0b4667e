"""The settlement page and the overview's expected files against the real ``spoolgate web`` process:
a day of ACH and PBS files (the reconciliation test's builders), one late and one met expectation."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from store.calendars import calendar
from store.db import utcnow
from store.models.ach import CheckPayment
from tests.ach.test_settlement import PBS_A, PBS_B, _a_day_of_files, _env
from tests.support import REPO, wait_for, write_config
from tests.web.conftest import ROLES, Console, _add_users, _listening, db_rows, free_port
from tests.web.test_console_http import login

ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
#: due at midnight UTC every day and never matched: late whenever the test runs
LATE_RULE = {"name": "lockbox", "pattern": "LOCKBOX*.ach", "by": "00:00", "timezone": "UTC", "weekdays": ALL_DAYS,
             "recipients": ["ops@example.test"]}
#: the return file of the day arrives before this one's deadline
MET_RULE = {"name": "returns", "pattern": "returns_*.ach", "by": "23:59", "timezone": "UTC", "weekdays": ALL_DAYS,
            "recipients": ["ops@example.test"]}


@pytest.fixture
def console(db_url: str, tmp_path: Path) -> Iterator[Console]:
    env = _env(tmp_path, db_url)
    try:
        _a_day_of_files(env)
    finally:
        env.db.dispose()
    cfg = env.settings.model_dump(mode="json", exclude_none=True)
    cfg["channels"]["ach"]["expectations"] = [LATE_RULE, MET_RULE]
    config = write_config(tmp_path / "spoolgate.toml", cfg)
    _add_users(db_url, ROLES)
    port = free_port()
    log = tmp_path / "web.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "daemon", "--config", str(config), "web", "--port", str(port)],
                                cwd=REPO, stdout=fh, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _listening(port) or proc.poll() is not None, 30, what="spoolgate web listening")
        assert proc.poll() is None, log.read_text()
        c = Console(f"http://127.0.0.1:{port}", tmp_path, config, db_url, {}, proc, log)
        yield c
        for client in c.clients:
            client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _cells(html: str, party: str) -> list[str]:
    m = re.search(rf'<tr class="position" data-party="{party}">(.*?)</tr>', html, re.S)
    assert m, html[:3000]
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", m.group(1), re.S)]


def test_settlement_page_chart_and_csv(console: Console) -> None:
    day = utcnow().date()
    aud = login(console, "aud")
    page = aud.get(f"/settlement?date={day.isoformat()}")
    assert page.status_code == 200
    html = page.text
    # columns: channel party odfi | sent n, debits, credits | ready n, amount | held n, amount | returns n, amount
    #          | prenote returns | NOCs | received n, amount | net | files
    util, water = _cells(html, "UTILCO"), _cells(html, "WATERCO")
    assert util[:6] == ["ACH", "UTILCO", "09100001", "3", "181.22", "0.00"]
    assert util[8:12] == ["0", "0.00", "3", "181.22"] and util[16] == "0.00"
    assert water[:3] == ["ACH", "WATERCO", "09100001"] and water[8:10] == ["2", "63.20"] and water[16] == "0.00"
    assert int(util[12]) + int(water[12]) == 1 and int(util[13]) + int(water[13]) == 6  # prenote returns, NOCs
    assert _cells(html, PBS_A)[14:17] == ["2", "123.46", "123.46"]
    assert _cells(html, PBS_B)[14:17] == ["2", "997.49", "997.49"]

    # the chart: an SVG with one bar group per party, its bars carrying the amounts in cents
    chart = re.search(r'<div id="settlement-chart">(<svg.*?</svg>)</div>', html, re.S)
    assert chart, html[:3000]
    groups = re.findall(r'<g class="party" data-party="([^"]+)"', chart.group(1))
    assert groups == ["UTILCO", "WATERCO", PBS_A, PBS_B]
    util_g = re.search(r'data-party="UTILCO".*?</g>', chart.group(1), re.S)
    assert util_g and 'data-bar="sent debits" data-cents="18122"' in util_g.group(0)
    assert 'data-bar="returned" data-cents="18122"' in util_g.group(0)

    # previous / next business day and the CSV export linked from the page
    cal = calendar("us-fed")
    assert f'href="/settlement?date={cal.add_business_days(day, -1).isoformat()}"' in html
    assert f'href="/settlement?date={cal.add_business_days(day, 1).isoformat()}"' in html
    assert f'href="/settlement.csv?date={day.isoformat()}"' in html
    export = aud.get(f"/settlement.csv?date={day.isoformat()}")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert f"settlement-{day.isoformat()}.csv" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [r["party"] for r in rows] == ["UTILCO", "WATERCO", PBS_A, PBS_B]
    assert (rows[0]["sent_debit"], rows[0]["returns_amount"], rows[0]["net"]) == ("18122", "18122", "0")
    assert (rows[1]["held_over_count"], rows[1]["held_over_debit"]) == ("2", "6320")
    assert rows[2]["net"] == "12346" and rows[3]["net"] == "99749"

    # no account number of the day's payments on the page or in the export (as a number of its own:
    # the short test accounts also occur inside the ODFI)
    accounts = {a for (a,) in db_rows(console.db_url, select(CheckPayment.check_account_number)) if a}
    assert "700007" in accounts
    for text in (html, export.text):
        for a in accounts:
            assert not re.search(rf"(?<![0-9*]){re.escape(a)}(?![0-9])", text), a


def test_settlement_page_default_day_empty_day_and_roles(console: Console) -> None:
    day = utcnow().date()
    for user in ("vic", "olga", "aud"):
        client = login(console, user)
        page = client.get("/settlement")
        assert page.status_code == 200, user
        assert f"Settlement positions for {day.isoformat()}" in page.text and 'data-party="UTILCO"' in page.text
        assert 'href="/settlement"' in page.text  # in the navigation
        assert client.get(f"/settlement.csv?date={day.isoformat()}").status_code == 200
    empty = client.get("/settlement?date=2001-01-01").text
    assert "No settlement activity on this day." in empty and "no activity on this day" in empty
    assert 'class="party"' not in empty
    assert client.get("/settlement.csv?date=2001-01-01").text == ",".join(
        ["day", "channel", "party", "odfi", "sent_count", "sent_debit", "sent_credit", "ready_count", "ready_debit",
         "ready_credit", "held_over_count", "held_over_debit", "held_over_credit", "returns_count", "returns_amount",
         "prenote_returns", "nocs", "received_count", "received_amount", "net"]) + "\n"
    anon = console.client()
    assert anon.get("/settlement").status_code == 303 and anon.get("/settlement.csv").status_code == 303


def test_overview_shows_the_late_expected_file_in_red(console: Console) -> None:
    html = login(console, "vic").get("/").text
    late = re.search(r'<div class="expectation ([^"]*)" data-expectation="lockbox">(.*?)</div>', html, re.S)
    assert late, html[:4000]
    today = dt.datetime.now(dt.UTC).date()
    due = dt.datetime.combine(today, dt.time(0), tzinfo=dt.UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    assert late.group(1) == "late" and "LATE" in late.group(2) and "LOCKBOX*.ach" in late.group(2)
    assert due in late.group(2)
    met = re.search(r'<div class="expectation ([^"]*)" data-expectation="returns">(.*?)</div>', html, re.S)
    assert met and met.group(1) == "met" and "LATE" not in met.group(2) and "returns_0618.ach" in met.group(2)
    assert re.search(r'<div class="n late">1</div>expected files late', html)
    css = login(console, "vic").get("/static/console.css").text
    assert re.search(r"\.late \{[^}]*background: #c62828", css)


def test_settlement_page_refuses_a_bad_date_in_one_line(console: Console) -> None:
    client = login(console, "vic")
    for path in ("/settlement?date=yesterday", "/settlement?date=0001-01-01", "/settlement.csv?date=2026-13-01"):
        r = client.get(path)
        assert r.status_code == 400 and "YYYY-MM-DD" in r.text and "Traceback" not in r.text, path


def test_overview_with_a_rule_check_config_would_refuse_still_shows_the_channels(tmp_path: Path,
                                                                                   sqlite_url: str) -> None:
    from daemon.web import queries
    from store.config import Settings
    from store.db import Database
    from tests.support import archive_config

    settings = Settings(**archive_config(tmp_path, sqlite_url, channel={"expectations": [
        {**LATE_RULE, "weekdays": [], "calendar": "mars"}]}))
    db = Database(sqlite_url)
    try:
        with db.transaction() as s:
            data = queries.overview(s, settings)
    finally:
        db.dispose()
    assert [c["name"] for c in data["channels"]] == ["drop"] and data["channels"][0]["expected"] == []
    assert "mars" in data["expectations_error"] and data["late"] == 0
