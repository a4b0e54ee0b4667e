"""Account-like digit runs never reach a log line or a traceback in the logs."""

from __future__ import annotations

import json
import logging

from daemon.cli.core import JsonFormatter, MaskingFormatter
from formats.errors import mask_digit_runs
from tests.support import DaemonProcess, archive_config, files_in, wait_for, write_config

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
