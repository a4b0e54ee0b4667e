"""What a handler is, what it gets, and what it returns.

A handler parses one claimed file and applies it to the database through the
session it is given. It never commits: the pipeline commits the handler's work
together with the ledger's "done", so a file is applied completely or not at
all. Outbound files and notifications requested through the context become
part of the same unit of work. What it is given (``store.unit.Work``) has no
commit, rollback or close, for the type checker and at run time.
"""

from __future__ import annotations

import datetime as dt
import logging
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar

from formats.errors import Issue, IssueCode

if TYPE_CHECKING:
    from store.config import Settings
    from store.session import UnitSession
    from store.unit import Work


class Rejected(Exception):
    """The file is wrong; it goes to error/ with this reason and is never retried."""

    def __init__(self, reason: str, issues: list[Issue] | None = None, *, code: IssueCode = IssueCode.REJECTED) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.issues = list(issues or [])


class RetryLater(Exception):
    """Something the file needs is not there yet (transient); the file stays claimed."""

    def __init__(self, reason: str, delay_s: float = 30.0) -> None:
        super().__init__(reason)
        self.delay_s = delay_s


@dataclass
class HandlerResult:
    counts: dict[str, int] = field(default_factory=dict)
    #: money totals in cents (or øre), by name
    totals: dict[str, int] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    warnings: list[Issue] = field(default_factory=list)
    #: where the file goes when done: None → the channel's processed/ folder
    file_to: Path | None = None


def unknown_options(options: Mapping[str, Any], known: Collection[str]) -> list[str]:
    return [f"unknown option {k!r}" for k in sorted(set(options) - set(known))]


@dataclass(frozen=True, slots=True)
class FileInfo:
    """The ledger row of the file in hand, as plain values: handlers read it, only the pipeline writes it."""

    id: int
    channel: str
    original_name: str
    sha256: str | None
    size: int | None
    claimed_at: dt.datetime | None
    route: str | None
    handler: str | None


@dataclass
class FileContext:
    """Everything a handler may use for one file."""

    unit: Work
    settings: Settings
    channel: str
    file: FileInfo
    path: Path
    options: Mapping[str, Any]
    now: dt.datetime
    dry_run: bool = False
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("spoolgate.handler"))

    @property
    def session(self) -> UnitSession:
        return self.unit.session

    @property
    def job_name(self) -> str:
        """Audit ``job_name`` for changes made by a file: ``<channel>-<handler>``."""
        return f"{self.channel}-{self.file.handler}"


class Handler(ABC):
    """Subclasses set ``name`` and ``accepts`` and implement ``handle``."""

    #: registry name used in routes, e.g. ``ach.returns``
    name: ClassVar[str]
    #: the file names it is meant for (documentation, ``process --dry-run``, config checks)
    accepts: ClassVar[tuple[str, ...]] = ("*",)
    description: ClassVar[str] = ""

    def __init__(self, settings: Settings, options: Mapping[str, Any]) -> None:
        self.settings = settings
        self.options = dict(options)

    #: the option keys a route may give it; any other key is a configuration error
    known_options: ClassVar[Collection[str]] = ()

    #: True for handlers of small files whose changes need no commit of their own: no connection
    #: of their own, nothing reserved or set for the transaction, nothing outside the unit of work.
    #: The daemon may then decide several such files in one commit (``daemon/together.py``).
    batchable: ClassVar[bool] = False

    def check_options(self) -> list[str]:
        """Problems with the route's options, one line each (config validation).

        Subclasses with more to check extend ``super().check_options()``."""
        return unknown_options(self.options, self.known_options)

    @abstractmethod
    def handle(self, ctx: FileContext, stream: BinaryIO) -> HandlerResult:
        """Parse and apply; raise Rejected/FormatError for bad input. Never commit."""
