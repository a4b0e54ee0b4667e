"""One way to write a file that readers see whole or not at all, and one name for its leftovers.

Every writer (small state files, staged outbound files, PGP output, SFTP downloads, copies, generated
PDFs) writes to a hidden temporary name in the target folder, ``.NAME.<token>.sgtmp`` with the
writer's ``spool.owner`` token, hashing as it goes; fsyncs the file; and publishes it by a link that
never replaces an existing file (or by a rename when replacing is the point), then fsyncs the folder.
On failure the temp file is removed. A writer that is killed leaves only a temp file, and because its
name says whose it is, ``sweep`` removes it at once when that process of this host is gone, after an
age when it is another host's, and never while this process is still writing it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from spool import owner
from spool.durable import fsync, fsync_dir

CHUNK = 1 << 20
#: hidden temporary files end in this
TEMP_SUFFIX = ".sgtmp"
#: a temp file whose writer cannot be judged (another host's) is swept after this long
MAX_AGE_S = 86400.0

#: temp files this process is writing now (a sweep never removes those) and the folders it wrote any in
_live: set[str] = set()
_folders: set[Path] = set()
_lock = threading.Lock()


def temp_name(name: str, token: str | None = None) -> str:
    """``.NAME.<host>-<pid>-<random>.sgtmp``: hidden, and says which process wrote it."""
    return f".{name}.{token or owner.token()}{TEMP_SUFFIX}"


def temp_for(dst: Path) -> Path:
    """A fresh temp name beside ``dst``, registered as being written until ``release``."""
    tmp = dst.with_name(temp_name(dst.name))
    with _lock:
        _live.add(str(tmp))
        _folders.add(dst.parent)
    return tmp


def release(tmp: Path) -> None:
    """The temp file was published or removed (or is left for a sweep)."""
    with _lock:
        _live.discard(str(tmp))


def is_live(tmp: Path) -> bool:
    with _lock:
        return str(tmp) in _live


def folders() -> set[Path]:
    """Every folder this process created a temp file in (where its leftovers may be)."""
    with _lock:
        return set(_folders)


def is_temp(name: str) -> bool:
    return name.startswith(".") and name.endswith(TEMP_SUFFIX) and len(name) > len(TEMP_SUFFIX) + 1


def writer_of(name: str) -> owner.Owner | None:
    """Who wrote a temp file, read from its name; None when the name does not say.

    Reads the current ``.NAME.<host>-<pid>-<random>.sgtmp`` and the names written before the token was
    unified, ``.NAME.<host>.<pid>.<random>.sgtmp``."""
    if not is_temp(name):
        return None
    stem = name[: -len(TEMP_SUFFIX)]
    holder = owner.parse(stem.rsplit(".", 1)[-1])
    if holder is not None:
        return holder
    parts = stem.rsplit(".", 3)
    return owner.parse(".".join(parts[1:])) if len(parts) == 4 else None


def orphans(folder: Path, *, max_age_s: float = MAX_AGE_S, now: float | None = None) -> list[Path]:
    """Temp files in ``folder`` nobody is writing: a dead process's of this host, this process's own
    that no writer holds any more, or (when the name names no process of this host) older than
    ``max_age_s``. A live process's temp files never."""
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    out = []
    pid = os.getpid()
    for de in entries:
        if not is_temp(de.name):
            continue
        holder = writer_of(de.name)
        if holder is not None and holder.is_local:
            if (not is_live(Path(de.path))) if holder.pid == pid else not owner.pid_alive(holder.pid):
                out.append(Path(de.path))
            continue
        try:
            age = now - de.stat(follow_symlinks=False).st_mtime
        except FileNotFoundError:
            continue
        if age > max_age_s:
            out.append(Path(de.path))
    return out


def sweep(folder: Path, *, keep: Callable[[Path], bool] | None = None, max_age_s: float = MAX_AGE_S,
          now: float | None = None) -> list[Path]:
    """Remove the ``orphans`` of ``folder`` but those ``keep`` holds (a ledger row still naming them)."""
    removed = []
    for tmp in orphans(folder, max_age_s=max_age_s, now=now):
        if keep is not None and keep(tmp):
            continue
        try:
            tmp.unlink()
        except FileNotFoundError:
            continue
        removed.append(tmp)
    return removed


def link_no_clobber(src: Path, dst: Path) -> None:
    """Give ``src`` the name ``dst`` unless ``dst`` exists (``FileExistsError``); ``src`` keeps its name
    too. Where the filesystem has no hard links, a rename after a check (``src`` is then gone)."""
    try:
        os.link(src, dst, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EMLINK):
            raise
        if dst.exists() or dst.is_symlink():
            raise FileExistsError(errno.EEXIST, "file exists", str(dst)) from None
        os.rename(src, dst)


class AtomicFile:
    """A writer for ``dst`` through a hidden temp file beside it.

    ``write`` hashes as it goes (``sha256``, ``size``); ``publish`` makes the file visible under its
    name, never over an existing one unless ``overwrite``; ``stage`` only makes the temp file durable,
    for a caller that records it and publishes it later (``link_no_clobber``). Used as a context
    manager, whatever was neither published nor staged is removed on exit.
    """

    def __init__(self, dst: Path, *, mode: int = 0o640, buffering: int = CHUNK) -> None:
        self.dst = dst
        self.mode = mode
        self.temp = temp_for(dst)
        try:
            fd = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except BaseException:
            release(self.temp)
            raise
        self._fh = os.fdopen(fd, "wb", buffering=buffering)
        self._sha = hashlib.sha256()
        self.size = 0
        self._done = False

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    def write(self, data: bytes) -> int:
        self._sha.update(data)
        self.size += len(data)
        return self._fh.write(data)

    def close(self) -> None:
        """Flush and fsync the content under the temp name; idempotent."""
        if not self._fh.closed:
            try:
                self._fh.flush()
                os.fchmod(self._fh.fileno(), self.mode)
                fsync(self._fh.fileno())
            finally:
                self._fh.close()

    def stage(self) -> Path:
        """Close, and make the temp name itself survive a power cut: someone publishes it later.
        The temp file stays registered as this process's (never swept) until ``release``."""
        self.close()
        fsync_dir(self.temp.parent)
        self._done = True
        return self.temp

    def publish(self, *, overwrite: bool = False) -> Path:
        """Close and give the file its name. Without ``overwrite`` an existing ``dst`` wins
        (``FileExistsError``; the temp file is left for ``discard``)."""
        self.close()
        if overwrite:
            os.replace(self.temp, self.dst)
        else:
            link_no_clobber(self.temp, self.dst)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.temp)
        release(self.temp)
        self._done = True
        fsync_dir(self.dst.parent)
        return self.dst

    def discard(self) -> None:
        """Remove the temp file, even when closing it fails (a full disk fails the last flush)."""
        try:
            if not self._fh.closed:
                self._fh.close()
        except OSError:
            pass
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.temp)
            release(self.temp)
            self._done = True

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        if et is not None or not self._done:
            self.discard()


def write_atomic(path: Path, data: bytes, *, mode: int = 0o640) -> None:
    """Write a small file whole, replacing what was there."""
    with AtomicFile(path, mode=mode) as out:
        out.write(data)
        out.publish(overwrite=True)
