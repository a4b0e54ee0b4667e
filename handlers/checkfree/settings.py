"""The ``[checkfree]`` section: gateway parameters per payee, PGP keys, SFTP endpoint, folders.

Seed 001 "CheckFree Gateway Parameters": client id, sender id, FTP user name,
file transmission mode (test/prod), generate empty file, payee number and
address fields, business days to clear. Several payees (DDNs) may share the
channel; an inbound file is matched to its payee by the FTP user in its name.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

if TYPE_CHECKING:
    from spool.pgp import PgpHome
    from spool.sftp import SftpEndpoint
    from store.config import Settings


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PayeeSettings(_Model):
    client_id: str = Field(min_length=1, max_length=10)
    sender_id: str = Field(default="", max_length=10)
    ftp_user: str = Field(min_length=1, max_length=20)
    #: file transmission mode; goes into the file name and the header
    mode: Literal["test", "prod"] = "test"
    #: write a debit file with no 4000 records when there is nothing to submit
    generate_empty_file: bool = False
    payee_number: str = Field(min_length=1, max_length=10)
    payee_short_name: str = Field(min_length=1, max_length=10)
    payee_name: str = ""
    payee_address: str = ""
    payee_city: str = ""
    payee_state: str = Field(default="", max_length=2)
    payee_zip: str = Field(default="", max_length=10)
    #: seed 001: no return within this many business days after the pay date → paid
    clear_after_business_days: int = Field(default=5, ge=0, le=60)

    @field_validator("ftp_user")
    @classmethod
    def _ftp_user(cls, v: str) -> str:
        if not re.fullmatch(r"[^./\\\s]+", v):
            raise ValueError("ftp_user must not contain dots, slashes or blanks (it is a file name part)")
        return v


class PgpSettings(_Model):
    #: GnuPG home; default ``<state_dir>/gnupg`` (``spoolgate pgp import`` fills it)
    home: Path | None = None
    #: CheckFree's public key fingerprint (outbound files are encrypted for it)
    recipient: str
    #: our key fingerprint: signs outbound files, decrypts inbound ones
    our_key: str
    passphrase: SecretStr | None = None
    passphrase_file: Path | None = None
    sign_outbound: bool = True
    #: inbound files must carry a good signature (by ``trusted_signers`` when given)
    require_signature: bool = False
    trusted_signers: tuple[str, ...] = ()
    armor: bool = False
    timeout_s: float = Field(default=120.0, gt=0)
    #: extra gpg-agent.conf lines
    agent_options: tuple[str, ...] = ()


class Folders(_Model):
    """Seed 001 directory structure, relative to the spool root unless absolute."""

    out_bd: Path = Path("checkfree/out/bd")
    out_history: Path = Path("checkfree/out/history")
    out_ftp: Path = Path("checkfree/out/ftp")
    #: encrypted files whose upload failed for good, with ``NAME.error.json``
    out_error: Path = Path("checkfree/out/error")
    in_ftp: Path = Path("checkfree/in/ftp")
    in_bd: Path = Path("checkfree/in/bd")


class CheckFreeSettings(_Model):
    payees: dict[str, PayeeSettings] = Field(default_factory=dict)
    pgp: PgpSettings | None = None
    #: name of the ``[sftp.<name>]`` endpoint CheckFree is reached through
    sftp_endpoint: str = "checkfree"
    folders: Folders = Folders()
    #: private folder for plaintext while decrypting; default ``<state_dir>/checkfree``
    work_dir: Path | None = None
    #: CheckFree wants files by noon Eastern on weekdays (seed 001 "Scheduling Payments")
    cutoff: str = "12:00"
    cutoff_tz: str = "America/New_York"
    #: CDP record layout file; default the shipped stand-in
    layout: Path | None = None

    @field_validator("cutoff")
    @classmethod
    def _cutoff(cls, v: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v):
            raise ValueError(f"cutoff {v!r} is not HH:MM")
        return v

    def payee(self, name: str) -> PayeeSettings:
        try:
            return self.payees[name]
        except KeyError:
            raise KeyError(f"no CheckFree payee {name!r} in [checkfree.payees]") from None

    def payee_by_ftp_user(self, ftp_user: str) -> tuple[str, PayeeSettings] | None:
        for name, p in self.payees.items():
            if p.ftp_user == ftp_user:
                return name, p
        return None


def checkfree(settings: Settings) -> CheckFreeSettings:
    from handlers.registry import section

    cf: CheckFreeSettings = section(settings, "checkfree")
    return cf


def folder(settings: Settings, key: str) -> Path:
    return settings.path(getattr(checkfree(settings).folders, key))


def work_dir(settings: Settings) -> Path:
    cf = checkfree(settings)
    base = cf.work_dir if cf.work_dir is not None else settings.state_dir / "checkfree"
    path = base if base.is_absolute() else settings.base_dir / base
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def pgp_settings(settings: Settings) -> PgpSettings:
    pgp = checkfree(settings).pgp
    if pgp is None:
        raise KeyError("no [checkfree.pgp] section: recipient and our_key are required")
    return pgp


def pgp_home_path(settings: Settings) -> Path:
    cf = checkfree(settings)
    home = cf.pgp.home if cf.pgp is not None and cf.pgp.home is not None else None
    if home is None:
        configured = settings.pgp.get("home")
        home = Path(configured) if configured else settings.state_dir / "gnupg"
    return home if home.is_absolute() else settings.base_dir / home


def passphrase(settings: Settings) -> str | None:
    """The systemd credential ``pgp_passphrase`` first, then the config's passphrase or passphrase file."""
    if settings.pgp_passphrase is not None:
        return settings.pgp_passphrase.get_secret_value()
    pgp = pgp_settings(settings)
    if pgp.passphrase is not None:
        return pgp.passphrase.get_secret_value()
    if pgp.passphrase_file is not None:
        return pgp.passphrase_file.read_text().rstrip("\r\n")
    return None


_homes: dict[Path, PgpHome] = {}
_homes_lock = threading.Lock()


def pgp_home(settings: Settings) -> PgpHome:
    """One PgpHome per GnuPG home folder and process (it is thread-safe)."""
    from spool.pgp import PgpHome

    path = pgp_home_path(settings)
    pgp = checkfree(settings).pgp
    with _homes_lock:
        home = _homes.get(path)
        if home is None or (pgp is not None and home.timeout != pgp.timeout_s):
            home = PgpHome(path, timeout=pgp.timeout_s if pgp else 120.0,
                           agent_options=pgp.agent_options if pgp else ())
            _homes[path] = home
        return home


def endpoint(settings: Settings) -> SftpEndpoint:
    from spool.sftp import SftpEndpoint

    name = checkfree(settings).sftp_endpoint
    data: dict[str, Any] | None = settings.sftp.get(name)
    if data is None:
        raise KeyError(f"no [sftp.{name}] endpoint configured for CheckFree")
    return SftpEndpoint.model_validate({"name": name, **data})
