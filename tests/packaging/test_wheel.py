"""The wheel, installed into a fresh virtualenv, works without the checkout.

The wheel is built from a copy of the source tree (no stale ``build/``), installed with
``--no-deps`` into a new venv that sees the project venv's site-packages through a ``.pth``
line (the dependencies, offline), and run from a folder outside the checkout with an empty
``PYTHONPATH``: every module, template, schema, layout, sample config and unit it uses
must come from the installed package.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from tests.support import REPO, files_in, wait_for

pytestmark = pytest.mark.slow

#: what a source tree has that a wheel never needs (and what must not leak into it)
NOT_SOURCE = (".venv", "var", "build", "dist", ".git", "*.egg-info", "__pycache__", "*.pyc", ".*_cache",
              ".hypothesis", "tests", "bench", "examples")
#: one sample file per channel: (file under examples/, inbox and processed folder under var/spool)
DROPS = {
    "archive": ("archive/hello.txt", "archive/in", "archive/processed"),
    "ach": ("ach/returns.ach", "ach/in", "ach/processed"),
    "checkfree": ("checkfree/test.acmeutil.confirm.dat.20260106093000", "checkfree/in/bd", "checkfree/in/history"),
    "pbs": ("pbs/D0602.BS1", "pbs/in", "pbs/processed"),
    "bills": ("bills/bills-2026-01.xml", "bills/in", "bills/processed"),
    "refunds": ("refunds/refunds.xml", "refunds/in", "refunds/processed"),
}


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SPOOLGATE_", "PYTHON", "VIRTUAL_ENV", "NOTIFY_SOCKET"))}
    env["PYTHONPATH"] = ""
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; returns the venv folder."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    shutil.copytree(REPO, src, symlinks=True, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    assert (src / "store" / "etc").is_symlink()
    dist = root / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(dist), str(src)], check=True, timeout=180)
    [wheel] = dist.glob("spoolgate-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    ours = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    # Plain path lines: the project venv's own .pth files (its editable checkout) are not processed.
    Path(site, "zz_project_deps.pth").write_text("".join(f"{p}\n" for p in ours))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, timeout=180)
    return venv


def _run(venv: Path, cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(venv / "bin" / "spoolgate"), *args], cwd=cwd, env=_clean_env(),
                          capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, f"spoolgate {' '.join(args)}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


PROBE = textwrap.dedent("""
    import json, sys
    from importlib import resources
    import daemon, formats, handlers, migrations, spool
    from store import share, templates
    from lxml import etree

    values = dict(job="nightly", kind="ach.check-submit", run_id=7, outcome="success", started="2026-01-05 02:00",
                  message="2 submitted", counts={"submitted": 2}, user_id="alice", user_name="Alice", bills=3,
                  accounts=[dict(masked="****0001", bills=2, amount_due="123.45", currency="USD",
                                 due_date="2026-01-20")] * 2,
                  # late-file alerts
                  expectation="bank-returns", channel="ach", pattern="*.ach", day="2026-01-05", by="10:30",
                  timezone="America/New_York", due_at="2026-01-05 10:45", grace_min=15,
                  arrived_at="2026-01-05 11:02", file="returns.ach",
                  # recurring payments, reminders, enrollment and card notices
                  account="****0001", setup="RP-1", why="end date reached", amount="12.34", pay_date="2026-01-20",
                  due="150.00", paid="100.00", date="2026-01-20", memo="water", payment_id=42, status="returned",
                  reason="R01 insufficient funds", holder="A. A.", status_text="active", brand="visa",
                  expiry="2031-02", last_four="1111")
    rendered = {name: templates.render(name, **values) for name in templates.names()}
    etree.XMLSchema(etree.fromstring(resources.files("formats.bills").joinpath("bills.xsd").read_bytes()))
    etree.XMLSchema(etree.fromstring(resources.files("formats.pbs").joinpath("invoice_delivery.xsd").read_bytes()))
    etree.XSLT(etree.parse(str(share.find("etc/ack.xsl"))))
    from formats.checkfree.layout import load_layout
    load_layout()
    print(json.dumps({
        "modules": [m.__file__ for m in (daemon, formats, handlers, migrations, spool)],
        "share": str(share.files("etc")), "listing": share.listing(), "rendered": rendered,
    }))
""")


def test_installed_copy_runs_init_every_channel_and_every_template(installed: Path, tmp_path: Path) -> None:
    venv = installed.resolve()
    work = tmp_path / "site"
    work.mkdir()
    py = venv / "bin" / "python"
    probe = subprocess.run([str(py), "-c", PROBE], cwd=work, env=_clean_env(), capture_output=True, text=True,
                           timeout=120)
    assert probe.returncode == 0, probe.stderr
    info = json.loads(probe.stdout)
    for module in info["modules"]:
        assert Path(module).resolve().is_relative_to(venv), module
    assert Path(info["share"]).resolve().is_relative_to(venv)
    # every file of etc/ and systemd/ is shipped, nothing else
    tree = {str(p.relative_to(REPO)) for folder in ("etc", "systemd") for p in (REPO / folder).rglob("*")
            if p.is_file() and not p.name.startswith(".")}
    assert info["listing"] == sorted(tree)
    assert {"etc/spoolgate.example.toml", "etc/spoolgate.production.toml", "etc/ack.xsl", "etc/arQuery.xml",
            "systemd/spoolgate.service"} <= tree
    shipped = {n for n in tree if n.startswith("etc/templates/") and n.endswith(".txt.j2")}
    assert sorted(info["rendered"]) == sorted(Path(n).name.removesuffix(".txt.j2") for n in shipped)
    for name, (subject, body) in info["rendered"].items():
        assert subject and body and "{{" not in subject + body, name

    # The operator's way in: the shipped sample config and XSLT, found through `spoolgate share`.
    example = _run(venv, work, "share", "--cat", "etc/spoolgate.example.toml").stdout
    xslt = _run(venv, work, "share", "ack.xsl").stdout.strip()
    assert Path(xslt).resolve().is_relative_to(venv)
    assert '[ach.ack]\ntarget = "acks"\n' in example
    config = work / "spoolgate.toml"
    config.write_text(example.replace('[ach.ack]\ntarget = "acks"\n',
                                      f'[ach.ack]\ntarget = "acks"\nxslt = "{xslt}"\nname = "ack_{{id}}.txt"\n'))
    unit = _run(venv, work, "share", "--cat", "systemd/spoolgate.service").stdout
    assert "Type=notify" in unit

    init = _run(venv, work, "--config", str(config), "init").stdout
    spool = work / "var" / "spool"
    for channel, (_, inbox, _) in DROPS.items():
        assert f"drop {channel} files into {spool / inbox}\n" in init
    assert (work / "var" / "spoolgate.db").exists()

    _run(venv, work, "--config", str(config), "import", str(REPO / "examples" / "ach" / "payments.json"))
    _run(venv, work, "--config", str(config), "jobs", "run", "nightly")
    assert len(files_in(spool / "ach" / "out")) == 1

    log = (tmp_path / "daemon.log").open("wb")
    daemon = subprocess.Popen([str(venv / "bin" / "spoolgate"), "--config", str(config), "run"], cwd=work,
                              env=_clean_env(), stdout=log, stderr=subprocess.STDOUT)
    try:
        log_text = lambda: (tmp_path / "daemon.log").read_text(errors="replace")  # noqa: E731
        wait_for(lambda: "spoolgate ready" in log_text() or daemon.poll() is not None, 60, what="daemon ready")
        assert daemon.poll() is None, log_text()
        for sample, inbox, _ in DROPS.values():
            src = REPO / "examples" / sample
            tmp = spool / inbox / f".{src.name}.part"
            shutil.copyfile(src, tmp)
            tmp.rename(spool / inbox / src.name)
        for channel, (sample, _, processed) in DROPS.items():
            name = Path(sample).name
            wait_for(lambda p=processed, n=name: any(f.name == n for f in files_in(spool / p)), 60,  # type: ignore[misc]
                     what=f"{channel} sample processed")
        wait_for(lambda: list((spool / "acks" / "out").glob("*.done")), 30, what="ack signal")
    finally:
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=60)
        log.close()
    assert code == 0, (tmp_path / "daemon.log").read_text()
    for channel, (_, _, processed) in DROPS.items():
        error = spool / processed.rsplit("/", 1)[0] / "error"
        assert error.is_dir() and not files_in(error), channel
    [ack] = files_in(spool / "acks" / "out")
    assert ack.read_text().startswith("TRANSMISSION ACK returns.ach ACCEPTED")

    # ar-extract with the shipped query file (no query_file in the example config)
    out = json.loads(_run(venv, work, "--config", str(config), "jobs", "run", "ar-extract").stdout)
    assert out["outcome"] == "success" and out["counts"]["payments"] == 1
