"""The ``spoolgate`` command. Signals and exit codes live here and nowhere else.

Each command group is a module in this package with ``register(subparsers)``;
a command's ``func(args) -> int`` returns one of the named exit codes.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: exit codes, named so the systemd unit can tell config errors from crashes
EXIT_OK = 0
EXIT_FAILURE = 1  #: the command ran and found a problem (e.g. an invalid file)
EXIT_USAGE = 2  #: bad arguments (argparse uses 2 as well)
EXIT_DB_UNAVAILABLE = 69  #: EX_UNAVAILABLE: database unreachable at start-up
EXIT_SOFTWARE = 70  #: EX_SOFTWARE: an internal error (a thread died)
EXIT_LOCKED = 75  #: EX_TEMPFAIL: another daemon holds the spool lock
EXIT_CONFIG = 78  #: EX_CONFIG: invalid configuration; systemd must not restart-loop

COMMAND_MODULES: tuple[str, ...] = (
    "daemon.cli.core",
    "daemon.cli.ach",
    "daemon.cli.cdp",
    "daemon.cli.pbs",
    "daemon.cli.ach_ops",
    "daemon.cli.pgp",
    "daemon.cli.web",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spoolgate", description=__doc__.splitlines()[0])
    parser.add_argument("--config", "-c", help="TOML config file (default: $SPOOLGATE_CONFIG)")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING, ERROR")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_usage(sys.stderr)
        return EXIT_USAGE
    code: int = func(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
