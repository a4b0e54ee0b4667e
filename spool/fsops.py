"""Filesystem primitives for the spool state machine.

Every transition is one atomic rename (or link) on one filesystem, followed by
an fsync of the folder so it survives a power cut. Nothing here follows a
symlink or accepts a name with a path in it.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spool import atomic, durable, owner

CHUNK = 1 << 20

#: hidden temporary files end in this (``spool.atomic``)
TEMP_SUFFIX = atomic.TEMP_SUFFIX
#: this host in temporary and work file names (``spool.owner``)
HOST_TAG = owner.HOST_TAG

# The temp-file and durability functions under the names callers have used (``spool.atomic``,
# ``spool.durable`` are where they live).
temp_path = atomic.temp_for
temp_done = atomic.release
temp_live = atomic.is_live
temp_folders = atomic.folders
write_atomic = atomic.write_atomic
configure = durable.configure
fsync = durable.fsync
fsync_dir = durable.fsync_dir
sync_later = durable.sync_later
sync_dirty = durable.sync_dirty


class UnsafeName(ValueError):
    """A file name that would escape its folder or cannot be shown safely."""


#: the filesystem's limit on one name, in bytes (ext4, XFS, tmpfs, btrfs)
NAME_MAX = 255
#: the longest temp token (``<host8>.<pid up to 7 digits>.<8 hex>``) and collision suffix (``.9999``)
_TOKEN_MAX = 8 + 1 + 7 + 1 + 8
_SUFFIX_MAX = 5
#: what the daemon appends to an accepted name at most: the hidden temp name of ``NAME.N.error.json``
NAME_OVERHEAD = len(".") + _SUFFIX_MAX + len(".error.json") + 1 + _TOKEN_MAX + len(TEMP_SUFFIX)
#: Unicode line breaks, bidi overrides and isolates, and other invisible format characters a reader
#: of a log line or a listing would be fooled by
_HOSTILE = frozenset("\u0085\u2028\u2029\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e"
                     "\u2066\u2067\u2068\u2069\ufeff")


def _unsafe_char(c: str) -> bool:
    o = ord(c)
    return o < 32 or 127 <= o < 160 or c in _HOSTILE or 0xD800 <= o < 0xE000


def check_name(name: str, *, derived: tuple[str, ...] = ()) -> str:
    """A bare file name every derived name of which fits the filesystem.

    Refused: separators, ``..``, NUL, C0/C1 controls, Unicode line breaks and bidi
    controls (they forge log lines and listings), bytes that are not UTF-8 (the
    database cannot store them), and names so long that ``NAME.error.json``, a
    ``.N`` collision suffix, a staging temp name or one of ``derived`` (signal
    names) would exceed ``NAME_MAX``.
    """
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise UnsafeName(f"unsafe file name {escape_name(name)}")
    try:
        raw = name.encode("utf-8")
    except UnicodeEncodeError:
        raise UnsafeName(f"file name is not valid UTF-8: {escape_name(name)}") from None
    if any(_unsafe_char(c) for c in name):
        raise UnsafeName(f"file name with control, line-break or bidi characters: {escape_name(name)}")
    if len(raw) + NAME_OVERHEAD > NAME_MAX:
        raise UnsafeName(f"file name too long ({len(raw)} bytes; at most {NAME_MAX - NAME_OVERHEAD} so that "
                         f"its report and temporary names fit): {escape_name(name[:40])}...")
    for d in derived:
        if len(d.encode("utf-8", "surrogateescape")) > NAME_MAX:
            raise UnsafeName(f"file name too long for its derived name {escape_name(d[:40])}...")
    return name


def escape_name(name: str) -> str:
    """A name as one printable line: undecodable bytes as ``\\xNN``, hostile characters as ``\\uNNNN``."""
    out = []
    for c in name:
        o = ord(c)
        if 0xDC80 <= o <= 0xDCFF:  # os.fsdecode's surrogateescape of a byte that is not UTF-8
            out.append(f"\\x{o - 0xDC00:02x}")
        elif c == "\\" or _unsafe_char(c):
            out.append("\\\\" if c == "\\" else f"\\x{o:02x}" if o < 256 else f"\\u{o:04x}")
        else:
            out.append(c)
    return "".join(out)


def safe_name(name: str) -> str:
    """A name the daemon can file a refused entry under: hostile characters replaced, length bounded
    (a hash of the original keeps two long names apart)."""
    clean = "".join("_" if (_unsafe_char(c) or c in "/\\") else c for c in name).strip(".") or "unnamed"
    limit = NAME_MAX - NAME_OVERHEAD
    raw = clean.encode("utf-8")
    if len(raw) <= limit:
        return clean
    digest = hashlib.sha1(name.encode("utf-8", "surrogateescape")).hexdigest()[:10]
    return raw[: limit - 11].decode("utf-8", "ignore") + "~" + digest


#: errors of the filesystem under a file, not of the file: retried while the file stays claimed
TRANSIENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EAGAIN, errno.ENOMEM,
                              errno.EMFILE, errno.ENFILE, errno.ESTALE})


def is_transient_os(exc: BaseException) -> bool:
    """A full disk, an I/O error or a read-only remount: worth retrying, never the file's fault."""
    return isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS


#: folders this process created or found; saves a mkdir system call per file
_known_dirs: set[Path] = set()


def ensure_dir(path: Path, mode: int = 0o750) -> None:
    if path in _known_dirs:
        return
    path.mkdir(parents=True, exist_ok=True, mode=mode)
    _known_dirs.add(path)


def forget_dir(path: Path) -> None:
    """A folder was found missing after all (deleted from outside): create it again next time."""
    _known_dirs.discard(path)


@dataclass(frozen=True, slots=True)
class Entry:
    """A directory entry seen by a scan, never followed if it is a link."""

    path: Path
    name: str
    kind: str  # "file", "dir", "link", "other"
    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int


def lstat_entry(path: Path) -> Entry | None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    mode = st.st_mode
    kind = ("file" if stat.S_ISREG(mode) else "dir" if stat.S_ISDIR(mode)
            else "link" if stat.S_ISLNK(mode) else "other")
    return Entry(path, path.name, kind, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def scan(folder: Path, skip: Callable[[str], bool] | None = None) -> Iterator[Entry]:
    """Entries of one folder (not recursive). A vanished folder yields nothing.

    ``skip(path)`` drops an entry before it is stat-ed (files already in hand).
    """
    try:
        it = os.scandir(folder)
    except FileNotFoundError:
        return
    with it:
        for de in it:
            if skip is not None and skip(de.path):
                continue
            try:
                st = de.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            mode = st.st_mode
            kind = ("file" if stat.S_ISREG(mode) else "dir" if stat.S_ISDIR(mode)
                    else "link" if stat.S_ISLNK(mode) else "other")
            yield Entry(Path(de.path), de.name, kind, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def is_inside(child: Path, parent: Path) -> bool:
    """``child`` is ``parent`` or below it, after resolving links and ``..``."""
    try:
        child.resolve().relative_to(parent.resolve())
        return True
    except ValueError:
        return False


def open_regular(path: Path) -> int:
    """Open for reading without following a symlink; refuse anything but a regular file.

    O_NONBLOCK: opening a FIFO put there in a race returns at once (then refused) instead of
    blocking the worker until a writer appears; it changes nothing for a regular file."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return fd


def sha256_file(path: Path) -> tuple[str, int]:
    fd = open_regular(path)
    h = hashlib.sha256()
    size = 0
    with os.fdopen(fd, "rb", buffering=0) as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def sha256_fd(fd: int) -> tuple[str, int]:
    """Hash an open file from its start without moving its offset."""
    h = hashlib.sha256()
    size = 0
    while chunk := os.pread(fd, CHUNK, size):
        h.update(chunk)
        size += len(chunk)
    return h.hexdigest(), size


def move(src: Path, dst: Path, *, sync: bool = True) -> None:
    """Atomic rename on one filesystem, made durable by an fsync of the target folder.

    On journaling filesystems (ext4, XFS) a rename is one journal transaction, so
    syncing either folder commits both directory entries.
    """
    try:
        os.rename(src, dst)
    except FileNotFoundError:
        if not src.exists() and not src.is_symlink():
            raise
        forget_dir(dst.parent)  # the target folder was removed from outside
        ensure_dir(dst.parent)
        os.rename(src, dst)
    if sync:
        fsync_dir(dst.parent)


def move_no_clobber(src: Path, folder: Path, name: str, *, suffix: str = "", sync: bool = True) -> Path:
    """Move ``src`` into ``folder`` under ``name`` or, if taken, ``name.1``, ``name.2``...

    A hard link fails on an existing name, so two movers never overwrite each
    other; the source name is removed only after the link exists.
    """
    check_name(name)
    ensure_dir(folder)
    n = 0
    while True:
        candidate = folder / (name + suffix if n == 0 else f"{name}.{n}{suffix}")
        try:
            try:
                os.link(src, candidate, follow_symlinks=False)
            except FileNotFoundError:
                if not src.exists():
                    raise
                forget_dir(folder)
                ensure_dir(folder)
                os.link(src, candidate, follow_symlinks=False)
        except FileExistsError:
            if not _same_file(src, candidate):
                n += 1
                continue
            # an earlier attempt linked it and died before unlinking the source: finish that move
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                raise
            if candidate.exists() or candidate.is_symlink():
                n += 1
                continue
            os.rename(src, candidate)
            break
        _crash("after_link_before_unlink")
        os.unlink(src)
        break
    if sync:
        fsync_dir(folder)
    return candidate


def _crash(name: str) -> None:
    from spool.crashpoints import crashpoint

    crashpoint(name)


def _same_file(a: Path, b: Path) -> bool:
    try:
        sa, sb = os.lstat(a), os.lstat(b)
    except FileNotFoundError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def write_json_atomic(path: Path, obj: Any) -> None:
    write_atomic(path, (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode())


def dated_folder(root: Path, when: dt.datetime) -> Path:
    return root / f"{when:%Y}" / f"{when:%m}" / f"{when:%d}"
