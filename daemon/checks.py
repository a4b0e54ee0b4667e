"""Start-up checks beyond the config file itself: the machine and the database.

``daemon.config.validate`` checks what the file says; these check what it must
agree with, so a mismatch is one ``check-config`` line and exit 78 instead of a
traceback per file or a restart loop. Every problem is reported, never just the first.
"""

from __future__ import annotations

import errno
import socket
import urllib.request
from typing import TYPE_CHECKING

from pydantic import ValidationError
from sqlalchemy import select

if TYPE_CHECKING:
    from daemon.config import Settings
    from daemon.db import Database


def _serves_spoolgate_metrics(host: str, port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=2) as resp:
            return b"spoolgate_" in resp.read(1 << 20)
    except Exception:
        return False


def metrics_port_problem(settings: Settings, *, running_ok: bool = False) -> str | None:
    """A bind probe of the metrics address. ``running_ok``: a spoolgate serving there is fine
    (``check-config`` beside the running daemon), not for the daemon that must bind it."""
    m = settings.metrics
    if not m.enabled:
        return None
    try:
        infos = socket.getaddrinfo(m.host, m.port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"metrics.host: {m.host} does not resolve: {exc.strerror or exc}"
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            if running_ok and _serves_spoolgate_metrics(m.host, m.port):
                return None
            return f"metrics.port: {m.host}:{m.port} is already in use by another program"
        return f"metrics: cannot listen on {m.host}:{m.port}: {exc.strerror or exc}"
    finally:
        sock.close()
    return None


def secret_problems(settings: Settings) -> list[str]:
    """In production (``production = true``) a secret written in the TOML file is refused."""
    if not settings.production:
        return []
    names = {"database_url": "database_password", "smtp.password": "smtp_password",
             "checkfree.pgp.passphrase": "pgp_passphrase", "pgp.passphrase": "pgp_passphrase"}
    return [f"{key}: a secret in the config file; in production it comes from the systemd credential "
            f"{names.get(key, key)} (LoadCredential={names.get(key, key)}:FILE, read from $CREDENTIALS_DIRECTORY)"
            for key in settings._toml_secrets]


def runtime_problems(settings: Settings, *, running_ok: bool = False) -> list[str]:
    """What production and the machine require before start-up: no secrets in the file, a free metrics port."""
    problems = secret_problems(settings)
    problem = metrics_port_problem(settings, running_ok=running_ok)
    return problems + ([problem] if problem else [])


def database_problems(settings: Settings, db: Database) -> list[str]:
    """Settings that name database rows that must exist or agree (today: ``[ach.payees.NAME]``)."""
    from daemon.models.ach import PaymentPayee
    from handlers.ach.settings import PayeeSettings
    from handlers.ach.store import ach_settings

    if not settings.ach:
        return []
    try:
        overrides = ach_settings(settings).payees
    except ValidationError:
        return []  # reported by validate()
    problems: list[str] = []
    with db.transaction() as s:
        rows = {r.name: r for r in s.scalars(select(PaymentPayee))}
    for name in sorted(set(overrides) - set(rows)):
        problems.append(f"ach.payees.{name}: no payee named {name} in the database "
                        f"(known: {', '.join(sorted(rows)) or 'none'}; payees are loaded with `spoolgate import`)")
    for name, row in rows.items():
        try:
            PayeeSettings.model_validate({**(row.settings or {}), "gateway": row.gateway, **overrides.get(name, {})})
        except ValidationError as exc:
            for e in exc.errors():
                loc = ".".join(str(x) for x in e["loc"])
                problems.append(f"ach.payees.{name}.{loc}: {e['msg']} (the payee's settings in the database "
                                "merged with the config)")
    return problems
