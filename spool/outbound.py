"""Outbound files: staged before commit, made visible only after it.

Content is written to a hidden temporary name in the target folder and fsynced
while the transaction that decided it is still open. After the commit the temp
file is linked to its real name (never overwriting), the folder fsynced, and
only then the signal file is written, atomically. A reader that waits for the
signal never sees a partial file; a crash at any point is finished by
``finalize`` (idempotent) from what the ledger recorded.
"""

from __future__ import annotations

import errno
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from spool import owner
from spool.fsops import (
    CHUNK,
    HOST_TAG,
    TEMP_SUFFIX,
    check_name,
    fsync,
    fsync_dir,
    temp_done,
    temp_live,
    temp_path,
    write_atomic,
)


class OutboundConflict(Exception):
    """The final name exists with different content: never overwrite a file a partner may have read."""


class OutboundLost(Exception):
    """Neither the staged temp file nor the final file exists: an operator must look."""


def _crash(name: str) -> None:
    from spool.crashpoints import crashpoint

    crashpoint(name)


def temp_name(name: str, token: str) -> str:
    return f".{name}.{token}{TEMP_SUFFIX}"


@dataclass(frozen=True, slots=True)
class Staged:
    folder: Path
    name: str
    temp_name: str
    sha256: str
    size: int
    records: int
    signal_name: str | None
    signal_style: str
    mode: int


class StagingWriter:
    """A binary writer for one outbound file; ``close()`` fsyncs and returns what was written."""

    def __init__(self, folder: Path, name: str, *, mode: int = 0o640, signal_name: str | None = None,
                 signal_style: str = "summary") -> None:
        check_name(name)
        if signal_name is not None:
            check_name(signal_name)
        self.folder = folder
        self.name = name
        self.mode = mode
        self.signal_name = signal_name
        self.signal_style = signal_style
        self.records = 0
        folder.mkdir(parents=True, exist_ok=True)
        tmp = temp_path(folder / name)
        self.temp_name = tmp.name
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except BaseException:
            temp_done(tmp)
            raise
        self._fh = os.fdopen(fd, "wb", buffering=CHUNK)
        self._sha = hashlib.sha256()
        self._size = 0
        self._closed: Staged | None = None

    def write(self, data: bytes) -> int:
        self._sha.update(data)
        self._size += len(data)
        return self._fh.write(data)

    def close(self) -> Staged:
        if self._closed is None:
            self._fh.flush()
            fsync(self._fh.fileno())
            self._fh.close()
            fsync_dir(self.folder)
            self._closed = Staged(self.folder, self.name, self.temp_name, self._sha.hexdigest(), self._size,
                                  self.records, self.signal_name, self.signal_style, self.mode)
        return self._closed

    def abort(self) -> None:
        """Remove the staged copy, even when closing it fails (a full disk fails the last flush)."""
        try:
            if not self._fh.closed:
                self._fh.close()
        except OSError:
            pass
        finally:
            try:
                os.unlink(self.folder / self.temp_name)
            except FileNotFoundError:
                pass
            temp_done(self.folder / self.temp_name)

    def __enter__(self) -> StagingWriter:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        if et is None:
            self.close()
        else:
            self.abort()


def signal_content(style: str, records: int, size: int, sha256: str) -> bytes:
    if style == "summary":
        return f"records={records} bytes={size} sha256={sha256}\n".encode()
    return b""


def _sha_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def finalize(st: Staged) -> None:
    """Make a committed outbound file visible, then write its signal. Safe to repeat."""
    tmp = st.folder / st.temp_name
    final = st.folder / st.name
    if tmp.exists():
        os.chmod(tmp, st.mode)
        try:
            os.link(tmp, final, follow_symlinks=False)
        except FileExistsError:
            if _sha_of(final) != st.sha256:
                raise OutboundConflict(f"{final} exists with other content; staged copy kept as {tmp}") from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP):
                raise
            if final.exists():
                raise OutboundConflict(f"{final} exists; staged copy kept as {tmp}") from None
            os.rename(tmp, final)
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        temp_done(tmp)
        fsync_dir(st.folder)
        _crash("after_outbound_rename")
    elif not final.exists():
        raise OutboundLost(f"outbound file {final} and its staged copy {tmp} are both missing")
    if st.signal_name and st.signal_style != "none":
        write_atomic(st.folder / st.signal_name, signal_content(st.signal_style, st.records, st.size, st.sha256),
                     mode=st.mode)


def orphan_temps(folder: Path, *, max_age_s: float = 86400.0, now: float | None = None) -> list[Path]:
    """Temp files nobody is writing: from a dead process of this host, this process's own that no
    writer holds any more, or very old. The caller keeps those a committed row still owns."""
    import time

    now = time.time() if now is None else now
    out = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    for de in entries:
        if not (de.name.startswith(".") and de.name.endswith(TEMP_SUFFIX)):
            continue
        parts = de.name[: -len(TEMP_SUFFIX)].rsplit(".", 3)
        dead = False
        if len(parts) == 4 and parts[1] == HOST_TAG and parts[2].isdigit():
            pid = int(parts[2])
            dead = not temp_live(Path(de.path)) if pid == os.getpid() else not owner.pid_alive(pid)
        try:
            age = now - de.stat(follow_symlinks=False).st_mtime
        except FileNotFoundError:
            continue
        if dead or age > max_age_s:
            out.append(Path(de.path))
    return out
