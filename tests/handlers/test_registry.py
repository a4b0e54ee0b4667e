"""The handler registry: channel packages, and packages added by ``SPOOLGATE_HANDLER_PACKAGES``."""

from __future__ import annotations

import os
import subprocess
import sys

from handlers.registry import EXTRA_PACKAGES_ENV, handler_class, known_handlers
from store.config import Settings
from tests.support import REPO, archive_config


def test_packages_named_in_the_environment_add_handlers():
    assert os.environ[EXTRA_PACKAGES_ENV] == "tests.handlers_for_tests"  # set by tests/support.py
    assert known_handlers()["test.archive"] == "tests.handlers_for_tests:FaultyArchiveHandler"
    assert handler_class("archive").name == "archive"


def test_without_the_variable_only_the_channel_packages_count():
    env = {k: v for k, v in os.environ.items() if k != EXTRA_PACKAGES_ENV}
    out = subprocess.run([sys.executable, "-c", "from handlers.registry import known_handlers; "
                          "print(sorted(known_handlers()))"], cwd=REPO, env=env, capture_output=True, text=True,
                         check=True).stdout
    assert "'archive'" in out and "test.archive" not in out


def test_the_production_archive_handler_has_no_test_hooks(tmp_path):
    settings = Settings(**archive_config(tmp_path, "sqlite://"))
    options = {"fail_marker": "FAIL", "crash_marker": "CRASH", "ack_target": "acks"}
    assert handler_class("archive")(settings, options).check_options() == [
        "unknown option 'crash_marker'", "unknown option 'fail_marker'"]
    assert handler_class("test.archive")(settings, options).check_options() == []
