"""The CLI tells the truth: config discovery, one-line failures with documented exit codes,
dry runs that write nothing, retry of exactly what ``errors`` lists, and help for every command."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

import daemon.cli
from daemon.cli import EXIT_CONFIG, EXIT_DB_UNAVAILABLE, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, build_parser, main
from daemon.pipeline import Pipeline
from store.config import load
from store.db import Database
from store.models.core import FileState, JobRun, JobState, SpoolFile
from tests.support import REPO, archive_config, files_in, write_config


def _config(tmp_path: Path, db_url: str, **over: Any) -> Path:
    cfg = archive_config(tmp_path, db_url, **over)
    other = dict(cfg["channels"]["drop"])
    other.update(inbox="other/in", work="other/work", processed="other/processed", error="other/error")
    cfg["channels"]["other"] = other
    path = write_config(tmp_path / "spoolgate.toml", cfg)
    assert main(["--config", str(path), "init"]) == EXIT_OK
    return path


def _fail_files(cfg: Path, channel: str, *names: str) -> None:
    """Files filed to error/ by the real pipeline (the archive handler fails on FAIL)."""
    settings = load(cfg)
    db = Database(settings.database_url)
    try:
        pipe = Pipeline(settings, db)
        for name in names:
            p = settings.channels[channel].inbox / name
            p.write_bytes(f"FAIL {channel} {name}\n".encode())
            fid = pipe.claim(channel, p)
            assert fid is not None
            assert pipe.process(fid).state == FileState.ERROR
    finally:
        db.dispose()


def _errors_json(cfg: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert main(["--config", str(cfg), "errors", "--json", *extra]) == EXIT_OK
    items: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return items


# -- config discovery ------------------------------------------------------------------------------
def test_no_config_anywhere_is_one_line_and_78(tmp_path, sqlite_url, monkeypatch, capsys):
    cfg = _config(tmp_path, sqlite_url)
    _fail_files(cfg, "drop", "bad.txt")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SPOOLGATE_CONFIG", raising=False)
    monkeypatch.setattr(daemon.cli, "DEFAULT_CONFIG", str(tmp_path / "etc/spoolgate.toml"))
    capsys.readouterr()
    for argv in (["errors"], ["status"], ["retry", "--all"], ["jobs", "list"], ["check-config"]):
        assert main(argv) == EXIT_CONFIG, argv
        out = capsys.readouterr()
        assert out.out == "" and "no files in error" not in out.err
        assert out.err.count("\n") == 1 and "no configuration" in out.err, out.err
    assert main(["--config", str(tmp_path / "missing.toml"), "errors"]) == EXIT_CONFIG
    assert "missing.toml not found" in capsys.readouterr().err


def test_config_from_env_then_default_path(tmp_path, sqlite_url, monkeypatch, capsys):
    cfg = _config(tmp_path, sqlite_url)
    _fail_files(cfg, "drop", "bad.txt")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPOOLGATE_CONFIG", str(cfg))
    monkeypatch.setattr(daemon.cli, "DEFAULT_CONFIG", str(tmp_path / "nowhere.toml"))
    capsys.readouterr()
    assert main(["errors"]) == EXIT_OK
    assert "drop/bad.txt" in capsys.readouterr().out
    monkeypatch.delenv("SPOOLGATE_CONFIG")
    monkeypatch.setattr(daemon.cli, "DEFAULT_CONFIG", str(cfg))
    assert main(["errors"]) == EXIT_OK
    assert "drop/bad.txt" in capsys.readouterr().out


def test_a_database_that_is_not_the_daemons_is_refused(tmp_path, sqlite_url, capsys):
    cfg = _config(tmp_path, sqlite_url)
    _fail_files(cfg, "drop", "bad.txt")
    other = write_config(tmp_path / "other.toml", archive_config(tmp_path, f"sqlite:///{tmp_path}/nope.db"))
    capsys.readouterr()
    assert main(["--config", str(other), "errors"]) == EXIT_DB_UNAVAILABLE
    out = capsys.readouterr()
    assert "no files in error" not in out.out and "nope.db does not exist" in out.err
    assert not (tmp_path / "nope.db").exists()  # never created by a read command
    sqlite3.connect(tmp_path / "empty.db").close()
    empty = write_config(tmp_path / "empty.toml", archive_config(tmp_path, f"sqlite:///{tmp_path}/empty.db"))
    assert main(["--config", str(empty), "errors"]) == EXIT_CONFIG
    assert "holds no spoolgate schema" in capsys.readouterr().err
    assert main(["--config", str(empty), "db", "check"]) == EXIT_FAILURE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not up to date" in err, err


# -- database unavailable, broken pipe, no None --------------------------------------------------------
DB_COMMANDS = [["status"], ["errors"], ["retry", "--all"], ["ledger", "show", "1"], ["jobs", "list"],
               ["jobs", "run", "nightly"], ["check-config"], ["audit", "--pid", "A1", "--from", "2026-01-01",
                                                              "--to", "2026-01-02"],
               ["report", "daily", "--date", "2026-01-01"], ["release", "1"], ["db", "upgrade"], ["init"], ["run"]]


@pytest.mark.parametrize("argv", DB_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_database_unavailable_is_one_line_and_69(tmp_path, argv, capsys):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = write_config(tmp_path / "c.toml", archive_config(
        tmp_path, f"postgresql://spoolgate@127.0.0.1:{port}/spoolgate",
        jobs={"nightly": {"kind": "core.noop", "every": "1 day"}}))
    assert main(["--config", str(cfg), *argv]) == EXIT_DB_UNAVAILABLE
    err = capsys.readouterr().err
    assert err.startswith("spoolgate: database unavailable") and err.count("\n") == 1, err
    assert "Traceback" not in err


def test_process_and_import_with_database_down(tmp_path, capsys):
    cfg = write_config(tmp_path / "c.toml", archive_config(tmp_path, "postgresql://u@127.0.0.1:1/x"))
    f = tmp_path / "f.txt"
    f.write_text("a\n")
    doc = tmp_path / "doc.json"
    doc.write_text("{}")
    for argv in (["process", str(f), "--dry-run", "--channel", "drop"], ["import", str(doc)]):
        assert main(["--config", str(cfg), *argv]) == EXIT_DB_UNAVAILABLE
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err


def test_broken_pipe_is_a_quiet_exit(tmp_path, sqlite_url):
    cfg = _config(tmp_path, sqlite_url)
    _fail_files(cfg, "drop", *(f"bad{i}.txt" for i in range(20)))
    r, w = os.pipe()
    os.close(r)  # the reader is gone before the first line is written
    try:
        proc = subprocess.run([sys.executable, "-m", "daemon", "--config", str(cfg), "errors"], cwd=REPO,
                              stdout=w, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(w)
    assert proc.stderr == b"", proc.stderr.decode()
    assert proc.returncode == daemon.cli.EXIT_PIPE


def test_no_python_none_or_repr_quotes_in_output(tmp_path, sqlite_url, capsys):
    cfg = _config(tmp_path, sqlite_url, jobs={"nightly": {"kind": "core.noop", "every": "1 day"}})
    _fail_files(cfg, "drop", "bad.txt")
    settings = load(cfg)
    db = Database(settings.database_url)
    try:  # a duplicate: its row has no error report of its own
        pipe = Pipeline(settings, db)
        for name in ("one.txt", "two.txt"):
            p = settings.channels["drop"].inbox / name
            p.write_bytes(b"same\n")
            fid = pipe.claim("drop", p)
            assert fid is not None
            pipe.process(fid)
    finally:
        db.dispose()
    f = tmp_path / "x.part"
    f.write_text("x\n")
    capsys.readouterr()
    for argv in (["status"], ["errors"], ["jobs", "list"], ["process", str(f), "--dry-run", "--channel", "drop"],
                 ["errors", "--channel", "other"]):
        main(["--config", str(cfg), *argv])
        out = capsys.readouterr()
        text_out = out.out + out.err
        assert "None" not in text_out and "'" not in text_out, (argv, text_out)
    main(["--config", str(cfg), "errors"])
    assert "duplicate of file" in capsys.readouterr().out


# -- --help ----------------------------------------------------------------------------------------
def _walk(parser: argparse.ArgumentParser, path: list[str]) -> list[list[str]]:
    found = [path]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                assert helps.get(name), f"{' '.join([*path, name])}: no help line"
                found.extend(_walk(sub, [*path, name]))
        elif not isinstance(action, argparse._HelpAction):
            assert action.help and action.help != argparse.SUPPRESS, \
                f"{' '.join(path)} {'/'.join(action.option_strings) or action.dest}: no help"
    return found


def test_every_command_and_argument_says_what_it_does(capsys):
    commands = _walk(build_parser(), [])
    assert len(commands) > 25
    for path in commands:
        with pytest.raises(SystemExit) as info:
            main([*path, "--help"])
        assert info.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith("usage: spoolgate") and "None" not in out, (path, out)


# -- process --dry-run -------------------------------------------------------------------------------
def _snapshot(db_url: str, root: Path) -> tuple[Any, ...]:
    """Every table's rows (and, for SQLite, the database files' bytes) plus the spool tree.
    PostgreSQL sequences are not compared: ``nextval`` is never rolled back, by design."""
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            rows = {t: sorted(map(str, conn.execute(text(f'SELECT * FROM "{t}"')).all()))
                    for t in inspect(conn).get_table_names()}
    finally:
        engine.dispose()
    data = b""
    if db_url.startswith("sqlite"):
        db_file = Path(db_url.split(":///", 1)[1])
        data = b"".join(p.read_bytes() for p in sorted(db_file.parent.glob(db_file.name + "*")) if p.is_file())
    tree = sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*") if p.is_file())
    return rows, hashlib.sha256(data).hexdigest(), tree


def test_dry_run_writes_nothing_at_all(tmp_path, db_url, capsys):
    cfg = _config(tmp_path, db_url)
    _fail_files(cfg, "drop", "earlier.txt")
    inbox = tmp_path / "spool/drop/in"
    probe = inbox / "probe.txt"
    probe.write_bytes(b"a\nb\nc\n")
    before = _snapshot(db_url, tmp_path / "spool")
    capsys.readouterr()
    assert main(["--config", str(cfg), "process", str(probe), "--dry-run", "--json"]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["outcome"] == "would process" and report["counts"] == {"lines": 3}
    assert report["changes"] == {"insert outbound_files": 1, "insert outbound_items": 1}
    assert _snapshot(db_url, tmp_path / "spool") == before
    assert main(["--config", str(cfg), "process", str(probe), "--dry-run"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "would process" in out and "insert outbound_files 1" in out


def test_dry_run_reports_what_the_daemon_would_really_do(tmp_path, sqlite_url, capsys):
    cfg = _config(tmp_path, sqlite_url)
    settings = load(cfg)
    db = Database(settings.database_url)
    try:
        pipe = Pipeline(settings, db)
        p = settings.channels["drop"].inbox / "done.txt"
        p.write_bytes(b"content\n")
        fid = pipe.claim("drop", p)
        assert fid is not None and pipe.process(fid).state == FileState.DONE
    finally:
        db.dispose()
    inbox = tmp_path / "spool/drop/in"
    cases = {"upload.part": (b"x\n", "never picked", EXIT_FAILURE),
             ".hidden": (b"x\n", "never picked", EXIT_FAILURE),
             "again.txt": (b"content\n", "would be filed as duplicate", EXIT_FAILURE),
             "bad.txt": (b"FAIL\n", "would be rejected", EXIT_FAILURE)}
    for name, (data, outcome, code) in cases.items():
        (inbox / name).write_bytes(data)
        capsys.readouterr()
        assert main(["--config", str(cfg), "process", str(inbox / name), "--dry-run", "--json"]) == code, name
        assert json.loads(capsys.readouterr().out)["outcome"] == outcome, name
    (tmp_path / "sig").mkdir()
    signal_cfg = _config(tmp_path / "sig", sqlite_url.replace("spoolgate.db", "sig.db"),
                         channel={"completeness": "signal"})
    waiting = tmp_path / "sig/spool/drop/in/w.txt"
    waiting.write_bytes(b"w\n")
    assert main(["--config", str(signal_cfg), "process", str(waiting), "--dry-run"]) == EXIT_OK
    assert "waits for a signal file first: w.txt.done" in capsys.readouterr().out
    assert main(["--config", str(cfg), "process", str(inbox / "missing.txt"), "--dry-run"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.txt: no such file" in err


def test_dry_run_with_a_payee_misconfiguration_does_not_crash(tmp_path, db_url, capsys):
    from tests.ach.support import ach_config

    path = write_config(tmp_path / "c.toml", ach_config(tmp_path, db_url, ach={"payees": {"NOPE": {"odfi": "1"}}}))
    assert main(["--config", str(path), "init"]) == EXIT_OK
    f = tmp_path / "spool/ach/in/r.ach"
    f.write_bytes(b"101 garbage\n")
    capsys.readouterr()
    assert main(["--config", str(path), "process", str(f), "--dry-run"]) == EXIT_FAILURE
    out = capsys.readouterr()
    assert "would be rejected" in out.out and "unknown payee" in out.out and "Traceback" not in out.err
    assert main(["--config", str(path), "check-config"]) == EXIT_CONFIG
    assert "ach.payees.NOPE: no payee named NOPE in the database" in capsys.readouterr().err


# -- errors / retry ----------------------------------------------------------------------------------
def test_retry_takes_exactly_what_errors_lists(tmp_path, db_url, capsys):
    cfg = _config(tmp_path, db_url)
    _fail_files(cfg, "drop", "a_b.txt", "c.txt", "d.txt", "e.txt")
    _fail_files(cfg, "other", "o1.txt", "o2.txt")
    capsys.readouterr()
    assert main(["--config", str(cfg), "errors"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6 and all(line.startswith("#") for line in lines)
    items = {i["file"]: i for i in _errors_json(cfg, capsys)}
    refs = [f"#{items['a_b.txt']['id']}", str(items["c.txt"]["id"]), "drop/d.txt", items["e.txt"]["path"]]
    assert main(["--config", str(cfg), "retry", *refs]) == EXIT_OK
    assert sorted(p.name for p in files_in(tmp_path / "spool/drop/in")) == ["a_b.txt", "c.txt", "d.txt", "e.txt"]
    assert main(["--config", str(cfg), "retry", "axb.txt"]) == EXIT_FAILURE  # no LIKE wildcards
    assert "no file in error matches axb.txt" in capsys.readouterr().err
    assert main(["--config", str(cfg), "retry", "--all", "--channel", "nope"]) == EXIT_USAGE
    assert main(["--config", str(cfg), "retry", "--channel", "other"]) == EXIT_USAGE
    assert main(["--config", str(cfg), "retry", "--all", "--channel", "other"]) == EXIT_OK
    assert sorted(p.name for p in files_in(tmp_path / "spool/other/in")) == ["o1.txt", "o2.txt"]
    assert _errors_json(cfg, capsys) == []
    settings = load(cfg)
    db = Database(settings.database_url)
    try:
        with db.transaction() as s:
            assert s.scalar(select(func.count()).where(SpoolFile.state == FileState.RETRIED)) == 6
    finally:
        db.dispose()


def test_a_blank_reason_is_a_usage_error_before_anything_is_done(tmp_path, sqlite_url, capsys):
    from store.models.console import OperatorAction

    cfg = _config(tmp_path, sqlite_url)
    _fail_files(cfg, "drop", "x.txt")
    capsys.readouterr()
    for argv in (["retry", "--all", "--reason", "  "], ["jobs", "run", "nope", "--reason", ""],
                 ["release", "1", "--reason", " "]):
        with pytest.raises(SystemExit) as info:
            main(["--config", str(cfg), *argv])
        assert info.value.code == EXIT_USAGE, argv
        assert "a reason is required" in capsys.readouterr().err
    assert [p.name for p in files_in(tmp_path / "spool/drop/error") if p.suffix == ".txt"] == ["x.txt"]
    db = Database(load(cfg).database_url)
    try:
        with db.transaction() as s:
            assert s.scalar(select(func.count()).select_from(OperatorAction)) == 0
    finally:
        db.dispose()


# -- status --------------------------------------------------------------------------------------------
def test_status_counts_only_what_the_daemon_picks(tmp_path, sqlite_url, capsys):
    cfg = _config(tmp_path, sqlite_url, channel={"completeness": "signal"})
    inbox = tmp_path / "spool/drop/in"
    for name in ("real.txt", "upload.part", ".hidden", "real.txt.done", "x.tmp", "other.txt"):
        (inbox / name).write_text("x\n")
    capsys.readouterr()
    assert main(["--config", str(cfg), "status", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["channels"]["drop"]["inbox"]["files"] == 2


# -- check-config ----------------------------------------------------------------------------------------
def test_check_config_reports_every_problem_at_once(tmp_path, sqlite_url, capsys):
    cfg = archive_config(tmp_path, sqlite_url, workers=-1, tick_ms=1,
                         jobs={"soon": {"kind": "core.noop", "every": "soon"},
                               "ghost": {"kind": "no.such", "every": "1 h"}})
    cfg["channels"]["bad"] = {**cfg["channels"]["drop"], "inbox": "bad/in", "quiet_ms": -1}
    cfg["channels"]["drop"]["routes"] = [{"pattern": "*", "handler": "nope"}]
    path = write_config(tmp_path / "c.toml", cfg)
    assert main(["--config", str(path), "check-config"]) == EXIT_CONFIG
    err = capsys.readouterr().err.splitlines()
    for expected in ("config workers:", "config tick_ms:", "config jobs.soon.every:", "config channels.bad.quiet_ms:",
                     "jobs.ghost.kind: unknown job kind", "channels.drop.routes[0]: unknown handler"):
        assert any(expected in line for line in err), (expected, err)
    assert all(line.startswith("spoolgate: config error: ") for line in err)


def test_busy_metrics_port_is_a_config_error_not_a_restart_loop(tmp_path, sqlite_url, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        path = _config(tmp_path, sqlite_url, metrics={"enabled": True, "port": port})
        capsys.readouterr()
        assert main(["--config", str(path), "check-config"]) == EXIT_CONFIG
        assert f"metrics.port: 127.0.0.1:{port} is already in use" in capsys.readouterr().err
        proc = subprocess.run([sys.executable, "-m", "daemon", "--config", str(path), "run"], cwd=REPO,
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode == EXIT_CONFIG and "Traceback" not in proc.stderr
    assert "metrics.port" in proc.stderr


# -- jobs ------------------------------------------------------------------------------------------------
def test_jobs_run_dry_run_records_nothing(tmp_path, db_url, capsys):
    cfg = _config(tmp_path, db_url, jobs={"nightly": {"kind": "core.noop", "every": "1 day"},
                                          "purge": {"kind": "housekeeping.spool-purge", "every": "1 day",
                                                    "options": {"older_than_days": 30}}})
    before = _snapshot(db_url, tmp_path / "spool")
    capsys.readouterr()
    assert main(["--config", str(cfg), "jobs", "run", "nightly", "--dry-run"]) == EXIT_OK
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["dry_run"] is True and out["outcome"] == "noop"
    assert main(["--config", str(cfg), "jobs", "run", "purge", "--dry-run"]) == EXIT_USAGE
    assert "cannot run dry" in capsys.readouterr().err
    assert _snapshot(db_url, tmp_path / "spool") == before
    settings = load(cfg)
    db = Database(settings.database_url)
    try:
        with db.transaction() as s:
            assert s.scalar(select(func.count()).select_from(JobRun)) == 0
            assert s.scalar(select(func.count()).select_from(JobState)) == 0
    finally:
        db.dispose()


def test_audit_from_after_to_is_a_usage_error(tmp_path, sqlite_url, capsys):
    cfg = _config(tmp_path, sqlite_url)
    assert main(["--config", str(cfg), "audit", "--pid", "A1", "--from", "2026-02-01",
                 "--to", "2026-01-01"]) == EXIT_USAGE
    assert "--from 2026-02-01 is after --to 2026-01-01" in capsys.readouterr().err



def test_readme_documents_every_exit_code():
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Operating it"):readme.index("## Channels")]
    codes = {v for k, v in vars(daemon.cli).items() if k.startswith("EXIT_")}
    documented = {int(line.split("|")[1]) for line in section.splitlines() if line.startswith("| ") and
                  line.split("|")[1].strip().isdigit()}
    assert documented == codes
    epilog = build_parser().epilog or ""
    assert all(f"{c} " in epilog for c in codes)


def test_ach_describe_masks_names_and_prints_no_repr(tmp_path, capsys):
    from formats.nacha.reader import parse
    from tests.formats.nacha.builders import sample_file

    data = sample_file(0)
    names = {e.detail.individual_name.strip() for _bh, e in parse(data).entries()}
    f = tmp_path / "f.ach"
    f.write_bytes(data)
    assert main(["ach", "describe", str(f)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "'" not in out and "None" not in out
    assert names and not any(n in out for n in names if len(n) > 1)
