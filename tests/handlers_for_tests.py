"""Handlers only the tests use, registered through ``SPOOLGATE_HANDLER_PACKAGES`` (``tests/support.py``
sets it, so the daemons the tests start find them too).

``test.archive`` is the archive handler with two deterministic faults: a line holding
``fail_marker`` rejects the file (the error path), a line holding ``crash_marker`` kills the
worker thread, not the process (the watchdog's pings must stop).
"""

from __future__ import annotations

from typing import BinaryIO

from formats.errors import IssueCode
from handlers.base import FileContext, HandlerResult, Rejected
from handlers.core.archive import OPTIONS, ArchiveHandler

HANDLERS = {"test.archive": "tests.handlers_for_tests:FaultyArchiveHandler"}


class FaultyArchiveHandler(ArchiveHandler):
    name = "test.archive"
    description = "the archive handler, failing or crashing on marker lines (tests only)"
    known_options = OPTIONS | {"fail_marker", "crash_marker"}

    def handle(self, ctx: FileContext, stream: BinaryIO) -> HandlerResult:
        fail = self.options.get("fail_marker")
        crash = self.options.get("crash_marker")
        for lineno, line in enumerate(stream, 1):
            if isinstance(fail, str) and fail.encode() in line:
                raise Rejected(f"line {lineno} contains the fail marker", code=IssueCode.FAIL_MARKER)
            if isinstance(crash, str) and crash.encode() in line:
                raise SystemExit(f"crash marker on line {lineno}")
        stream.seek(0)
        return super().handle(ctx, stream)
