"""Account-like digit runs never reach a log line or a traceback in the logs."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

from daemon.logfmt import JsonFormatter, MaskingFormatter
from formats.errors import mask_digit_runs
from tests.support import REPO, DaemonProcess, archive_config, files_in, wait_for, write_config

ACCOUNT = "123456789012345678901"  # longer than any fixed cap, to show the whole run is masked


def _record(exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError(f"bad account {ACCOUNT}")
        except ValueError:
            import sys

            exc_info = sys.exc_info()
    return logging.LogRecord("spoolgate.test", logging.ERROR, __file__, 1, "paid %s from %s", ("12.50", ACCOUNT),
                             exc_info)


def test_mask_digit_runs_keeps_the_last_four_and_short_numbers():
    assert mask_digit_runs(f"acct {ACCOUNT} id 1234567 n 42", 8) == f"acct {'*' * 17}8901 id 1234567 n 42"
    assert mask_digit_runs("trace 12345678", 6) == "trace ****5678"


def test_plain_and_json_formatters_mask_message_and_traceback():
    plain = MaskingFormatter("%(levelname)s %(message)s").format(_record(exc=True))
    assert ACCOUNT not in plain and "8901" in plain and "Traceback" in plain
    out = json.loads(JsonFormatter().format(_record(exc=True)))
    assert ACCOUNT not in out["message"] and ACCOUNT not in out["exception"]
    assert out["message"] == f"paid 12.50 from {'*' * 17}8901"


def test_daemon_log_masks_an_account_number_in_a_file_name(tmp_path, sqlite_url):
    cfg = write_config(tmp_path / "spoolgate.toml", archive_config(tmp_path, sqlite_url))
    d = DaemonProcess(cfg)
    try:
        d.wait_ready()
        (tmp_path / "spool/drop/in" / f"acct{ACCOUNT}.txt").write_bytes(b"FAIL\n")
        wait_for(lambda: files_in(tmp_path / "spool/drop/error"), 20)
        wait_for(lambda: "outcome=error" in d.log(), 10)
    finally:
        d.terminate()
    log = d.log()
    assert ACCOUNT not in log and f"acct{'*' * 17}8901.txt" in log


def test_dates_counts_and_amounts_stay_readable_accounts_and_names_do_not():
    from formats.errors import mask_sensitive

    assert mask_sensitive("file payments_20261130.txt at 20261130093000", 8) == \
        "file payments_20261130.txt at 20261130093000"
    assert mask_sensitive("counts={'entries': 123456789} records=12345678 total 12345678.90", 8) == \
        "counts={'entries': 123456789} records=12345678 total 12345678.90"
    # a string value of an account field is masked whatever its shape, a name field entirely
    out = mask_sensitive("{'account_number__998': 'DE44-5001-0517-33998', 'account_holder_name': 'Jens Hansen'}", 8)
    assert "DE44-5001" not in out and "Jens" not in out and "3998" in out
    # an SQL parameter dump never reaches a log line
    assert mask_sensitive("[SQL: INSERT] [parameters: ('Jens Hansen', 'DE44')]", 8) == \
        "[SQL: INSERT] [parameters: hidden]"
    # a trace number named as such stays readable in a file name; the same digits elsewhere do not
    assert mask_sensitive("returns_trace_091000019999999.ach acct_091000019999999.ach", 8) == \
        "returns_trace_091000019999999.ach acct_***********9999.ach"
    # not a date (month 13): still masked, like any long run no field explains
    assert mask_sensitive("x 20261330", 8) == "x ****1330"


HOSTILE = "pay\u2028forged INFO line\u0085x\u202egpj.txt\x9b"


def test_unicode_line_breaks_controls_and_bidi_are_escaped_in_both_formatters():
    from daemon.logfmt import escape_unsafe

    rec = logging.LogRecord("spoolgate.test", logging.INFO, __file__, 1, "file %s outcome=done", (HOSTILE,), None)
    plain = MaskingFormatter("%(levelname)s %(message)s").format(rec)
    assert len(plain.splitlines()) == 1 and "\\u2028" in plain and "\\x85" in plain and "\\u202e" in plain
    rec = logging.LogRecord("spoolgate.test", logging.INFO, __file__, 1, "file %s", (HOSTILE,), None)
    rec.file = HOSTILE
    line = JsonFormatter().format(rec)
    assert len(line.splitlines()) == 1 and "\u2028" not in line and "\u202e" not in line
    assert json.loads(line)["file"] == escape_unsafe(HOSTILE)
    # a name that was not UTF-8 (surrogateescape) is written as escapes: the line stays valid UTF-8
    not_utf8 = b"pay\xff\xfe.txt".decode("utf-8", "surrogateescape")
    rec = logging.LogRecord("x", logging.INFO, __file__, 1, "file %s", (not_utf8,), None)
    rec.file = not_utf8
    for out in (MaskingFormatter("%(message)s").format(rec), JsonFormatter().format(rec)):
        out.encode("utf-8")
        assert "pay\\udcff\\udcfe.txt" in out.replace("\\\\", "\\")


def test_json_lines_carry_structured_keys_and_journald_priorities():
    rec = logging.LogRecord("spoolgate.pipeline", logging.ERROR, __file__, 1, "file %s outcome=error",
                            ("payments_20261130.txt",), None)
    rec.__dict__.update({"channel": "ach", "file": "payments_20261130.txt", "file_id": 7, "handler": "ach.returns",
                         "outcome": "error", "counts": {"entries": 123456789}, "duration": 0.25,
                         "code": "invalid_field"})
    line = JsonFormatter(prefix=True).format(rec)
    assert line.startswith("<3>{")
    out = json.loads(line[3:])
    assert out["file"] == "payments_20261130.txt" and out["counts"] == {"entries": 123456789}
    assert (out["channel"], out["file_id"], out["handler"], out["outcome"], out["code"]) == \
        ("ach", 7, "ach.returns", "error", "invalid_field")
    info = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", (), None)
    assert MaskingFormatter("%(message)s", prefix=True).format(info) == "<6>hello"
    warn = logging.LogRecord("x", logging.WARNING, __file__, 1, "hello", (), None)
    assert MaskingFormatter("%(message)s", prefix=True).format(warn) == "<4>hello"


def test_journald_is_detected_from_journal_stream(tmp_path, monkeypatch):
    import os
    import sys

    from daemon.logfmt import journald_stderr

    err = (tmp_path / "err").open("w")
    monkeypatch.setattr(sys, "stderr", err)
    st = os.fstat(err.fileno())
    monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
    assert journald_stderr()
    monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino + 1}")
    assert not journald_stderr()
    err.close()


def test_daemon_json_log_one_line_per_record_with_a_hostile_name(tmp_path, sqlite_url):
    cfg = write_config(tmp_path / "spoolgate.toml", {**archive_config(tmp_path, sqlite_url), "log_json": True})
    d = DaemonProcess(cfg)
    name = "payments_20261130\u2028INFO forged\u202e.txt"
    try:
        d.wait_ready()
        (tmp_path / "spool/drop/in" / name).write_bytes(b"ok\n")
        (tmp_path / "spool/drop/in" / "payments_20261201.txt").write_bytes(b"FAIL\n")
        (tmp_path / "spool/drop/in" / "bad\u2029INFO forged\x85.txt").write_bytes(b"FAIL\n")
        wait_for(lambda: d.log().count('"outcome": ') >= 3, 20)
    finally:
        d.terminate()
    for command in ("errors", "status"):
        out = subprocess.run([sys.executable, "-m", "daemon", "--config", str(cfg), command], cwd=REPO,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert "\u2029" not in out.stdout and "\x85" not in out.stdout and "\\u2029INFO forged\\x85" in out.stdout
        assert not any(line.startswith("INFO forged") for line in out.stdout.splitlines())
    lines = [json.loads(line) for line in d.log().splitlines() if line.startswith("{")]
    assert "\u2028" not in d.log() and "\u202e" not in d.log()
    files = {r["file"]: r for r in lines if "file" in r}
    assert files["payments_20261201.txt"]["outcome"] == "error" and files["payments_20261201.txt"]["code"]
    # refused at intake (names with line breaks or bidi controls are never processed): filed under a
    # safe name, the original written escaped in the message
    hostile = next(r for f, r in files.items() if f.startswith("payments_20261130"))
    assert hostile["outcome"] == "error" and hostile["channel"] == "drop"
    assert "\\u2028INFO forged\\u202e.txt" in hostile["reason"]
    assert not any(r["message"].startswith("forged") for r in lines)


def test_a_database_error_never_logs_its_parameters():
    """A real driver error quotes the statement's parameters: neither formatter lets them through."""
    import sys

    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import IntegrityError

    engine = create_engine("sqlite://")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (account_number TEXT UNIQUE, account_holder_name TEXT)"))
        c.execute(text("INSERT INTO t VALUES ('DE44-5001-0517-33998', 'Jens Hansen')"))
    try:
        with engine.begin() as c:
            c.execute(text("INSERT INTO t VALUES (:account_number, :account_holder_name)"),
                      [{"account_number": "DE44-5001-0517-33998", "account_holder_name": "Jens Hansen"}])
    except IntegrityError as exc:
        assert "Jens Hansen" in str(exc)  # the raw error does carry them
        rec = logging.LogRecord("spoolgate.pipeline", logging.ERROR, __file__, 1, "file %s: failed: %s",
                                ("x.ach", exc), sys.exc_info())
    engine.dispose()
    for line in (MaskingFormatter("%(message)s").format(rec), JsonFormatter().format(rec)):
        assert "Jens" not in line and "5001-0517" not in line and "[parameters: hidden]" in line
