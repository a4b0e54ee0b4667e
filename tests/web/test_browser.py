"""The console in a real browser: the distribution's headless Chromium driven by Selenium.

An operator logs in, searches a file, reads its story, retries an error with a reason,
releases a suspended batch, finds both actions on the audit page; a form posted without
its CSRF token is refused; a viewer is refused. Every page is saved as a screenshot under
the test's temporary folder (``screenshots/NN-name.png``).
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from store.models.ach import SuspendedBatch
from store.models.console import OperatorAction
from store.models.core import SpoolFile
from tests.web.conftest import ACCOUNT, NAME, PASSWORDS, Console, db_rows

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebDriver]:
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(exe):
            pytest.fail(f"{exe} is missing: run scripts/install-system-deps.sh (Debian packages chromium, "
                        f"chromium-driver)")
    monkeypatch.setenv("SE_OFFLINE", "true")  # both paths are given: Selenium must never fetch a browser
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1400,1000"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


class Shots:
    def __init__(self, driver: WebDriver, folder: Path) -> None:
        self.driver = driver
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.n = 0

    def __call__(self, name: str) -> Path:
        self.n += 1
        path = self.folder / f"{self.n:02d}-{name}.png"
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1400, max(800, min(int(height) + 40, 4000)))
        assert self.driver.save_screenshot(str(path)), path
        assert path.stat().st_size > 5000, f"{path} looks empty"
        return path


def _wait(driver: WebDriver, css: str) -> None:
    WebDriverWait(driver, 30).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def _click_and_wait(driver: WebDriver, element: WebElement, css: str) -> None:
    """Click, wait until the old page is gone, then for ``css`` on the new one (never the old page's).

    The old page is marked with a window property that a navigation drops. Selenium's
    ``staleness_of`` asks about the old element instead, and Chromium can answer that question
    mid-navigation with a generic error ("Node with given id does not belong to the document").
    Errors while the browser is between two pages are ignored until the deadline.
    """
    driver.execute_script("window.__spoolgateOldPage = true;")
    element.click()
    WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(
            "return window.__spoolgateOldPage === undefined && document.readyState === 'complete';"))
    _wait(driver, css)


def _login(driver: WebDriver, console: Console, user: str) -> None:
    driver.delete_all_cookies()
    driver.get(console.url + "/")
    _wait(driver, "#username")  # a page without a session sends the browser to the login form
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(PASSWORDS[user])
    _click_and_wait(driver, driver.find_element(By.ID, "login"), "#channels")


def _text(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "body").text)


def test_operator_console_in_chromium(console: Console, browser: WebDriver, tmp_path: Path) -> None:
    shot = Shots(browser, tmp_path / "screenshots")
    d, url, ids = browser, console.url, console.ids
    d.get(url + "/login")
    _wait(d, "#username")
    shot("login")
    _login(d, console, "olga")
    assert "drop" in d.find_element(By.ID, "channels").text
    # the daemon that filed the files reported from this host
    assert socket.gethostname() in d.find_element(By.ID, "heartbeats").text
    shot("overview")

    # search by name, open the file's story
    d.get(url + "/files")
    d.find_element(By.NAME, "name").send_keys("returns-")
    _click_and_wait(d, d.find_element(By.ID, "search"), "#results")
    assert "returns-20261130.txt" in d.find_element(By.ID, "results").text
    shot("files-search")
    _click_and_wait(d, d.find_element(By.LINK_TEXT, "returns-20261130.txt"), "#ledger")
    story = _text(d)
    assert "done" in story and "returns-20261130.txt" in story and str(ids["payment"]) in story
    shot("file-story")

    # which inbound file changed payment X, which outbound file carried it
    d.get(url + f"/files?payment={ids['payment']}")
    _wait(d, "#changes")
    assert "returns-20261130.txt" in d.find_element(By.ID, "changes").text
    assert "ACH-SUBMIT-0001.txt" in d.find_element(By.ID, "carried").text
    assert ACCOUNT not in d.page_source and NAME not in d.page_source
    shot("payment-story")

    # the error report, then retry with a reason
    d.get(url + f"/files/{ids['bad']}")
    _wait(d, "#error-report")
    shot("error-story")
    d.get(url + "/errors")
    _wait(d, f"#error-{ids['bad']}")
    shot("errors")
    row = d.find_element(By.ID, f"error-{ids['bad']}")
    row.find_element(By.NAME, "reason").send_keys("upstream resent the file with a fixed header")
    _click_and_wait(d, row.find_element(By.TAG_NAME, "button"), "#msg")
    assert "back in their inbox" in d.find_element(By.ID, "msg").text
    shot("errors-after-retry")
    assert (console.root / "spool/drop/in/bad-batch.txt").exists()
    assert not (console.root / "spool/drop/error/bad-batch.txt").exists()
    assert db_rows(console.db_url, select(SpoolFile.state).where(SpoolFile.id == ids["bad"])) == [("retried",)]

    # risk review: release the held batch with a reason
    d.get(url + "/batches")
    _wait(d, f"#batch-{ids['batch']}")
    shot("risk-review")
    row = d.find_element(By.ID, f"batch-{ids['batch']}")
    assert "suspended" in row.text and "2,500,000.00" in row.text
    row.find_element(By.NAME, "reason").send_keys("treasury approved the December payroll")
    _click_and_wait(d, row.find_element(By.TAG_NAME, "button"), "#msg")
    assert "released" in d.find_element(By.ID, "msg").text
    assert "released" in d.find_element(By.ID, f"batch-{ids['batch']}").text
    shot("risk-review-after-release")
    assert db_rows(console.db_url, select(SuspendedBatch.state, SuspendedBatch.released_by)) == [("released", "olga")]

    # jobs: the timeline picture shows every run, the failure among them
    d.get(url + "/jobs")
    _wait(d, "#timeline svg")
    bars = d.find_elements(By.CSS_SELECTOR, "#timeline svg rect[data-outcome]")
    assert len(bars) == 5 and sum(b.get_attribute("data-outcome") == "failure" for b in bars) == 1
    assert len({b.get_attribute("y") for b in bars}) == 2  # the two overlapping runs are stacked
    shot("jobs")

    # settlement: today's position of the seeded payee, a bar group for it in the chart
    d.get(url + "/settlement")
    _wait(d, "#settlement-chart svg g.party")
    assert "ACME-POWER" in d.find_element(By.ID, "positions").text and "123.45" in _text(d)
    shot("settlement")

    # both actions on the audit page, with who and why
    d.get(url + "/audit")
    _wait(d, "#actions")
    actions = d.find_element(By.ID, "actions").text
    assert "upstream resent the file with a fixed header" in actions
    assert "treasury approved the December payroll" in actions and "olga" in actions
    d.find_element(By.NAME, "value").send_keys(str(ids["payment"]))
    d.execute_script("document.querySelector('input[name=from]').value='2000-01-01';"
                     "document.querySelector('input[name=to]').value='2100-01-01';")
    _click_and_wait(d, d.find_element(By.ID, "audit-search"), "table.history")
    assert "returned R01" in _text(d)
    shot("audit")

    # a state change posted without the CSRF token is refused
    d.get(url + "/jobs")
    _wait(d, "#jobs")
    d.execute_script("""
        const f = document.createElement('form'); f.method = 'post'; f.action = '/jobs/nightly/run';
        const r = document.createElement('input'); r.name = 'reason'; r.value = 'no token'; f.appendChild(r);
        document.body.appendChild(f); f.submit();""")
    _wait(d, "#refused")
    assert "security token" in d.find_element(By.ID, "refused").text
    shot("csrf-refused")

    # a viewer sees the pages but no action, and is refused the audit page
    _login(d, console, "vic")
    d.get(url + "/batches")
    _wait(d, "#batches")
    assert not d.find_elements(By.CSS_SELECTOR, "#batches button")
    d.get(url + "/audit")
    _wait(d, "#refused")
    assert "viewer" in d.find_element(By.ID, "refused").text
    shot("viewer-refused")

    got = [(a.actor, a.action, a.outcome) for (a,) in db_rows(console.db_url,
                                                                select(OperatorAction).order_by(OperatorAction.id))]
    assert got == [("olga", "retry", "ok"), ("olga", "release", "ok")]
    print("screenshots:", *sorted(p.name for p in (tmp_path / "screenshots").iterdir()))
