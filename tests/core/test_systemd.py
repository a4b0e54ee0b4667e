"""The shipped unit passes systemd-analyze verify and its security exposure is at most 2.0."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import REPO

UNIT = REPO / "systemd/spoolgate.service"


@pytest.fixture
def unit_here(tmp_path: Path) -> Path:
    """The unit with its executable pointed at this checkout's venv (verify checks the path exists)."""
    import sys

    exe = str(Path(sys.executable).parent / "spoolgate")
    assert Path(exe).exists(), "spoolgate console script not installed"
    text = UNIT.read_text().replace("/opt/spoolgate/.venv/bin/spoolgate", exe)
    out = tmp_path / "spoolgate.service"
    out.write_text(text)
    return out


def _analyze() -> str:
    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.fail("systemd-analyze is missing: run scripts/install-system-deps.sh (package systemd)")
    return exe


def test_unit_verifies(unit_here: Path) -> None:
    r = subprocess.run([_analyze(), "verify", str(unit_here)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_unit_security_exposure_at_most_2(unit_here: Path) -> None:
    r = subprocess.run([_analyze(), "security", "--offline=true", str(unit_here)], capture_output=True,
                       text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout + r.stderr)
    assert m, r.stdout + r.stderr
    assert float(m.group(1)) <= 2.0, r.stdout


def test_unit_contract() -> None:
    text = UNIT.read_text()
    for line in ("Type=notify", "WatchdogSec=", "RestartPreventExitStatus=78", "ProtectSystem=strict",
                 "NoNewPrivileges=yes", "PrivateTmp=yes", "ReadWritePaths=", "ExecReload=/bin/kill -HUP $MAINPID"):
        assert line in text, line


SYSUSERS = REPO / "systemd/spoolgate.sysusers"
TMPFILES = REPO / "systemd/spoolgate.tmpfiles"


def _systemd_tool(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        pytest.fail(f"{name} is missing: run scripts/install-system-deps.sh (package systemd)")
    return exe


def test_sysusers_and_tmpfiles_build_the_tree_the_unit_needs(tmp_path: Path) -> None:
    """In a scratch root: the user exists, and every folder the unit and the production sample use."""
    import os

    from handlers.checkfree.settings import checkfree
    from store.config import load

    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    r = subprocess.run([_systemd_tool("systemd-sysusers"), f"--root={root}", str(SYSUSERS)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    users = {line.split(":")[0]: line.split(":") for line in (root / "etc/passwd").read_text().splitlines()}
    assert "spoolgate" in users and users["spoolgate"][5] == "/var/lib/spoolgate"
    uid = int(users["spoolgate"][2])
    r = subprocess.run([_systemd_tool("systemd-tmpfiles"), f"--root={root}", "--create", str(TMPFILES)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr

    unit = UNIT.read_text()
    spool = Path(re.search(r"^ReadWritePaths=(\S+)", unit, re.M).group(1))  # type: ignore[union-attr]
    text = (REPO / "etc/spoolgate.production.toml").read_text().replace("/opt/spoolgate", str(REPO))
    (tmp_path / "prod.toml").write_text(text)
    settings = load(tmp_path / "prod.toml")
    assert settings.spool_root == spool
    wanted = {Path(settings.state_dir), spool}
    for ch in settings.channels.values():
        wanted |= {ch.inbox, ch.work, ch.processed, ch.error}
    wanted |= {o.folder for o in settings.outbound.values()}
    cf = checkfree(settings).folders
    wanted |= {settings.path(getattr(cf, k)) for k in ("out_bd", "out_history", "out_ftp", "out_error",
                                                       "in_ftp", "in_bd")}
    wanted |= {settings.path(Path(j.options["source"])) for j in settings.jobs.values() if "source" in j.options}
    for folder in sorted(wanted):
        made = root / Path(folder).relative_to("/")
        assert made.is_dir(), f"{folder} is used by the production sample but not created by {TMPFILES.name}"
        assert os.stat(made).st_uid == uid, folder
