"""Logging of every command: masked one-line records on stderr, JSON on request."""

from __future__ import annotations

import logging
import sys

from daemon.logfmt import JsonFormatter, MaskingFormatter, journald_stderr


def setup_logging(level: str, as_json: bool = False, *, prefix: bool | None = None) -> None:
    """Masked one-line records on stderr; journald priority prefixes when stderr is the journal."""
    prefix = journald_stderr() if prefix is None else prefix
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(prefix=prefix) if as_json else
                         MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", prefix=prefix))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("watchdog").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
