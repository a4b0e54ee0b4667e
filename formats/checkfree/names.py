"""CheckFree file names: ``(test|prod).(ftp-user).(type).dat.(CCCCMMDDHHMMSS)``.

Seed 001: CheckFree does not process files that break this rule and neither does
the update job, so the inbound router rejects them with ``bad CheckFree file name``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from formats.checkfree.layout import FILE_TYPES
from formats.errors import FormatError, Issue, IssueCode

BAD_NAME = "bad CheckFree file name"
SYSTEMS: tuple[str, ...] = ("test", "prod")
PGP_SUFFIX = ".pgp"
_TS_FORMAT = "%Y%m%d%H%M%S"

_NAME = re.compile(
    r"^(?P<system>test|prod)\.(?P<user>[^./\\\s]+)\.(?P<type>" + "|".join(FILE_TYPES)
    + r")\.dat\.(?P<ts>\d{14})$"
)


class BadFileName(FormatError):
    """A name that does not follow the rule; ``reason`` is always :data:`BAD_NAME`."""

    reason = BAD_NAME

    def __init__(self, name: str, detail: str) -> None:
        issue = Issue(code=IssueCode.BAD_FILE_NAME, reason=f"{BAD_NAME}: {detail}", value=name,
                      expected="(test|prod).(ftp-user).(type).dat.(CCCCMMDDHHMMSS)")
        super().__init__(f"{BAD_NAME}: {name!r}: {detail}", [issue])
        self.name = name
        self.detail = detail


@dataclass(frozen=True, slots=True)
class CdpName:
    system: str  #: "test" or "prod" (the gateway's file transmission mode)
    ftp_user: str
    file_type: str
    created: datetime
    pgp: bool = False  #: the name carried the ``.pgp`` suffix of an encrypted file

    @property
    def production(self) -> bool:
        return self.system == "prod"

    def __str__(self) -> str:
        return build_name(self.system, self.ftp_user, self.file_type, self.created, pgp=self.pgp)


def parse_name(name: str, *, allow_pgp: bool = False) -> CdpName:
    """Parse a bare file name (no folders); raises :class:`BadFileName`.

    ``allow_pgp`` accepts a trailing ``.pgp`` (files in ``in/ftp`` before decryption).
    """
    pgp = False
    base = name
    if allow_pgp and base.endswith(PGP_SUFFIX):
        base, pgp = base[: -len(PGP_SUFFIX)], True
    m = _NAME.match(base)
    if m is None:
        raise BadFileName(name, _why(base))
    try:
        created = datetime.strptime(m["ts"], _TS_FORMAT)
    except ValueError:
        raise BadFileName(name, f"date stamp {m['ts']} is not a valid CCCCMMDDHHMMSS time") from None
    return CdpName(m["system"], m["user"], m["type"], created, pgp)


def build_name(system: str, ftp_user: str, file_type: str, created: datetime, *, pgp: bool = False) -> str:
    """Build a name, refusing parts that would not parse back (a bug upstream)."""
    name = f"{system}.{ftp_user}.{file_type}.dat.{created.strftime(_TS_FORMAT)}"
    if len(created.strftime("%Y")) != 4:
        raise BadFileName(name, "year must have four digits")
    parse_name(name)
    return name + (PGP_SUFFIX if pgp else "")


def is_cdp_name(name: str, *, allow_pgp: bool = False) -> bool:
    try:
        parse_name(name, allow_pgp=allow_pgp)
    except BadFileName:
        return False
    return True


def _why(base: str) -> str:
    parts = base.split(".")
    if len(parts) != 5:
        return f"expected 5 dot-separated parts, found {len(parts)}"
    system, user, ftype, dat, ts = parts
    if system not in SYSTEMS:
        return f"system must be test or prod, found {system!r}"
    if not user or re.search(r"[/\\\s]", user):
        return "ftp user is empty or has blanks or slashes"
    if ftype not in FILE_TYPES:
        return f"type must be one of {', '.join(FILE_TYPES)}, found {ftype!r}"
    if dat != "dat":
        return f"fourth part must be 'dat', found {dat!r}"
    return f"date stamp must be 14 digits CCCCMMDDHHMMSS, found {ts!r}"
