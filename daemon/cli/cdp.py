"""``spoolgate cdp validate FILE [--json]``: check a CheckFree CDP file without touching the database.

Exit 0 when the file is valid, 1 when it is not, 2 for usage problems (no such
file, unreadable layout file).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("cdp", help="CheckFree CDP files")
    sub = p.add_subparsers(dest="cdp_command", metavar="SUBCOMMAND")
    sub.required = True
    v = sub.add_parser("validate", help="validate a CDP file (record layout, order, controls, name)")
    v.add_argument("file", metavar="FILE", help="the CheckFree CDP file to check")
    v.add_argument("--json", action="store_true", help="print a JSON report")
    v.add_argument("--layout", metavar="TOML", help="record layout file (default: the shipped stand-in)")
    v.add_argument("--type", dest="file_type", default=None,
                   help="expected file type (default: from the name or the header)")
    v.set_defaults(func=validate_command)


def validate_command(args: argparse.Namespace) -> int:
    from daemon.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
    from formats.checkfree import FILE_TYPES, LayoutError, default_layout, load_layout, validate

    if args.file_type is not None and args.file_type not in FILE_TYPES:
        print(f"spoolgate cdp validate: --type must be one of {', '.join(FILE_TYPES)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        layout = load_layout(args.layout) if args.layout else default_layout()
    except LayoutError as exc:
        print(f"spoolgate cdp validate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        stream = open(args.file, "rb")  # noqa: SIM115 -- closed below, around the report
    except OSError as exc:
        print(f"spoolgate cdp validate: {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    with stream:
        report = validate(stream, name=os.path.basename(args.file), layout=layout,
                          expected_type=args.file_type)
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        state = "valid" if report.ok else "INVALID"
        print(f"{args.file}: {state} {report.file_type or '?'} file, {report.records} records, "
              f"{report.counts.get('detail', 0)} payments, total {report.totals['amount']} cents")
        for issue in report.errors:
            print(f"  error: {issue}")
        for issue in report.warnings:
            print(f"  warning: {issue}")
    return EXIT_OK if report.ok else EXIT_FAILURE
