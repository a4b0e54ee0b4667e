"""The floor of an exactly-once file, measured on the disk and database the daemon runs on.

The least work a file needs to be processed exactly once and survive a power cut: rename
inbox -> work/, fsync work/, one INSERT and one UPDATE of its ledger row in one transaction
(SQLite synchronous=FULL / PostgreSQL synchronous_commit on), rename work/ -> processed/,
fsync processed/. No hashing, no handler, no intake: any daemon figure divided by this one
says how much of the disk's and database's speed the daemon turns into files.

``group`` files share one fsync per folder and one transaction (the grouped floor).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

_DDL = ("CREATE TABLE IF NOT EXISTS floor_files (id {pk}, name VARCHAR(255) NOT NULL, "
        "state VARCHAR(16) NOT NULL, finished_at TIMESTAMP)")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _connect(url: str) -> tuple[Any, str]:
    """A DB-API connection in manual-commit mode and its parameter marker."""
    if url.startswith("sqlite"):
        con = sqlite3.connect(url[len("sqlite:///"):], isolation_level=None, timeout=30)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
        con.execute(_DDL.format(pk="INTEGER PRIMARY KEY"))
        return con, "?"
    import psycopg

    pg = psycopg.connect(url)
    pg.execute(_DDL.format(pk="BIGSERIAL PRIMARY KEY"))
    pg.commit()
    return pg, "%s"


def run(root: Path, url: str, files: int, group: int = 1) -> float:
    """Files per second of the floor loop on ``files`` files under ``root`` (the spool's disk)."""
    inbox, work, done = root / "in", root / "work", root / "processed"
    for d in (inbox, work, done):
        d.mkdir(parents=True, exist_ok=True)
    names = [f"f{i:06d}.dat" for i in range(files)]
    for i, name in enumerate(names):
        (inbox / name).write_bytes(b"payload %d\n" % i)
    con, p = _connect(url)
    sqlite = isinstance(con, sqlite3.Connection)
    insert = f"INSERT INTO floor_files (name, state) VALUES ({p}, 'processing') RETURNING id"
    update = f"UPDATE floor_files SET state = 'done', finished_at = CURRENT_TIMESTAMP WHERE id = {p}"
    t0 = time.perf_counter()
    for at in range(0, files, group):
        run_ = names[at:at + group]
        for name in run_:
            os.rename(inbox / name, work / name)
        _fsync_dir(work)
        if sqlite:
            con.execute("BEGIN IMMEDIATE")
        for name in run_:
            (file_id,) = con.execute(insert, (name,)).fetchone()
            con.execute(update, (file_id,))
        if sqlite:
            con.execute("COMMIT")
        else:
            con.commit()
        for name in run_:
            os.rename(work / name, done / name)
        _fsync_dir(done)
    rate = files / (time.perf_counter() - t0)
    con.execute("DROP TABLE floor_files")
    if not sqlite:
        con.commit()
    con.close()
    return rate
