"""The ops pack: alert rules pass promtool, and every metric the dashboard and the rules name is
really exported by a running daemon (no ``_created`` noise)."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import urllib.request

import pytest

from tests.support import REPO, DaemonProcess, archive_config, files_in, wait_for, write_config

RULES = REPO / "ops/prometheus/alerts.yml"
DASHBOARD = REPO / "ops/grafana/spoolgate.json"
#: series Prometheus itself provides for every scrape target
PROMETHEUS_SERIES = {"up"}


def _promtool() -> str:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail("promtool is missing: run scripts/install-system-deps.sh (Debian package prometheus)")
    return tool


def test_alert_rules_pass_promtool_check_and_unit_tests():
    check = subprocess.run([_promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    unit = subprocess.run([_promtool(), "test", "rules", str(RULES.with_name("alerts.test.yml"))],
                          capture_output=True, text=True, timeout=60)
    assert unit.returncode == 0, unit.stdout + unit.stderr


def test_rules_cover_the_operator_alerts():
    names = set(re.findall(r"alert: (\w+)", RULES.read_text()))
    for wanted in ("SpoolgateDaemonDown", "SpoolgateFileStuckInWork", "SpoolgateFileStuckInInbox",
                   "SpoolgateErrorBacklog", "SpoolgateLateFile", "SpoolgateJobFailed", "SpoolgateMailQueueStuck"):
        assert wanted in names


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _exported(text: str) -> set[str]:
    """Series names a scrape can return, from the ``# TYPE`` lines (families without samples included)."""
    names: set[str] = set()
    for family, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M):
        if kind == "histogram":
            names |= {f"{family}_bucket", f"{family}_sum", f"{family}_count"}
        elif kind == "counter":
            names |= {family, f"{family}_total"}
        else:
            names.add(family)
    return names


def _referenced() -> set[str]:
    exprs = [t["expr"] for p in json.loads(DASHBOARD.read_text())["panels"] for t in p["targets"]]
    exprs += re.findall(r"expr: (.+)", RULES.read_text())
    names = set()
    for e in exprs:
        names |= set(re.findall(r"\b(spoolgate_[a-z_]+|up)\b(?=\s*[{\[)\s=<>*/+-]|$)", e))
    return names


def test_every_metric_in_dashboard_and_rules_is_exported(tmp_path, sqlite_url):
    port = _free_port()
    cfg = archive_config(tmp_path, sqlite_url, metrics={"enabled": True, "port": port},
                         jobs={"tick": {"kind": "core.noop", "every": "1 h"}})
    d = DaemonProcess(write_config(tmp_path / "spoolgate.toml", cfg))
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        d.wait_ready()
        (tmp_path / "spool/drop/in/payments_20261130.txt").write_bytes(b"ok\n")
        (tmp_path / "spool/drop/in/bad.txt").write_bytes(b"FAIL\n")
        wait_for(lambda: len(files_in(tmp_path / "spool/drop/processed")) == 1, 20)
        wait_for(lambda: 'spoolgate_error_backlog_files{channel="drop"} 1.0' in
                 urllib.request.urlopen(url, timeout=5).read().decode(), 20, what="error backlog gauge")
        text = urllib.request.urlopen(url, timeout=5).read().decode()
    finally:
        d.terminate()
    assert "_created" not in text
    exported = _exported(text) | PROMETHEUS_SERIES
    referenced = _referenced()
    assert len(referenced) >= 15, referenced
    assert referenced <= exported, f"named but not exported: {sorted(referenced - exported)}"
    assert 'spoolgate_file_processing_seconds_count{channel="drop"} 2.0' in text
    assert re.search(r'spoolgate_channel_last_success_timestamp_seconds\{channel="drop"\} 1\.\d+e\+09', text)
    assert re.search(r'spoolgate_outbound_files_total\{outcome="delivered",target="acks"\} 1\.0', text)
    assert 'spoolgate_mail_queue_depth{lane="immediate"} 0.0' in text
    assert re.search(r'spoolgate_build_info\{python="[\d.]+",version="[^"]+"\} 1\.0', text)
