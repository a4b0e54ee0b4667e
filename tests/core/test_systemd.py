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
