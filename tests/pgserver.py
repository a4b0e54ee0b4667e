"""A throwaway PostgreSQL server for the test suite: ``python -m tests.pgserver -- CMD ...``.

Runs CMD with ``SPOOLGATE_TEST_DATABASE_URL`` pointing at a fresh cluster in a temporary
folder, on a free loopback port, and removes the cluster afterwards. The suite then never
depends on a server someone else started (nor on its settings or leftovers). When the
variable is already set, CMD runs against that server unchanged.

PostgreSQL refuses to run as root, so under root the cluster belongs to an unprivileged
user (``nobody`` unless ``SPOOLGATE_PGTEST_USER`` names another).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Durability of the test server itself is not under test (the daemon's is, against kill -9
# of the daemon): fsync off keeps a 2-core CI machine's disk free for the daemons.
SERVER_SETTINGS = (
    "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
    "-c", "max_connections=300", "-c", "shared_buffers=256MB",
)


class PgServerError(RuntimeError):
    """The throwaway server could not be set up; the message says what is missing."""


@dataclass(frozen=True)
class Server:
    url: str
    data: Path


def find_bindir() -> Path:
    """The folder holding initdb, pg_ctl and postgres (Debian keeps them out of PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent))
    for c in candidates:
        if all((Path(c) / p).is_file() for p in ("initdb", "pg_ctl", "postgres")):
            return Path(c)
    raise PgServerError(
        "PostgreSQL server programs (initdb, pg_ctl, postgres) not found: "
        "run scripts/install-system-deps.sh (Debian package postgresql)"
    )


def _version_key(path: str) -> int:
    part = Path(path).parent.name
    return int(part) if part.isdigit() else 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    name = os.environ.get("SPOOLGATE_PGTEST_USER", "nobody")
    try:
        return pwd.getpwnam(name)
    except KeyError as exc:
        raise PgServerError(f"user {name!r} for the test PostgreSQL server does not exist") from exc


def _run(cmd: list[str], who: pwd.struct_passwd | None, log: Path) -> None:
    kwargs: dict[str, object] = {}
    if who is not None:
        kwargs = {"user": who.pw_uid, "group": who.pw_gid, "extra_groups": []}
    with open(log, "ab") as out:
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              cwd="/", check=False, **kwargs)  # type: ignore[call-overload]
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise PgServerError(f"{Path(cmd[0]).name} failed (exit {proc.returncode}):\n{tail}")


@contextmanager
def throwaway() -> Iterator[Server]:
    """Start a cluster, yield its URL, stop it and remove every file of it."""
    bindir = find_bindir()
    who = _run_as()
    root = Path(tempfile.mkdtemp(prefix="spoolgate-pg-"))
    data, log = root / "data", root / "server.log"
    if who is not None:
        os.chown(root, who.pw_uid, who.pw_gid)
    os.chmod(root, 0o700)
    log.touch()
    if who is not None:
        os.chown(log, who.pw_uid, who.pw_gid)
    started = False
    try:
        _run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
              "-E", "UTF8", "--locale=C", "--no-sync"], who, log)
        port = free_port()
        opts = " ".join(["-p", str(port), "-k", str(root), "-c", "listen_addresses=127.0.0.1", *SERVER_SETTINGS])
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts, "-w", "-t", "120", "start"],
             who, log)
        started = True
        yield Server(url=f"postgresql://postgres@127.0.0.1:{port}/postgres", data=data)
    finally:
        if started:
            try:
                _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], who, log)
            except PgServerError as exc:
                print(f"pgserver: stop failed: {exc}", file=sys.stderr)
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("usage: python -m tests.pgserver -- COMMAND [ARG ...]", file=sys.stderr)
        return 2
    if os.environ.get("SPOOLGATE_TEST_DATABASE_URL"):
        return subprocess.call(argv)
    try:
        with throwaway() as server:
            env = dict(os.environ, SPOOLGATE_TEST_DATABASE_URL=server.url)
            print(f"pgserver: throwaway PostgreSQL at {server.url} (ready in {time.monotonic() - START:.1f} s)",
                  flush=True)
            child = subprocess.Popen(argv, env=env)
            forward = (signal.SIGINT, signal.SIGTERM)
            previous = {s: signal.signal(s, lambda n, _f: child.send_signal(n)) for s in forward}
            try:
                return child.wait()
            finally:
                for s, h in previous.items():
                    signal.signal(s, h)
    except PgServerError as exc:
        print(f"pgserver: {exc}", file=sys.stderr)
        return 69


START = time.monotonic()

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
