"""``spoolgate pbs validate FILE [--json]``: check a file from Nets Betalingsservice.

Classifies by content (0601 collections we write, 0602, 0603, PBCNET40/41
receipt), never by name. Exit 0
when valid, 1 when not, 2 for usage problems (no such file).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("pbs", help="Nets Betalingsservice (PBS) files")
    sub = p.add_subparsers(dest="pbs_command", metavar="SUBCOMMAND")
    sub.required = True
    v = sub.add_parser("validate", help="validate a 0601/0602/0603 delivery or a PBCNET receipt")
    v.add_argument("file", metavar="FILE", help="the Betalingsservice file to check")
    v.add_argument("--json", action="store_true", help="print a JSON report")
    v.add_argument("--allow-placeholders", action="store_true",
                   help="accept the Nets guide's PPPPPPPP/DDDDDDDD placeholder numbers (warning)")
    v.set_defaults(func=validate_command)


def validate_command(args: argparse.Namespace) -> int:
    from daemon.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
    from formats.pbs.fields import GUIDE_EXAMPLES, STRICT
    from formats.pbs.validate import validate

    try:
        stream = open(args.file, "rb")  # noqa: SIM115 -- closed below, around the report
    except OSError as exc:
        print(f"spoolgate pbs validate: {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    with stream:
        report = validate(stream, policy=GUIDE_EXAMPLES if args.allow_placeholders else STRICT)
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        state = "valid" if report.ok else "INVALID"
        if report.delivery_type == "0601":
            print(f"{args.file}: {state} 0601 delivery {report.delivery_number or '?'}, "
                  f"{report.counts.get('sections', 0)} sections, "
                  f"{report.counts.get('collections', 0)} collections, "
                  f"net {report.amounts.get('net', 0)} øre")
        elif report.receipt is not None:
            print(f"{args.file}: {state} {report.kind}, status {report.receipt['status']}, "
                  f"accepted count {report.receipt['accepted_count']}")
        else:
            print(f"{args.file}: {state} {report.kind} delivery {report.delivery_number or '?'}, "
                  f"{report.counts.get('sections', 0)} sections, "
                  f"{report.counts.get('payments', 0)} payments, "
                  f"{report.counts.get('mandate_events', 0)} mandate events, "
                  f"received {report.amounts.get('received', 0)} øre")
        for issue in report.errors:
            print(f"  error: {issue}")
        for issue in report.warnings:
            print(f"  warning: {issue}")
    return EXIT_OK if report.ok else EXIT_FAILURE
