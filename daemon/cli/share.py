"""``spoolgate share``: where the shipped samples are (configs, templates, XSLT, the systemd unit).

An installed copy keeps them inside the package; operators copy them from there.
"""

from __future__ import annotations

import argparse
import sys

from daemon.cli import EXIT_FAILURE, EXIT_OK


def cmd_share(args: argparse.Namespace) -> int:
    from store import share

    if not args.name:
        for name in share.listing():
            print(f"{name}\t{share.find(name)}")
        return EXIT_OK
    try:
        node = share.find(args.name)
    except FileNotFoundError as exc:
        print(f"spoolgate: no shipped file {exc} (spoolgate share lists them)", file=sys.stderr)
        return EXIT_FAILURE
    if args.cat:
        if node.is_dir():
            print(f"spoolgate: {args.name} is a folder", file=sys.stderr)
            return EXIT_FAILURE
        sys.stdout.write(node.read_text(encoding="utf-8"))
    else:
        print(node)
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("share", help="list the shipped sample files (configs, templates, unit) or print one's path")
    p.add_argument("name", nargs="?", help="a shipped file or folder, e.g. etc/spoolgate.example.toml or ack.xsl")
    p.add_argument("--cat", action="store_true", help="print the file's content instead of its path")
    p.set_defaults(func=cmd_share)
