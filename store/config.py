"""Configuration: a TOML file plus ``SPOOLGATE_*`` environment overrides.

Built once by the CLI and handed to components; never a global. ``validate``
checks everything that can be checked before start-up so a bad config fails
with one line and ``EXIT_CONFIG`` instead of a restart loop.
"""

from __future__ import annotations

import fnmatch
import os
import re
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from spool.intake import Completeness

#: names never picked from an inbox: hidden files and writers' temporary names
DEFAULT_DENY = (".*", "*.tmp", "*.part", "*.filepart", "*.partial", "*.writing", "*.inprogress", "*~")
DEFAULT_SIGNALS = ("{name}.done", "{name}.ok", "{name}.sig")


class ConfigError(Exception):
    """A configuration problem, reported as one line (``problems``: every one, when there are several)."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


#: default worker threads per database (``Settings.workers`` 0); bench/core/README.md has the figures
SQLITE_WORKERS, PG_WORKERS = 2, 3

#: secrets read from ``$CREDENTIALS_DIRECTORY/NAME`` (systemd ``LoadCredential=NAME:...``), never from
#: the TOML file in production: the database password, the SMTP password, the PGP passphrase
SECRET_FIELDS = ("database_password", "smtp_password", "pgp_passphrase")


class DedupPolicy(StrEnum):
    REJECT = "reject"  #: error/ naming the earlier file id
    IGNORE = "ignore"  #: archived as duplicate, database untouched
    REPROCESS = "reprocess"  #: processed again


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Route(Model):
    pattern: str
    handler: str
    allow_empty: bool = False
    #: handler-specific options, validated by the handler
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, v: str) -> str:
        if not v or "/" in v or "\0" in v:
            raise ValueError(f"route pattern {v!r}: must be a non-empty file name pattern without '/'")
        if v.startswith("re:"):
            try:
                re.compile(v[3:])
            except re.error as exc:
                raise ValueError(f"route pattern {v!r}: bad regular expression: {exc}") from exc
        return v

    def matches(self, name: str) -> bool:
        if self.pattern.startswith("re:"):
            return re.fullmatch(self.pattern[3:], name) is not None
        return fnmatch.fnmatchcase(name, self.pattern)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Expectation(Model):
    """"A file matching ``pattern`` arrives by ``by`` (``timezone``) on every business day of
    ``calendar`` (or on ``weekdays``), ``grace_min`` minutes of grace" (daemon.expectations)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    pattern: str
    by: str
    timezone: str = "UTC"
    calendar: str = "us-fed"
    #: instead of a calendar's business days: these weekdays (mon..sun), no holidays
    weekdays: tuple[str, ...] = ()
    grace_min: int = Field(default=0, ge=0, le=24 * 60)
    #: default: the channel's alert_recipients, then smtp.alert_recipients
    recipients: tuple[str, ...] = ()

    @field_validator("by")
    @classmethod
    def _by(cls, v: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v):
            raise ValueError(f"expectation deadline {v!r} is not HH:MM")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [d for d in v if d.lower() not in WEEKDAYS]
        if bad:
            raise ValueError(f"unknown weekday(s) {bad}: use {', '.join(WEEKDAYS)}")
        return tuple(d.lower() for d in v)

    def matches(self, name: str) -> bool:
        if self.pattern.startswith("re:"):
            return re.fullmatch(self.pattern[3:], name) is not None
        return fnmatch.fnmatchcase(name, self.pattern)


class Channel(Model):
    inbox: Path
    work: Path
    processed: Path
    error: Path
    routes: tuple[Route, ...] = ()
    completeness: Completeness = Completeness.QUIET
    quiet_ms: int = Field(default=2000, ge=0)
    signal_patterns: tuple[str, ...] = DEFAULT_SIGNALS
    deny: tuple[str, ...] = DEFAULT_DENY
    dedup: DedupPolicy = DedupPolicy.REJECT
    #: use a polling observer (NFS/SMB mounts, where inotify misses remote writes)
    polling: bool = False
    poll_interval_s: float = Field(default=2.0, gt=0, le=86400)
    #: processed/YYYY/MM/DD/ sub-folders
    dated: bool = True
    enabled: bool = True
    #: e-mail an alert for every file filed to error/ (to these, or to smtp.alert_recipients)
    alert_on_error: bool = False
    alert_recipients: tuple[str, ...] = ()
    #: files expected by a deadline on business days; a late one alerts once (daemon.expectations)
    expectations: tuple[Expectation, ...] = ()
    #: accept files with more than one hard link (the content can change through the other name)
    allow_hard_links: bool = False

    @field_validator("signal_patterns")
    @classmethod
    def _signals(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for p in v:
            if "{name}" not in p and "{stem}" not in p:
                raise ValueError(f"signal pattern {p!r} must contain {{name}} or {{stem}}")
        return v

    def is_denied(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, p) for p in self.deny)

    def signal_names(self, name: str) -> list[str]:
        stem = name.rsplit(".", 1)[0] if "." in name else name
        return [p.format(name=name, stem=stem) for p in self.signal_patterns]

    def is_signal_name(self, name: str) -> bool:
        """True for names that look like a signal file of this channel (never data)."""
        for p in self.signal_patterns:
            glob = p.replace("{name}", "*").replace("{stem}", "*")
            if fnmatch.fnmatchcase(name, glob):
                return True
        return False

    def route_for(self, name: str) -> Route | None:
        return next((r for r in self.routes if r.matches(name)), None)


class SignalStyle(StrEnum):
    NONE = "none"
    EMPTY = "empty"
    SUMMARY = "summary"  #: one line: records, bytes, sha256


class Outbound(Model):
    folder: Path
    signal: SignalStyle = SignalStyle.SUMMARY
    #: signal file name; ``{name}`` is the data file's name
    signal_pattern: str = "{name}.done"
    mode: int = 0o640

    def signal_name(self, name: str) -> str | None:
        """The signal file that vouches for data file ``name`` here; None when this target signals nothing.
        One rule for the writer (``store.unit``) and the jobs that pick the files up."""
        return None if self.signal == "none" else self.signal_pattern.format(name=name)

    @field_validator("mode", mode="before")
    @classmethod
    def _mode(cls, v: Any) -> Any:
        return int(v, 8) if isinstance(v, str) else v


class Job(Model):
    #: registered job kind, e.g. ``ach.check-submit``
    kind: str
    #: interval: ``30 s``, ``15 min``, ``2 h``, ``1 day``, ``5 business days``
    every: str
    #: optional first start time of day, HH:MM (local time)
    at: str | None = None
    calendar: str = "us-fed"
    enabled: bool = True
    notify_on: tuple[Literal["success", "failure", "noop"], ...] = ("failure",)
    recipients: tuple[str, ...] = ()
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("at")
    @classmethod
    def _at(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v):
            raise ValueError(f"job start time {v!r} is not HH:MM")
        return v

    @field_validator("every")
    @classmethod
    def _every(cls, v: str) -> str:
        from store.calendars import parse_interval

        parse_interval(v)
        return v


class Smtp(Model):
    host: str = "127.0.0.1"
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    #: better the systemd credential ``smtp_password``; never shown in a repr
    password: str | None = Field(default=None, repr=False)
    sender: str = "spoolgate@localhost"
    timeout_s: float = 10.0
    #: alert group for operator alerts (seed 003 ENGINE.GLOBAL_ALERT_GROUP_NAME)
    alert_recipients: tuple[str, ...] = ()


def _hhmm(v: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v):
        raise ValueError(f"time {v!r} is not HH:MM")
    return v


class Settlement(Model):
    """Settlement positions per business day (daemon.settlement, seed 002)."""

    #: business days and cut-offs are read in this time zone
    timezone: str = "UTC"
    #: an ACH file written after its payee's cut-off is "held over" to the next business day
    cutoff: str = "23:59"
    #: per-payee cut-offs (payee name -> HH:MM), e.g. a payee whose bank takes files until 14:30
    payee_cutoffs: dict[str, str] = Field(default_factory=dict)

    @field_validator("cutoff")
    @classmethod
    def _cutoff(cls, v: str) -> str:
        return _hhmm(v)

    @field_validator("payee_cutoffs")
    @classmethod
    def _payee_cutoffs(cls, v: dict[str, str]) -> dict[str, str]:
        for payee, t in v.items():
            try:
                _hhmm(t)
            except ValueError as exc:
                raise ValueError(f"payee {payee}: {exc}") from None
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        return Expectation._tz(v)


class Metrics(Model):
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 9464


class Settings(BaseSettings):
    """Everything the daemon needs; relative paths resolve against ``base_dir``."""

    model_config = SettingsConfigDict(env_prefix="SPOOLGATE_", env_nested_delimiter="__",
                                      extra="forbid", frozen=True, allow_inf_nan=False)

    base_dir: Path = Field(default_factory=Path.cwd)
    spool_root: Path = Path("var/spool")
    state_dir: Path = Path("var/state")
    #: may carry the password (from the credential ``database_password``): never shown in a repr
    database_url: str = Field(default="sqlite:///var/spoolgate.db", repr=False)
    #: worker threads; 0 (the default): 2 on SQLite, which has one writer at a time, and
    #: ``PG_WORKERS`` on PostgreSQL, whose commits from several connections share a WAL flush (fewer
    #: since plain files share one commit per group: more threads then compete for the CPU)
    workers: int = Field(default=0, ge=0, le=64)
    #: ready files of one channel a worker claims with one ledger commit (1: one by one)
    claim_batch: int = Field(default=32, ge=1, le=1000)
    #: claimed files of batchable handlers (``Handler.batchable``) a worker decides in one commit when
    #: several are waiting (1: each file in its own); one that is not plain is decided on its own
    commit_batch: int = Field(default=32, ge=1, le=1000)
    #: seconds between full reconciliation scans of every inbox (always on)
    scan_interval_s: float = Field(default=5.0, gt=0, le=86400)
    #: how often pending files are re-checked for completeness
    tick_ms: int = Field(default=50, ge=5)
    #: a claimed file's lease; another daemon may take it over after expiry
    lease_s: int = Field(default=300, ge=5)
    #: a file that crashed the process this many times goes to error/
    max_attempts: int = Field(default=3, ge=1)
    #: how long transient errors (database down or locked) are retried per attempt
    transient_retry_s: float = Field(default=120.0, ge=0, le=7 * 86400)
    shutdown_timeout_s: float = Field(default=60.0, gt=0, le=86400)
    watchdog_interval_s: float = Field(default=10.0, gt=0, le=86400)
    #: fsync every spool transition and every commit (power-loss safe). False keeps every
    #: guarantee against a killed process, not against a power cut; faster on slow disks.
    durable: bool = True
    log_level: str = "INFO"
    log_json: bool = False
    identity: str | None = None
    #: a production install: secrets in the TOML file are a configuration error (``check-config``)
    production: bool = False
    #: from ``$CREDENTIALS_DIRECTORY`` (or ``SPOOLGATE_DATABASE_PASSWORD`` etc.); filled into the
    #: database URL, ``[smtp] password`` and the PGP passphrase
    database_password: SecretStr | None = None
    smtp_password: SecretStr | None = None
    pgp_passphrase: SecretStr | None = None
    #: the secrets that were written in the TOML file (set by ``load``)
    _toml_secrets: tuple[str, ...] = PrivateAttr(default=())

    channels: dict[str, Channel] = Field(default_factory=dict)
    outbound: dict[str, Outbound] = Field(default_factory=dict)
    jobs: dict[str, Job] = Field(default_factory=dict)
    smtp: Smtp = Smtp()
    metrics: Metrics = Metrics()
    settlement: Settlement = Settlement()

    #: channel sections, validated by the channel's own model (handlers.registry.SECTIONS)
    ach: dict[str, Any] = Field(default_factory=dict)
    checkfree: dict[str, Any] = Field(default_factory=dict)
    pbs: dict[str, Any] = Field(default_factory=dict)
    bills: dict[str, Any] = Field(default_factory=dict)
    refunds: dict[str, Any] = Field(default_factory=dict)
    acks: dict[str, Any] = Field(default_factory=dict)
    ar: dict[str, Any] = Field(default_factory=dict)
    housekeeping: dict[str, Any] = Field(default_factory=dict)
    pgp: dict[str, Any] = Field(default_factory=dict)
    sftp: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file arrives as init values; the environment must override it, and systemd
        # credentials too (only the secret fields, by their plain names).
        creds = os.environ.get("CREDENTIALS_DIRECTORY")
        if creds and Path(creds).is_dir():
            return (env_settings, _Credentials(settings_cls, secrets_dir=creds, env_prefix=""), init_settings)
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _resolve(self) -> Settings:
        base = self.base_dir
        root = self.spool_root if self.spool_root.is_absolute() else base / self.spool_root
        object.__setattr__(self, "spool_root", root)
        if not self.state_dir.is_absolute():
            object.__setattr__(self, "state_dir", base / self.state_dir)
        if self.database_url.startswith("sqlite:///") and not self.database_url.startswith("sqlite:////"):
            rel = self.database_url[len("sqlite:///"):]
            if rel and rel != ":memory:":
                object.__setattr__(self, "database_url", f"sqlite:///{base / rel}")
        if self.workers == 0:
            object.__setattr__(self, "workers", SQLITE_WORKERS if self.is_sqlite else PG_WORKERS)

        def res(p: Path) -> Path:
            return p if p.is_absolute() else root / p

        chans = {
            name: ch.model_copy(update={k: res(getattr(ch, k)) for k in ("inbox", "work", "processed", "error")})
            for name, ch in self.channels.items()
        }
        object.__setattr__(self, "channels", chans)
        outs = {name: o.model_copy(update={"folder": res(o.folder)}) for name, o in self.outbound.items()}
        object.__setattr__(self, "outbound", outs)
        if self.database_password is not None and not self.is_sqlite:
            from sqlalchemy.engine import make_url

            url = make_url(self.database_url).set(password=self.database_password.get_secret_value())
            object.__setattr__(self, "database_url", url.render_as_string(hide_password=False))
        if self.smtp_password is not None:
            object.__setattr__(self, "smtp", self.smtp.model_copy(
                update={"password": self.smtp_password.get_secret_value()}))
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def path(self, p: str | Path) -> Path:
        """Resolve a path from a channel section against the spool root."""
        p = Path(p)
        return p if p.is_absolute() else self.spool_root / p

    def section(self, name: str) -> dict[str, Any]:
        value: dict[str, Any] = getattr(self, name)
        return value


class _Credentials(SecretsSettingsSource):
    """systemd credentials: one file per secret, named after the field (``database_password``)."""

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in super().__call__().items() if k in SECRET_FIELDS}


def toml_secrets(data: dict[str, Any]) -> tuple[str, ...]:
    """The secrets written in a config file's data, by config key."""
    found = []
    url = data.get("database_url")
    if isinstance(url, str) and "://" in url:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            if make_url(url).password:
                found.append("database_url")
        except ArgumentError:
            pass
    for key in SECRET_FIELDS:
        if data.get(key):
            found.append(key)
    if isinstance(data.get("smtp"), dict) and data["smtp"].get("password"):
        found.append("smtp.password")
    for where in ("pgp", "checkfree"):
        section = data.get(where)
        pgp = section.get("pgp") if where == "checkfree" and isinstance(section, dict) else section
        if isinstance(pgp, dict) and pgp.get("passphrase"):
            found.append(f"{'checkfree.pgp' if where == 'checkfree' else 'pgp'}.passphrase")
    return tuple(found)


def load(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read the TOML file (``--config`` or ``$SPOOLGATE_CONFIG``) and the environment."""
    from pydantic import ValidationError

    path = path or os.environ.get("SPOOLGATE_CONFIG")
    data: dict[str, Any] = {}
    if path:
        p = Path(path)
        try:
            with p.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError as exc:
            raise ConfigError(f"config file {p} not found") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {p}: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"config file {p} is not valid UTF-8 (byte {exc.start})") from exc
        except OSError as exc:
            raise ConfigError(f"config file {p}: {exc.strerror}") from exc
    in_file = toml_secrets(data)
    data.update(overrides)
    try:
        settings = Settings(**data)
    except SettingsError as exc:  # an environment override that is not valid JSON
        cause = exc.__cause__ or exc
        raise ConfigError(f"config environment: {str(exc).splitlines()[0]}: {cause}") from exc
    except ValidationError as exc:
        problems = [f"config {'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(problems[0], problems) from exc
    settings._toml_secrets = in_file
    return settings
