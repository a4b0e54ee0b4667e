"""PGP stage: a small typed wrapper on python-gnupg for the CheckFree channel.

Why a wrapper: python-gnupg has no timeout, returns untyped status soup, and
leaves partial output behind on failure. Here every gpg run is watched by a
timer that kills gpg's whole process group, every failure is a
:class:`PgpError` with a stable ``code``, and output goes to a hidden
temporary name in the destination folder that is fsynced and renamed only when
gpg reported success (removed otherwise), so plaintext never exists anywhere
but where the caller asked, and only when it is complete.

Data is streamed in both directions (python-gnupg copies the input in a
thread; gpg's stdout is written to the output file chunk by chunk), so memory
stays bounded whatever the file size.

The GnuPG home's path should stay short (gpg-agent's socket lives inside it
unless ``/run/user/<uid>`` exists; a Unix socket path has ~107 bytes).

The package: ``home`` (the GnuPG home and its operations), ``process`` (gpg processes under a
watchdog, status lines), ``checks`` (verdicts and signature rules), ``output`` (gpg's output into a
``spool.atomic.AtomicFile``), ``errors`` and ``results``.
"""

from __future__ import annotations

from spool.pgp.errors import PgpError, PgpErrorCode
from spool.pgp.home import DEFAULT_TIMEOUT, PgpHome
from spool.pgp.results import DecryptResult, EncryptResult, ImportSummary, KeyInfo

__all__ = [
    "DEFAULT_TIMEOUT",
    "DecryptResult",
    "EncryptResult",
    "ImportSummary",
    "KeyInfo",
    "PgpError",
    "PgpErrorCode",
    "PgpHome",
]
