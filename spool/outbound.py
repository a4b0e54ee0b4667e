"""Outbound files: staged before commit, made visible only after it.

Content is written to a hidden temporary name in the target folder and fsynced
while the transaction that decided it is still open. After the commit the temp
file is linked to its real name (never overwriting), the folder fsynced, and
only then the signal file is written, atomically. A reader that waits for the
signal never sees a partial file; a crash at any point is finished by
``finalize`` (idempotent) from what the ledger recorded.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from spool import atomic
from spool.durable import fsync_dir
from spool.fsops import CHUNK, check_name

#: the sweep of temp files nobody writes (``spool.atomic.orphans``) under the name recovery has used
orphan_temps = atomic.orphans


class OutboundConflict(Exception):
    """The final name exists with different content: never overwrite a file a partner may have read."""


class OutboundLost(Exception):
    """Neither the staged temp file nor the final file exists: an operator must look."""


def _crash(name: str) -> None:
    from spool.crashpoints import crashpoint

    crashpoint(name)


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
    """A binary writer for one outbound file; ``close()`` stages it (durable under its temp name)
    and returns what was written, for ``finalize`` to publish after the commit."""

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
        self._out = atomic.AtomicFile(folder / name, mode=mode)
        self.temp_name = self._out.temp.name
        self._closed: Staged | None = None

    def write(self, data: bytes) -> int:
        return self._out.write(data)

    def close(self) -> Staged:
        if self._closed is None:
            self._out.stage()
            self._closed = Staged(self.folder, self.name, self.temp_name, self._out.sha256, self._out.size,
                                  self.records, self.signal_name, self.signal_style, self.mode)
        return self._closed

    def abort(self) -> None:
        """Remove the staged copy, even when closing it fails (a full disk fails the last flush)."""
        self._out.discard()

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
            atomic.link_no_clobber(tmp, final)
        except FileExistsError:
            if not final.exists() or _sha_of(final) != st.sha256:
                raise OutboundConflict(f"{final} exists with other content; staged copy kept as {tmp}") from None
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        atomic.release(tmp)
        fsync_dir(st.folder)
        _crash("after_outbound_rename")
    elif not final.exists():
        raise OutboundLost(f"outbound file {final} and its staged copy {tmp} are both missing")
    if st.signal_name and st.signal_style != "none":
        atomic.write_atomic(st.folder / st.signal_name, signal_content(st.signal_style, st.records, st.size, st.sha256),
                     mode=st.mode)
