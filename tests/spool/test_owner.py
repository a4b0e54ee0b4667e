"""One token format and one liveness check for claims, leases and temporary files."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from spool import owner


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_token_names_this_process() -> None:
    holder = owner.parse(owner.token())
    assert holder == owner.Owner(owner.HOST_TAG, os.getpid())
    assert holder.is_local and not holder.is_dead()


def test_a_finished_process_of_this_host_is_dead() -> None:
    pid = _dead_pid()
    assert owner.is_dead(f"{owner.HOST_TAG}-{pid}-00ff00ff")


def test_another_host_is_never_judged_dead_from_here() -> None:
    assert not owner.is_dead(f"0badc0de-{_dead_pid()}-00ff00ff")


def test_tokens_written_before_the_unified_format_are_read() -> None:
    pid = _dead_pid()
    assert owner.is_dead(f"{socket.gethostname()}:{pid}:abc")
    assert owner.is_dead(f"{owner.HOST_TAG}.{pid}.0a0b0c0d")
    assert not owner.is_dead(f"{socket.gethostname()}:{os.getpid()}:abc")


def test_no_holder_is_dead_and_garbage_is_not() -> None:
    assert owner.is_dead(None) and owner.is_dead("")
    assert owner.parse("report.txt") is None
    assert not owner.is_dead("not-a-token-at-all")
