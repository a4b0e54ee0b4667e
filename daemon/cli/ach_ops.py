"""ACH operator commands: ``import``, ``audit``, ``report daily``, ``release``.

Heavy imports happen inside the commands so ``spoolgate --help`` stays fast.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from daemon.cli import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_USAGE


def register(sub: Any) -> None:
    imp = sub.add_parser("import", help="load payees, payment accounts and scheduled payments from JSON, "
                                        "or setup records (recurring payments, reminders, accounts) from JSON Lines")
    imp.add_argument("file", help="JSON: {payees: [...], accounts: [...], payments: [...]}; "
                                  "*.jsonl: setup records (formats/setups/setups.schema.json)")
    imp.set_defaults(func=cmd_import)

    aud = sub.add_parser("audit", help="seed 004 audit history by payment id, account number or pid")
    who = aud.add_mutually_exclusive_group(required=True)
    who.add_argument("--payment-id", type=int)
    who.add_argument("--account", help="the payer's account number with the biller")
    who.add_argument("--pid", help="payment account id")
    aud.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD (inclusive)")
    aud.add_argument("--to", dest="end", required=True, help="YYYY-MM-DD (inclusive)")
    aud.add_argument("--json", action="store_true")
    aud.set_defaults(func=cmd_audit)

    rep = sub.add_parser("report", help="payment reports")
    rsub = rep.add_subparsers(dest="report_command", metavar="REPORT")
    rsub.required = True
    daily = rsub.add_parser("daily", help="daily summary and exception reports")
    daily.add_argument("--date", required=True, help="YYYY-MM-DD")
    daily.add_argument("--payee")
    daily.add_argument("--json", action="store_true")
    daily.set_defaults(func=cmd_report_daily)

    rel = sub.add_parser("release", help="release a batch check-submit suspended over a risk limit")
    rel.add_argument("batch", type=int)
    rel.add_argument("--by", default=None, help="operator name recorded with the release")
    rel.set_defaults(func=cmd_release)


def _open(args: argparse.Namespace) -> Any:
    from daemon.config import ConfigError, load
    from daemon.db import Database

    try:
        settings = load(args.config)
    except ConfigError as exc:
        print(f"spoolgate: config error: {exc}", file=sys.stderr)
        return None, None
    return settings, Database(settings.database_url)


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        print(f"spoolgate: {text!r} is not a date (YYYY-MM-DD)", file=sys.stderr)
        return None


def cmd_import(args: argparse.Namespace) -> int:
    from handlers.ach.audit import Actor
    from handlers.ach.importer import ImportRejected, import_data

    if args.file.endswith(".jsonl"):
        return _import_setups(args)
    try:
        with open(args.file, "rb") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        print(f"spoolgate import: cannot read {args.file}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    settings, db = _open(args)
    if db is None:
        return EXIT_CONFIG
    try:
        with db.transaction() as s:
            res = import_data(s, settings, data, Actor.operator("cli-import"))
    except ImportRejected as exc:
        print(f"spoolgate import: {args.file}: {exc}", file=sys.stderr)
        for p in exc.problems:
            print(f"  {p}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        db.dispose()
    print(f"imported {res.payees} payee(s), {res.accounts_created} new and {res.accounts_updated} updated "
          f"account(s), {res.payments} payment(s)")
    return EXIT_OK


def _import_setups(args: argparse.Namespace) -> int:
    from handlers.ach.audit import Actor
    from handlers.recurring.setups import SetupsRejected, load_setups

    try:
        with open(args.file, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        print(f"spoolgate import: cannot read {args.file}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    _settings, db = _open(args)
    if db is None:
        return EXIT_CONFIG
    actor = Actor.operator("cli-import")
    try:
        with db.transaction() as s:
            res = load_setups(s, data, actor, actor.now.astimezone().date())
    except SetupsRejected as exc:
        print(f"spoolgate import: {args.file}: {exc}", file=sys.stderr)
        for issue in exc.issues:
            print(f"  {issue}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        db.dispose()
    print("imported " + ", ".join(f"{v} {k}" for k, v in sorted(res.counts.items())))
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:
    from handlers.ach.reports import audit

    start, end = _date(args.start), _date(args.end)
    if start is None or end is None:
        return EXIT_USAGE
    _settings, db = _open(args)
    if db is None:
        return EXIT_CONFIG
    try:
        with db.transaction() as s:
            out = audit(s, payment_id=args.payment_id, account=args.account, pid=args.pid, start=start, end=end)
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(out, indent=1, default=str))
        return EXIT_OK
    for table, rows in out.items():
        print(f"{table}: {len(rows)} row(s)")
        for r in rows:
            key = r.get("payment_id", r.get("pid", r.get("refund_id")))
            state = r.get("status", r.get("account_status"))
            print(f"  {r['time_stamp']}  op={r['audit_operation']} id={key} status={state} "
                  f"job={r['job_name']}({r['job_id']}) {r['audit_reason'] or ''}")
    return EXIT_OK


def cmd_report_daily(args: argparse.Namespace) -> int:
    from handlers.ach.reports import daily
    from handlers.ach.store import cents

    day = _date(args.date)
    if day is None:
        return EXIT_USAGE
    _settings, db = _open(args)
    if db is None:
        return EXIT_CONFIG
    try:
        with db.transaction() as s:
            out = daily(s, day, args.payee)
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(out, indent=1, default=str))
        return EXIT_OK
    print(f"Payment reports for {out['date']}{' payee ' + args.payee if args.payee else ''}: "
          f"{len(out['reports'])} report(s)")
    for r in out["reports"]:
        print(f"\nReport {r['log_id']} ({r.get('report_type')}) payee {', '.join(r.get('payee', []))} "
              f"job {r.get('job')} file {r.get('file') or '-'}")
        for k, v in r.items():
            if k in ("log_id", "report_type", "payee", "job", "file"):
                continue
            if isinstance(v, list):
                print(f"  {k}: {len(v)}")
                for item in v[:50]:
                    print(f"    {item}")
            elif k.startswith("total_") and k.endswith(("amount", "debit", "credit")) and str(v).lstrip("-").isdigit():
                print(f"  {k}: {cents(int(v))}")
            else:
                print(f"  {k}: {v}")
    print("\nStatus of checks changed that day:")
    for label, v in sorted(out["status"].items()):
        print(f"  {label}: {v['count']} ({cents(v['amount'])})")
    return EXIT_OK


def cmd_release(args: argparse.Namespace) -> int:
    from sqlalchemy import update

    from daemon.db import utcnow
    from daemon.models.ach import HoldState, SuspendedBatch

    _settings, db = _open(args)
    if db is None:
        return EXIT_CONFIG
    try:
        with db.transaction() as s:
            batch = s.get(SuspendedBatch, args.batch, with_for_update=True)
            if batch is None:
                print(f"spoolgate release: no suspended batch {args.batch}", file=sys.stderr)
                return EXIT_FAILURE
            if batch.state != HoldState.SUSPENDED:
                print(f"spoolgate release: batch {args.batch} is {batch.state}, not suspended", file=sys.stderr)
                return EXIT_FAILURE
            s.execute(update(SuspendedBatch).where(SuspendedBatch.id == batch.id).values(
                state=HoldState.RELEASED, released_at=utcnow(), released_by=args.by))
            entries, debit = batch.entries, batch.debit_total
    finally:
        db.dispose()
    print(f"batch {args.batch} released ({entries} entries, debit {debit} cents); the next check-submit run "
          f"submits it")
    return EXIT_OK
