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


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as systemd reads it (systemd.syntax(7)): ``[Section]`` headers, ``KEY=VALUE`` lines,
    ``#``/``;`` comments, backslash continuations; a key may repeat, so each holds a list of values."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.startswith(("#", ";")) or not line:
            continue
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"not a KEY=VALUE line inside a section: {raw!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_unit_contract() -> None:
    """What the daemon relies on: sd_notify with a watchdog, SIGHUP to reload, no restart loop on a
    configuration error (the CLI's exit code), and the hardening the security test scores."""
    from daemon.cli import EXIT_CONFIG

    unit = parse_unit(UNIT.read_text())
    svc = unit["Service"]
    assert svc["Type"] == ["notify"] and svc["NotifyAccess"] == ["main"]
    assert svc["ExecStart"][-1].split()[-1] == "run"
    assert svc["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert int(svc["WatchdogSec"][-1]) > 0
    assert svc["Restart"] == ["on-failure"]
    assert str(EXIT_CONFIG) in svc["RestartPreventExitStatus"][-1].split()
    for key, value in (("ProtectSystem", "strict"), ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes")):
        assert svc[key] == [value], key
    assert svc["ReadWritePaths"] and all(p.startswith("/") for v in svc["ReadWritePaths"] for p in v.split())
    assert len(svc["LoadCredential"]) == 3 and len(svc["SystemCallFilter"]) == 2  # repeated keys all kept
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


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

    spool = Path(parse_unit(UNIT.read_text())["Service"]["ReadWritePaths"][0].split()[0])
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
