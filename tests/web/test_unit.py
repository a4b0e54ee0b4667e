"""The console's unit verifies, has the daemon unit's hardening line for line, and binds loopback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.core.test_systemd import _analyze
from tests.support import REPO

WEB = REPO / "systemd/spoolgate-web.service"
DAEMON = REPO / "systemd/spoolgate.service"


def _here(tmp_path: Path) -> Path:
    exe = str(Path(sys.executable).parent / "spoolgate")
    out = tmp_path / "spoolgate-web.service"
    out.write_text(WEB.read_text().replace("/opt/spoolgate/.venv/bin/spoolgate", exe))
    return out


def test_web_unit_verifies_and_exposure_at_most_2(tmp_path: Path) -> None:
    unit = _here(tmp_path)
    r = subprocess.run([_analyze(), "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([_analyze(), "security", "--offline=true", str(unit)], capture_output=True, text=True,
                       timeout=60)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout + r.stderr)
    assert m and float(m.group(1)) <= 2.0, r.stdout + r.stderr


def test_web_unit_has_the_daemon_units_hardening() -> None:
    hardening = DAEMON.read_text().split("# Hardening", 1)[1].split("[Install]", 1)[0]
    web = WEB.read_text()
    for line in (ln for ln in hardening.splitlines() if ln.strip()):
        assert line in web.splitlines(), line
    for line in ("User=spoolgate", "UMask=0027", "ReadWritePaths=/var/spool/spoolgate",
                 "RestartPreventExitStatus=78", "web --host 127.0.0.1"):
        assert line in web, line


def test_web_binds_loopback_by_default() -> None:
    from daemon.cli import build_parser

    assert build_parser().parse_args(["web"]).host == "127.0.0.1"


def test_users_on_an_old_schema_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    from store.db import make_engine
    from tests.support import archive_config, write_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    make_engine(url, pool=False).dispose()
    config = write_config(tmp_path / "spoolgate.toml", archive_config(tmp_path, url))
    r = subprocess.run([sys.executable, "-m", "daemon", "--config", str(config), "users", "add", "x", "--role",
                        "viewer", "--password-stdin"], input="long-enough-password\n", capture_output=True,
                       text=True, timeout=60, cwd=REPO)
    assert r.returncode == 69 and "Traceback" not in r.stderr and "db upgrade" in r.stderr, r.stderr
