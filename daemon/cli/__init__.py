"""The ``spoolgate`` command. Signals and exit codes live here and nowhere else.

Each command group is a module in this package with ``register(subparsers)``;
a command's ``func(args) -> int`` returns one of the named exit codes, or raises
``Fail`` for a one-line refusal. ``main`` turns every failure into one line and
an exit code: operators never see a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

#: exit codes, named so the systemd unit can tell config errors from crashes
EXIT_OK = 0
EXIT_FAILURE = 1  #: the command ran and found a problem (e.g. an invalid file)
EXIT_USAGE = 2  #: bad arguments (argparse uses 2 as well)
EXIT_DB_UNAVAILABLE = 69  #: EX_UNAVAILABLE: database unreachable or not initialised
EXIT_SOFTWARE = 70  #: EX_SOFTWARE: an internal error (a thread died, a bug)
EXIT_LOCKED = 75  #: EX_TEMPFAIL: another daemon holds the spool lock
EXIT_CONFIG = 78  #: EX_CONFIG: invalid or missing configuration; systemd must not restart-loop
EXIT_INTERRUPTED = 130  #: Ctrl-C (128 + SIGINT); ``run`` handles SIGINT itself and stops cleanly
EXIT_PIPE = 141  #: the reader of our output went away (``| head``): 128 + SIGPIPE, like any shell tool

#: where the configuration is looked for after ``--config`` and ``$SPOOLGATE_CONFIG``
DEFAULT_CONFIG = "/etc/spoolgate/spoolgate.toml"

#: commands that read only the file they are given or the shipped files, never the configuration or the database
NO_CONFIG_COMMANDS = frozenset({"ach", "cdp", "pbs", "share"})

COMMAND_MODULES: tuple[str, ...] = (
    "daemon.cli.core",
    "daemon.cli.ach",
    "daemon.cli.cdp",
    "daemon.cli.pbs",
    "daemon.cli.ach_ops",
    "daemon.cli.pgp",
    "daemon.cli.share",
    "daemon.cli.web",
)


class Fail(Exception):
    """A refusal the operator reads as one line (``spoolgate: MESSAGE``) with an exit code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def find_config(given: str | None) -> str:
    """``--config``, else ``$SPOOLGATE_CONFIG``, else ``DEFAULT_CONFIG``; ``Fail`` (78) when none exists."""
    if given:
        if not os.path.isfile(given):
            raise Fail(EXIT_CONFIG, f"config error: config file {given} not found (given with --config)")
        return given
    env = os.environ.get("SPOOLGATE_CONFIG")
    if env:
        if not os.path.isfile(env):
            raise Fail(EXIT_CONFIG, f"config error: config file {env} not found (from $SPOOLGATE_CONFIG)")
        return env
    if os.path.isfile(DEFAULT_CONFIG):
        return DEFAULT_CONFIG
    raise Fail(EXIT_CONFIG, f"config error: no configuration: give --config FILE, set $SPOOLGATE_CONFIG, "
                            f"or install {DEFAULT_CONFIG}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spoolgate", description=(__doc__ or "").splitlines()[0],
        epilog=f"Exit codes: {EXIT_OK} ok, {EXIT_FAILURE} the command found a problem, {EXIT_USAGE} usage, "
               f"{EXIT_DB_UNAVAILABLE} database unavailable, {EXIT_SOFTWARE} internal error, "
               f"{EXIT_LOCKED} spool lock held, {EXIT_CONFIG} configuration error, "
               f"{EXIT_INTERRUPTED} interrupted, {EXIT_PIPE} output pipe closed.")
    parser.add_argument("--config", "-c", metavar="FILE",
                        help=f"the TOML configuration (default: $SPOOLGATE_CONFIG, else {DEFAULT_CONFIG})")
    parser.add_argument("--log-level", default=None, metavar="LEVEL",
                        help="log detail on stderr: DEBUG, INFO, WARNING or ERROR (default: the config's)")
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


def _db_unavailable(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError

    from store.db import DatabaseUnavailable, is_transient

    return isinstance(exc, DatabaseUnavailable) or (isinstance(exc, DBAPIError) and is_transient(exc))


def one_line(exc: BaseException) -> str:
    """An exception as one masked line (a driver's first line, without SQLAlchemy's background link)."""
    from formats.errors import mask_digit_runs

    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return mask_digit_runs(text[0] if text else type(exc).__name__, 8)


def _run(func: object, args: argparse.Namespace) -> int:
    try:
        if args.command not in NO_CONFIG_COMMANDS:
            args.config = find_config(args.config)
        code: int = func(args)  # type: ignore[operator]
        sys.stdout.flush()
        return code
    except Fail as exc:
        print(f"spoolgate: {exc}", file=sys.stderr)
        return exc.code
    except BrokenPipeError:
        raise
    except KeyboardInterrupt:
        print("spoolgate: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if _db_unavailable(exc):
            print(f"spoolgate: database unavailable: {one_line(exc)}", file=sys.stderr)
            return EXIT_DB_UNAVAILABLE
        if (args.log_level or "").upper() == "DEBUG":
            traceback.print_exc()
        print(f"spoolgate: internal error: {type(exc).__name__}: {one_line(exc)} "
              f"(run with --log-level DEBUG for details)", file=sys.stderr)
        return EXIT_SOFTWARE


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_usage(sys.stderr)
        return EXIT_USAGE
    try:
        return _run(func, args)
    except BrokenPipeError:
        # the reader left (``spoolgate errors | head``): no traceback, no second error at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_PIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
