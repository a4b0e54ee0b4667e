"""The ``[ach]`` section and payee (DDN) gateway settings (seed 001 "Payment Settings").

Payees live in ``payment_payees`` (loaded by ``spoolgate import``) with their
gateway settings as JSON; ``[ach.payees.NAME]`` in the config overrides keys
for a payee, so an operator can correct a setting without a database edit. Both
are validated by :class:`PayeeSettings`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from formats.nacha.routing import is_valid
from handlers.ach.windows import SAME_DAY_LIMIT, Window


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RiskLimit(_Model):
    """Seed 002 batch/transaction limits, in cents; ``None`` means no limit of that kind."""

    max_batch_debit: int | None = Field(default=None, ge=0)
    max_batch_credit: int | None = Field(default=None, ge=0)
    max_entry: int | None = Field(default=None, ge=0)
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None

    def applies(self, day: dt.date) -> bool:
        return (self.effective_from is None or day >= self.effective_from) and (
            self.effective_to is None or day <= self.effective_to)

    def breaches(self, debit: int, credit: int, largest: int) -> list[str]:
        out = []
        if self.max_batch_debit is not None and debit > self.max_batch_debit:
            out.append(f"batch debit total {debit} exceeds limit {self.max_batch_debit}")
        if self.max_batch_credit is not None and credit > self.max_batch_credit:
            out.append(f"batch credit total {credit} exceeds limit {self.max_batch_credit}")
        if self.max_entry is not None and largest > self.max_entry:
            out.append(f"entry amount {largest} exceeds limit {self.max_entry}")
        return out


def _digits(value: str, lengths: tuple[int, ...], what: str) -> str:
    v = value.strip()
    if len(v) not in lengths or not (v.isascii() and v.isdigit()):
        raise ValueError(f"{what} must be {' or '.join(map(str, lengths))} digits, got {value!r}")
    return v


def _time_zone(v: str) -> str:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {v!r}") from None
    return v


def _unique_windows(v: tuple[WindowSetting, ...]) -> tuple[WindowSetting, ...]:
    if len({w.name for w in v}) != len(v) or len({w.cutoff for w in v}) != len(v):
        raise ValueError("window names and cut-offs must be unique")
    return v


class WindowSetting(_Model):
    """One submission window of the payee's bank (handlers.ach.windows): cut-off in ``window_timezone``."""

    name: str = Field(min_length=1, max_length=20)
    cutoff: dt.time
    same_day: bool = False
    #: intended settlement time of a same-day window (``SDHHMM`` company descriptive date); default the cut-off
    settlement: dt.time | None = None

    def window(self) -> Window:
        return Window(self.name, self.cutoff.replace(tzinfo=None), self.same_day,
                      self.settlement.replace(tzinfo=None) if self.settlement else None)


class PayeeSettings(_Model):
    gateway: Literal["ach", "checkfree"] = "ach"
    immediate_destination: str = ""
    immediate_destination_name: str = Field(default="", max_length=23)
    immediate_origin: str = ""
    immediate_origin_name: str = Field(default="", max_length=23)
    company_id: str = Field(default="", max_length=10)
    company_name: str = Field(default="", max_length=16)
    company_entry_description: str = Field(default="PAYMENT", max_length=10)
    odfi: str = ""
    sec_code: Literal["PPD", "CCD", "WEB", "TEL"] = "PPD"
    #: rows read per query by check-submit
    batch_size: int = Field(default=1000, ge=1, le=100_000)
    days_to_clear: int = Field(default=5, ge=0)
    days_to_activate: int = Field(default=3, ge=0)
    #: move an effective date that falls on a weekend or Federal Reserve holiday to the next business day
    skip_holidays: bool = True
    noc_auto_update: bool = True
    noc_notify: bool = True
    generate_empty_file: bool = False
    file_prefix: str = "ppd_"
    #: strftime pattern; ``%f`` is cut to milliseconds (ppd_yyyyMMddHHmmssSSS.ach)
    file_timestamp: str = "%Y%m%d%H%M%S%f"
    file_suffix: str = ".ach"
    risk_limits: tuple[RiskLimit, ...] = ()
    #: e-mail recipients for suspended batches and return exceptions
    recipients: tuple[str, ...] = ()
    #: the bank's submission windows; none keeps the seed 001 effective-date rule (no same-day)
    windows: tuple[WindowSetting, ...] = ()
    #: IANA time zone of the windows' cut-offs (the Federal Reserve's: Eastern)
    window_timezone: str = "America/New_York"
    #: largest same-day entry in cents; a same-day payment above it goes next-day (reported)
    same_day_limit: int = Field(default=SAME_DAY_LIMIT, ge=0)

    _zone = field_validator("window_timezone")(lambda v: _time_zone(v))
    _unique = field_validator("windows")(lambda v: _unique_windows(v))

    def submission_windows(self) -> tuple[Window, ...]:
        return tuple(w.window() for w in self.windows)

    @field_validator("immediate_destination", "odfi")
    @classmethod
    def _routing(cls, v: str) -> str:
        if not v:
            return v
        v = _digits(v, (8, 9), "routing number")
        if len(v) == 9 and not is_valid(v):
            raise ValueError(f"routing number {v} has a wrong check digit")
        return v

    @field_validator("immediate_origin")
    @classmethod
    def _origin(cls, v: str) -> str:
        if v and not (1 <= len(v.strip()) <= 10):
            raise ValueError("immediate origin must be 1-10 characters")
        return v.strip()

    @model_validator(mode="after")
    def _ach_complete(self) -> PayeeSettings:
        if self.gateway == "ach":
            missing = [k for k in ("immediate_destination", "immediate_origin", "company_id", "company_name",
                                   "odfi") if not getattr(self, k)]
            if missing:
                raise ValueError(f"ACH payee needs {', '.join(missing)}")
        return self

    def file_name(self, now: dt.datetime) -> str:
        stamp = f"{now.microsecond // 1000:03d}".join(now.strftime(p) for p in self.file_timestamp.split("%f"))
        return f"{self.file_prefix}{stamp}{self.file_suffix}"

    def limit_breaches(self, day: dt.date, debit: int, credit: int, largest: int) -> list[str]:
        return [b for lim in self.risk_limits if lim.applies(day) for b in lim.breaches(debit, credit, largest)]

    def file_key(self) -> tuple[str, str, str, str]:
        """Seed 001: payees share an ACH file only with the same immediate fields."""
        return (self.immediate_destination, self.immediate_origin, self.immediate_destination_name.strip().upper(),
                self.immediate_origin_name.strip().upper())


class _WindowPart(_Model):
    """The window keys of a payee override, validated as :class:`PayeeSettings` validates them."""

    windows: tuple[WindowSetting, ...] = ()
    window_timezone: str = "America/New_York"
    same_day_limit: int = Field(default=SAME_DAY_LIMIT, ge=0)

    _zone = field_validator("window_timezone")(lambda v: _time_zone(v))
    _unique = field_validator("windows")(lambda v: _unique_windows(v))


class AckSettings(_Model):
    """Seed 002 transmission acknowledgment after a return file is loaded."""

    enabled: bool = True
    target: str = "acks"
    #: XSLT applied to the normalized XML (lxml); None writes the XML itself
    xslt: Path | None = None
    #: ``{stem}`` / ``{name}`` / ``{id}`` (ledger id) of the inbound file; the suffix should match the XSLT output
    name: str = "ack_{id}_{stem}.xml"


class AchSettings(_Model):
    #: config overrides of payee settings, by payee name (merged over payment_payees.settings)
    payees: dict[str, dict[str, Any]] = Field(default_factory=dict)
    ack: AckSettings = AckSettings()
    #: validation policy for return files: a preset name (formats.nacha.PRESETS) or a mapping
    returns_policy: str | dict[str, bool] = "default"
    #: per-partner policies, chosen by a route's ``partner`` option
    partner_policies: dict[str, str | dict[str, bool]] = Field(default_factory=dict)
    #: entries looked up per query when applying a return file
    returns_chunk: int = Field(default=2000, ge=1, le=30_000)
    #: SQLite page cache (MiB) for the connection applying a return file
    sqlite_cache_mb: int = Field(default=256, ge=2, le=4096)

    @field_validator("returns_policy")
    @classmethod
    def _policy(cls, v: str | dict[str, bool]) -> str | dict[str, bool]:
        policy_of(v)
        return v

    @field_validator("payees")
    @classmethod
    def _payee_windows(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Window settings in an override are checked at check-config, not first at check-submit."""
        keys = ("windows", "window_timezone", "same_day_limit")
        for name, over in v.items():
            part = {k: over[k] for k in keys if k in over}
            if part:
                try:
                    _WindowPart(**part)
                except ValueError as exc:
                    raise ValueError(f"payee {name}: {exc}") from None
        return v

    @field_validator("partner_policies")
    @classmethod
    def _policies(cls, v: dict[str, str | dict[str, bool]]) -> dict[str, str | dict[str, bool]]:
        for p in v.values():
            policy_of(p)
        return v


def policy_of(value: str | dict[str, bool]) -> Any:
    """A ValidationPolicy from a preset name or mapping; FormatError becomes a config ValueError."""
    from formats.errors import FormatError
    from formats.nacha.policy import ValidationPolicy

    try:
        return ValidationPolicy.named(value) if isinstance(value, str) else ValidationPolicy.from_mapping(value)
    except FormatError as exc:
        raise ValueError(str(exc)) from None
