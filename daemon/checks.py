"""Start-up checks beyond the config file itself: the machine and the database.

``store.config.validate`` checks what the file says; these check what it must
agree with, so a mismatch is one ``check-config`` line and exit 78 instead of a
traceback per file or a restart loop. Every problem is reported, never just the first.
"""

from __future__ import annotations

import errno
import socket
import tomllib
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy import select

if TYPE_CHECKING:
    from store.config import Settings
    from store.db import Database


#: sections whose entries are checked one by one: a bad entry does not hide the others' problems
_ENTRY_SECTIONS = ("channels", "jobs", "outbound")


def _prune(data: dict[str, Any], loc: tuple[Any, ...]) -> bool:
    """Drop the config part an error points at, so the rest can still be checked."""
    if not loc or loc[0] not in data:
        return False  # an environment override or a whole-config error: nothing to drop
    section = data[loc[0]]
    if loc[0] in _ENTRY_SECTIONS and len(loc) > 1 and isinstance(section, dict) and loc[1] in section:
        del section[loc[1]]
    else:
        del data[loc[0]]
    return True


def config_problems(path: str | Path) -> list[str]:
    """Every problem of a config file, also one that does not load: the parts that fail to load
    are reported and left out, and what remains goes through ``validate``."""
    from daemon.validate import validate
    from store.config import ConfigError, Settings

    try:
        with Path(path).open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return [f"config file {path}: {exc}"]
    problems: list[str] = []
    for _ in range(100):
        try:
            settings = Settings(**data)
        except ValidationError as exc:
            pruned = False
            for e in exc.errors():
                problems.append(f"config {'.'.join(str(x) for x in e['loc'])}: {e['msg']}")
                pruned = _prune(data, tuple(e["loc"])) or pruned
            if not pruned:
                break
            continue
        except ConfigError as exc:
            problems.append(str(exc))
            break
        except SettingsError as exc:  # an environment override that is not valid JSON
            cause = exc.__cause__ or exc
            problems.append(f"config environment: {str(exc).splitlines()[0]}: {cause}")
            break
        problems.extend(validate(settings))
        break
    return list(dict.fromkeys(problems))


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
    from handlers.ach.settings import PayeeSettings
    from handlers.ach.store import ach_settings
    from store.models.ach import PaymentPayee

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
