"""Whether transitions survive a power cut: the fsyncs every writer and mover share.

A module of its own so that ``spool.atomic`` (the one atomic writer) and ``spool.fsops`` (renames,
scans, names) both use one switch without importing each other.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

#: fsync every transition (power-loss safe). The CLI sets it once from ``Settings.durable``;
#: without it transitions are still atomic and safe against a killed process, not a power cut.
_DURABLE = True


def configure(*, durable: bool) -> None:
    global _DURABLE
    _DURABLE = durable


def fsync(fd: int) -> None:
    if _DURABLE:
        os.fsync(fd)


def fsync_dir(path: Path) -> None:
    if not _DURABLE:
        return
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_dirty: set[Path] = set()
_dirty_lock = threading.Lock()


def sync_later(folder: Path) -> None:
    """Note a folder whose entries need not be on disk before the caller goes on.

    Filing a decided file is such a change: the ledger (committed durably before)
    tells recovery where the file belongs, so ``sync_dirty`` can flush many of them
    with one fsync per folder.
    """
    if _DURABLE:
        with _dirty_lock:
            _dirty.add(folder)


def sync_dirty() -> int:
    """fsync every folder noted by ``sync_later``; returns how many."""
    with _dirty_lock:
        folders = list(_dirty)
        _dirty.clear()
    for folder in folders:
        try:
            fsync_dir(folder)
        except FileNotFoundError:
            pass
    return len(folders)
