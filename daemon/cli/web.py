"""Console commands: ``spoolgate web`` (the operator console) and ``spoolgate users``."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from daemon.cli import EXIT_CONFIG, EXIT_DB_UNAVAILABLE, EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from daemon.cli.context import command_context


def register(sub: Any) -> None:
    web = sub.add_parser("web", help="serve the operator web console (binds 127.0.0.1 by default)")
    web.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; TLS belongs "
                     "to a reverse proxy in front)")
    web.add_argument("--port", type=int, default=8470, metavar="PORT", help="TCP port to listen on (default 8470)")
    web.add_argument("--forwarded-allow-ips", default="127.0.0.1",
                     help="proxies trusted for X-Forwarded-Proto/For (cookies are Secure under https)")
    web.set_defaults(func=cmd_web)

    users = sub.add_parser("users", help="console users (argon2-hashed passwords; roles viewer, operator, auditor)")
    usub = users.add_subparsers(dest="users_command", metavar="ACTION")
    usub.required = True
    add = usub.add_parser("add", help="add a user (the password is asked twice, or read from stdin)")
    add.add_argument("name", metavar="NAME", help="the user's login name")
    add.add_argument("--role", required=True, choices=["viewer", "operator", "auditor"],
                     help="viewer reads; operator also retries, releases and runs jobs; auditor reads and exports")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first stdin line")
    add.set_defaults(func=cmd_users)
    pw = usub.add_parser("passwd", help="set a new password (ends the user's sessions); --role changes the role")
    pw.add_argument("name", metavar="NAME", help="the user's login name")
    pw.add_argument("--role", choices=["viewer", "operator", "auditor"], help="also give the user this role")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from the first stdin line")
    pw.set_defaults(func=cmd_users)
    rm = usub.add_parser("remove", help="remove a user and end their sessions")
    rm.add_argument("name", metavar="NAME", help="the user's login name")
    rm.set_defaults(func=cmd_users)
    ls = usub.add_parser("list", help="users and roles")
    ls.set_defaults(func=cmd_users)


def _password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("new password: ")
    if first != getpass.getpass("again: "):
        print("spoolgate users: the passwords differ", file=sys.stderr)
        return None
    return first


def cmd_users(args: argparse.Namespace) -> int:
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from daemon.web import auth
    from store.models.console import ConsoleUser

    with command_context(args, check_schema=False) as ctx:
        password = _password(args) if args.users_command in ("add", "passwd") else ""
        if password is None:
            return EXIT_USAGE
        db = ctx.db
        try:
            with db.transaction() as s:
                if args.users_command == "add":
                    auth.add_user(s, args.name, password, args.role)
                elif args.users_command == "passwd":
                    auth.set_password(s, args.name, password, args.role)
                elif args.users_command == "remove":
                    auth.remove_user(s, args.name)
                else:
                    for u in s.scalars(select(ConsoleUser).order_by(ConsoleUser.username)):
                        print(f"{u.username:<24} {u.role:<9} password set {u.password_changed_at:%Y-%m-%d %H:%M}Z")
                    return EXIT_OK
        except auth.UserError as exc:
            print(f"spoolgate users: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        except SQLAlchemyError as exc:
            print(f"spoolgate users: database unavailable or schema not current (`spoolgate db upgrade`): "
                  f"{str(exc).splitlines()[0]}", file=sys.stderr)
            return EXIT_DB_UNAVAILABLE
    print(f"user {args.name}: {args.users_command} done")
    return EXIT_OK


def cmd_web(args: argparse.Namespace) -> int:
    import uvicorn
    from sqlalchemy import text

    from daemon.cli.logsetup import setup_logging
    from daemon.migrate import schema_current
    from daemon.web.app import create_app

    with command_context(args, check_schema=False) as ctx:
        setup_logging(args.log_level or ctx.settings.log_level, ctx.settings.log_json)
        db = ctx.db
        try:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            current = schema_current(db.engine)
        except Exception as exc:
            print(f"spoolgate web: database unavailable: {exc}", file=sys.stderr)
            return EXIT_DB_UNAVAILABLE
        if not current:
            print("spoolgate web: database schema is not current; run `spoolgate db upgrade`", file=sys.stderr)
            return EXIT_CONFIG
        app = create_app(ctx.settings, db)
        # access_log off: the uvicorn line would carry query strings (file names, payment ids) unmasked
        config = uvicorn.Config(app, host=args.host, port=args.port, proxy_headers=True,
                                forwarded_allow_ips=args.forwarded_allow_ips, access_log=False, log_config=None,
                                server_header=False)
        server = uvicorn.Server(config)
        server.run()
    return EXIT_OK if server.started else EXIT_FAILURE
