"""``spoolgate ach validate|describe``: the same NACHA code the ACH channel uses.

Heavy imports happen inside the commands so ``spoolgate --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    ach = subparsers.add_parser("ach", help="NACHA ACH files: validate and describe")
    sub = ach.add_subparsers(dest="ach_command", metavar="ACH_COMMAND")
    sub.required = True
    v = sub.add_parser("validate", help="validate a NACHA file; exit 0 valid, 1 invalid, 2 usage")
    v.add_argument("file", help="the ACH file")
    v.add_argument("--policy", default="default",
                   help="validation policy preset (default, strict, bank-returns, ...)")
    v.add_argument("--json", action="store_true", help="print one JSON object")
    v.set_defaults(func=cmd_validate)
    d = sub.add_parser("describe", help="list the batches and entries of a NACHA file")
    d.add_argument("file", help="the ACH file")
    d.add_argument("--policy", default="default", help="validation policy preset")
    d.set_defaults(func=cmd_describe)


def _policy(name: str) -> Any:
    from formats.errors import FormatError
    from formats.nacha.policy import PRESETS, ValidationPolicy

    try:
        return ValidationPolicy.named(name)
    except FormatError:
        print(f"spoolgate ach: unknown policy {name} (known: {', '.join(sorted(PRESETS))})",
              file=sys.stderr)
        return None


def _open(path: str) -> Any:
    try:
        return open(path, "rb")
    except OSError as exc:
        print(f"spoolgate ach: cannot open {path}: {exc.strerror}", file=sys.stderr)
        return None


def cmd_validate(args: argparse.Namespace) -> int:
    import json

    from daemon.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
    from formats.nacha.validator import validate

    policy = _policy(args.policy)
    stream = _open(args.file) if policy is not None else None
    if policy is None or stream is None:
        return EXIT_USAGE
    with stream:
        report = validate(stream, policy)
    if args.json:
        sys.stdout.write(json.dumps(report.to_dict()) + "\n")
        return EXIT_OK if report.ok else EXIT_FAILURE
    s = report.summary
    print(f"{args.file}: {'valid' if report.ok else 'INVALID'}")
    print(f"  batches {s.batches}, entries {s.entries}, addenda {s.addenda}")
    print(f"  debit total {s.debit_total} cents, credit total {s.credit_total} cents")
    print(f"  returns {s.returns}, NOCs {s.nocs}, warnings {len(report.warnings)}")
    for w in report.warnings:
        print(f"  warning: {w}")
    for e in report.errors:
        print(f"  error: {e}")
    if report.error_count > len(report.errors):
        print(f"  ... {report.error_count - len(report.errors)} more errors not shown")
    return EXIT_OK if report.ok else EXIT_FAILURE


def _initials(name: str) -> str:
    """A person's name as initials: names are masked in every report."""
    return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split()) or "-"


def cmd_describe(args: argparse.Namespace) -> int:
    from daemon.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
    from formats.errors import mask, mask_digit_runs
    from formats.nacha.model import Entry
    from formats.nacha.reader import AchReader
    from formats.nacha.records.batch_control import BatchControl
    from formats.nacha.records.batch_header import BatchHeader
    from formats.nacha.records.file_control import FileControl
    from formats.nacha.records.file_header import FileHeader

    policy = _policy(args.policy)
    stream = _open(args.file) if policy is not None else None
    if policy is None or stream is None:
        return EXIT_USAGE
    out = sys.stdout.write
    with stream:
        reader = AchReader(stream, policy)
        for line, rec in reader:
            if isinstance(rec, FileHeader):
                out(f"file {rec.file_creation_date} {rec.file_creation_time} id {rec.file_id_modifier}: "
                    f"from {rec.immediate_origin.strip()} \"{rec.immediate_origin_name.strip()}\" "
                    f"to {rec.immediate_destination.strip()} \"{rec.immediate_destination_name.strip()}\"\n")
            elif isinstance(rec, BatchHeader):
                out(f"  batch {rec.batch_number} (line {line}) {rec.standard_entry_class} "
                    f"class {rec.service_class_code} \"{rec.company_name.strip()}\" {rec.company_identification} "
                    f"\"{rec.company_entry_description.strip()}\" effective {rec.effective_entry_date}\n")
            elif isinstance(rec, Entry):
                d = rec.detail
                out(f"    {d.trace_number} tx {d.transaction_code:02d} {d.rdfi_routing} "
                    f"{mask(d.dfi_account_number)} {d.amount:>12} {_initials(d.individual_name)}\n")
                if (r := rec.return_result) is not None:
                    out(f"      {r.kind} {r.code} {r.description}; original trace {r.original_trace_number}\n")
                if (n := rec.noc_result) is not None:
                    out(f"      NOC {n.code} {n.description}; original trace {n.original_trace_number}; "
                        f"corrected \"{mask_digit_runs(n.corrected.raw.strip())}\"\n")
            elif isinstance(rec, BatchControl):
                out(f"  end of batch {rec.batch_number}: {rec.entry_addenda_count} records, "
                    f"debits {rec.total_debit_amount}, credits {rec.total_credit_amount}\n")
            elif isinstance(rec, FileControl):
                out(f"file control: {rec.batch_count} batches, {rec.entry_addenda_count} records, "
                    f"debits {rec.total_debit_amount}, credits {rec.total_credit_amount}\n")
    for e in reader.errors:
        out(f"error: {e}\n")
    return EXIT_OK if reader.error_count == 0 else EXIT_FAILURE
