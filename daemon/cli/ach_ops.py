"""ACH operator commands: ``import``, ``audit``, ``report daily|settlement``, ``release``.

Heavy imports happen inside the commands so ``spoolgate --help`` stays fast.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from daemon.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from daemon.cli.context import command_context


def register(sub: Any) -> None:
    from daemon.cli.core import reason_text

    imp = sub.add_parser("import", help="load payees, payment accounts and scheduled payments from JSON, "
                                        "or setup records (recurring payments, reminders, accounts) from JSON Lines",
                         description="Load payees, payment accounts and scheduled payments (JSON), or setup "
                                     "records (JSON Lines). Every row is checked first; one bad row rejects the "
                                     "whole file with every reason. Running it again is safe: payees and accounts "
                                     "are updated, and a payment whose external_id (per payee) was imported "
                                     "before is left unchanged.")
    imp.add_argument("file", metavar="FILE",
                     help="JSON: {payees: [...], accounts: [...], payments: [...]}, each payment with an "
                          "external_id; *.jsonl: setup records (formats/setups/setups.schema.json)")
    imp.set_defaults(func=cmd_import)

    aud = sub.add_parser("audit", help="the audit history of a payment, an account number, a payment account "
                                       "or a PBS customer",
                         description="The audit history (seed 004) of one payment, payer account, payment "
                                     "account or PBS customer between two dates.")
    who = aud.add_mutually_exclusive_group(required=True)
    who.add_argument("--payment-id", type=int, metavar="ID", help="one payment, by its payment id")
    who.add_argument("--account", metavar="NUMBER", help="the payer's account number with the biller")
    who.add_argument("--pid", metavar="PID", help="a payment account, by its id")
    who.add_argument("--pbs-customer", metavar="NUMBER", help="a PBS customer number: its payment lines and agreements")
    aud.add_argument("--from", dest="start", required=True, metavar="DATE", help="first day, YYYY-MM-DD (inclusive)")
    aud.add_argument("--to", dest="end", required=True, metavar="DATE",
                     help="last day, YYYY-MM-DD (inclusive; not before --from)")
    aud.add_argument("--json", action="store_true", help="print JSON instead of text")
    aud.set_defaults(func=cmd_audit)

    rep = sub.add_parser("report", help="payment reports", description="Payment reports.")
    rsub = rep.add_subparsers(dest="report_command", metavar="REPORT")
    rsub.required = True
    daily = rsub.add_parser("daily", help="the day's summary and exception reports and check status changes",
                            description="The summary and exception reports written on one day, and the "
                                        "checks whose status changed that day.")
    daily.add_argument("--date", required=True, metavar="DATE", help="the day, YYYY-MM-DD")
    daily.add_argument("--payee", metavar="NAME", help="only this payee's reports")
    daily.add_argument("--json", action="store_true", help="print JSON instead of text")
    daily.set_defaults(func=cmd_report_daily)
    settle = rsub.add_parser("settlement", help="settlement positions per payee/ODFI and PBS creditor for a day",
                             description="Sent, ready, held-over, returned and received amounts per ACH payee "
                                         "and PBS creditor for one business day, and the net.")
    settle.add_argument("--date", required=True, metavar="DATE",
                        help="the business day, YYYY-MM-DD (a day in the [settlement] time zone)")
    fmt = settle.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON instead of text")
    fmt.add_argument("--csv", action="store_true", help="print CSV (one row per position) instead of text")
    settle.set_defaults(func=cmd_report_settlement)

    rel = sub.add_parser("release", help="release a batch check-submit held back over a risk limit",
                         description="Release a batch that check-submit suspended over a risk limit; the next "
                                     "check-submit run submits it.")
    rel.add_argument("batch", type=int, metavar="BATCH", help="the suspended batch's number")
    rel.add_argument("--by", default=None, metavar="NAME", help="who releases it (default: the Unix user)")
    rel.add_argument("--reason", default="no reason given (cli)", type=reason_text, metavar="TEXT",
                     help="why; recorded with the release")
    rel.set_defaults(func=cmd_release)


def _text(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        print(f"spoolgate: {text} is not a date (YYYY-MM-DD)", file=sys.stderr)
        return None


def cmd_import(args: argparse.Namespace) -> int:
    from handlers.ach.audit import Actor
    from handlers.ach.importer import ImportRejected, import_data

    if args.file.endswith(".jsonl"):
        return _import_setups(args)
    try:
        with open(args.file, "rb") as fh:
            data = json.load(fh)
    except OSError as exc:
        print(f"spoolgate import: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:
        print(f"spoolgate import: {args.file} is not JSON: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    with command_context(args) as ctx:
        try:
            with ctx.db.transaction() as s:
                res = import_data(s, ctx.settings, data, Actor.operator("cli-import"))
        except ImportRejected as exc:
            print(f"spoolgate import: {args.file}: {exc}", file=sys.stderr)
            for p in exc.problems:
                print(f"  {p}", file=sys.stderr)
            return EXIT_FAILURE
    print(f"imported {res.payees} payee(s), {res.accounts_created} new and {res.accounts_updated} updated "
          f"account(s), {res.payments} payment(s); {res.payments_existing} payment(s) already imported, unchanged")
    return EXIT_OK


def _import_setups(args: argparse.Namespace) -> int:
    from handlers.ach.audit import Actor
    from handlers.recurring.setups import SetupsRejected, load_setups

    try:
        with open(args.file, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        print(f"spoolgate import: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    actor = Actor.operator("cli-import")
    with command_context(args) as ctx:
        try:
            with ctx.db.transaction() as s:
                res = load_setups(s, data, actor, actor.now.astimezone().date())
        except SetupsRejected as exc:
            print(f"spoolgate import: {args.file}: {exc}", file=sys.stderr)
            for issue in exc.issues:
                print(f"  {issue}", file=sys.stderr)
            return EXIT_FAILURE
    print("imported " + ", ".join(f"{v} {k}" for k, v in sorted(res.counts.items())))
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:
    from handlers.ach.reports import audit

    start, end = _date(args.start), _date(args.end)
    if start is None or end is None:
        return EXIT_USAGE
    if start > end:
        print(f"spoolgate audit: --from {start} is after --to {end}", file=sys.stderr)
        return EXIT_USAGE
    with command_context(args) as ctx, ctx.db.transaction() as s:
        out = audit(s, payment_id=args.payment_id, account=args.account, pid=args.pid,
                    pbs_customer=args.pbs_customer, start=start, end=end)
    if args.json:
        print(json.dumps(out, indent=1, default=str))
        return EXIT_OK
    for table, rows in out.items():
        print(f"{table}: {len(rows)} row(s)")
        for r in rows:
            key = r.get("payment_id", r.get("pid", r.get("refund_id", r.get("id"))))
            state = r.get("status", r.get("account_status"))
            print(f"  {r['time_stamp']}  op={r['audit_operation']} id={_text(key)} status={_text(state)} "
                  f"job={_text(r['job_name'])}({r['job_id']}) {r['audit_reason'] or ''}")
    return EXIT_OK


def cmd_report_settlement(args: argparse.Namespace) -> int:
    from daemon import settlement

    day = _date(args.date)
    if day is None:
        return EXIT_USAGE
    with command_context(args) as ctx, ctx.db.transaction() as s:
        ps = settlement.positions(s, day, ctx.settings)
    if args.json:
        print(json.dumps({"date": day.isoformat(), "positions": [p.to_dict() for p in ps]}, indent=1))
    elif args.csv:
        sys.stdout.write(settlement.to_csv(ps))
    else:
        sys.stdout.write(settlement.to_text(day, ps))
    return EXIT_OK


def cmd_report_daily(args: argparse.Namespace) -> int:
    from handlers.ach.reports import daily
    from handlers.ach.store import cents

    day = _date(args.date)
    if day is None:
        return EXIT_USAGE
    with command_context(args) as ctx, ctx.db.transaction() as s:
        out = daily(s, day, args.payee)
    if args.json:
        print(json.dumps(out, indent=1, default=str))
        return EXIT_OK
    print(f"Payment reports for {out['date']}{' payee ' + args.payee if args.payee else ''}: "
          f"{len(out['reports'])} report(s)")
    for r in out["reports"]:
        print(f"\nReport {r['log_id']} ({_text(r.get('report_type'))}) payee {', '.join(r.get('payee', []))} "
              f"job {_text(r.get('job'))} file {_text(r.get('file'))}")
        for k, v in r.items():
            if k in ("log_id", "report_type", "payee", "job", "file"):
                continue
            if isinstance(v, list):
                print(f"  {k}: {len(v)}")
                for item in v[:50]:
                    print("    " + (" ".join(f"{ik}={_text(iv)}" for ik, iv in item.items())
                                    if isinstance(item, dict) else _text(item)))
            elif k.startswith("total_") and k.endswith(("amount", "debit", "credit")) and str(v).lstrip("-").isdigit():
                print(f"  {k}: {cents(int(v))}")
            else:
                print(f"  {k}: {_text(v)}")
    print("\nStatus of checks changed that day:")
    for label, v in sorted(out["status"].items()):
        print(f"  {label}: {v['count']} ({cents(v['amount'])})")
    return EXIT_OK


def cmd_release(args: argparse.Namespace) -> int:
    from daemon import operator_actions as ops
    from daemon.cli.core import cli_actor

    with command_context(args) as ctx:
        res = ops.release_batch(ctx.db, args.batch, cli_actor(args), args.reason)
    if not res.ok:
        print(f"spoolgate release: {res.message}", file=sys.stderr)
        return EXIT_FAILURE
    print(res.message)
    return EXIT_OK
