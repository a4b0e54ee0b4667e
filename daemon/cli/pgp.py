"""``spoolgate pgp import FILE`` and ``spoolgate pgp list``: the daemon's GnuPG home.

The home is ``[checkfree.pgp] home`` (or ``[pgp] home``), default
``<state_dir>/gnupg``, created with mode 0700. Secret keys are imported with
the passphrase from ``--passphrase-env VAR`` (never from the command line,
where ``ps`` would show it).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("pgp", help="manage the daemon's GnuPG home (CheckFree keys)",
                              description="The GnuPG home the daemon encrypts, signs and decrypts with.")
    sub = p.add_subparsers(dest="pgp_command", metavar="SUBCOMMAND")
    sub.required = True
    imp = sub.add_parser("import", help="import a public or secret key file",
                         description="Import a public or secret key file into the daemon's GnuPG home.")
    imp.add_argument("file", metavar="FILE", help="the key file (ASCII-armoured or binary)")
    imp.add_argument("--passphrase-env", metavar="VAR", default=None,
                     help="environment variable holding a secret key's passphrase")
    imp.set_defaults(func=import_command)
    ls = sub.add_parser("list", help="list the keys in the home",
                        description="List the keys in the daemon's GnuPG home.")
    ls.add_argument("--secret", action="store_true", help="list secret keys")
    ls.set_defaults(func=list_command)


def _home(args: argparse.Namespace) -> Any:
    from daemon.cli.context import load_settings
    from handlers.checkfree.settings import pgp_home

    return pgp_home(load_settings(args))


def import_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from daemon.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
    from spool.pgp import PgpError

    passphrase = None
    if args.passphrase_env:
        passphrase = os.environ.get(args.passphrase_env)
        if passphrase is None:
            print(f"spoolgate pgp import: ${args.passphrase_env} is not set", file=sys.stderr)
            return EXIT_USAGE
    path = Path(args.file)
    if not path.is_file():
        print(f"spoolgate pgp import: {path}: no such file", file=sys.stderr)
        return EXIT_USAGE
    home = _home(args)
    try:
        summary = home.import_keys(path, passphrase=passphrase)
    except PgpError as exc:
        print(f"spoolgate pgp import: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        home.close()
    for fpr in summary.fingerprints:
        print(f"imported {fpr}")
    print(f"home {home.home}: {summary.imported} new, {summary.unchanged} unchanged, "
          f"{summary.secret_imported} secret")
    return EXIT_OK


def list_command(args: argparse.Namespace) -> int:
    from daemon.cli import EXIT_FAILURE, EXIT_OK
    from spool.pgp import PgpError

    home = _home(args)
    try:
        keys = home.list_keys(secret=args.secret)
    except PgpError as exc:
        print(f"spoolgate pgp list: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        home.close()
    for k in keys:
        print(f"{k.fingerprint}  {'sec' if k.secret else 'pub'}  {'; '.join(k.uids)}")
    return EXIT_OK
