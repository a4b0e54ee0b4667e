"""Who holds a claim, a lease or a temporary file, and whether that process still runs.

One token, ``<host>-<pid>-<random>``, wherever a holder is named: in work file names (the claimer),
in the ledger's owner column (the daemon holding a lease or a job) and inside hidden temporary names
(the writer). So one check answers "is the holder alive" everywhere, and recovery can tell from a
name alone which leftovers belong to a dead process of this host. ``<host>`` is a hash of the host
name: no dots or dashes, so names split reliably, and stable across restarts. A process of another
host is never judged dead from here (its lease expires instead).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
from dataclasses import dataclass

#: this host, as it appears in tokens
HOST_TAG = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]
#: what separates the parts of a token
SEP = "-"


@dataclass(frozen=True, slots=True)
class Owner:
    host: str
    pid: int

    @property
    def is_local(self) -> bool:
        return self.host == HOST_TAG

    def is_dead(self) -> bool:
        """A process of this host that no longer runs (never this process, never another host's)."""
        return self.is_local and self.pid != os.getpid() and not pid_alive(self.pid)


def token() -> str:
    """A fresh token for this process: ``<host>-<pid>-<random>``."""
    return f"{HOST_TAG}{SEP}{os.getpid()}{SEP}{secrets.token_hex(4)}"


def parse(text: str) -> Owner | None:
    """The holder a token names, or None when ``text`` is not a token.

    Tokens written before the format was unified are read too: ``<hostname>:<pid>:<random>`` (ledger
    owners) and ``<host>.<pid>.<random>`` (temporary names)."""
    for sep in (SEP, ".", ":"):
        parts = text.split(sep)
        if len(parts) == 3 and parts[1].isdigit() and parts[0] and parts[2]:
            host = HOST_TAG if sep == ":" and parts[0] == socket.gethostname() else parts[0]
            return Owner(host, int(parts[1]))
    return None


def is_dead(text: str | None) -> bool:
    """True when ``text`` names a process of this host that no longer runs, or names nobody."""
    if not text:
        return True
    holder = parse(text)
    return holder is not None and holder.is_dead()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
