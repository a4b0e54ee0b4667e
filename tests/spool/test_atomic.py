"""spool.atomic: the one atomic writer and the sweep of its leftovers."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from spool import atomic, owner
from tests.support import REPO


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_published_file_has_its_content_hash_and_mode_and_no_temp_is_left(tmp_path):
    data = b"x" * 3_000_000 + b"end\n"
    with atomic.AtomicFile(tmp_path / "out.dat", mode=0o604) as out:
        out.write(data[:1000])
        out.write(data[1000:])
        assert _names(tmp_path) == [out.temp.name]
        assert out.temp.name.startswith(".out.dat.") and atomic.is_temp(out.temp.name)
        out.publish()
    assert (tmp_path / "out.dat").read_bytes() == data
    assert out.sha256 == hashlib.sha256(data).hexdigest() and out.size == len(data)
    assert (tmp_path / "out.dat").stat().st_mode & 0o777 == 0o604
    assert _names(tmp_path) == ["out.dat"]
    assert not atomic.is_live(out.temp)


def test_no_clobber_publish_never_overwrites(tmp_path):
    (tmp_path / "out.dat").write_bytes(b"first\n")
    with pytest.raises(FileExistsError), atomic.AtomicFile(tmp_path / "out.dat") as out:
        out.write(b"second\n")
        out.publish()
    assert (tmp_path / "out.dat").read_bytes() == b"first\n"
    assert _names(tmp_path) == ["out.dat"]


def test_overwrite_replaces(tmp_path):
    (tmp_path / "state.json").write_bytes(b"{}")
    atomic.write_atomic(tmp_path / "state.json", b'{"a": 1}')
    assert (tmp_path / "state.json").read_bytes() == b'{"a": 1}'
    assert _names(tmp_path) == ["state.json"]


def test_failure_while_writing_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic.AtomicFile(tmp_path / "out.dat") as out:
        out.write(b"half")
        raise RuntimeError("the writer failed")
    assert _names(tmp_path) == []


def test_unpublished_file_is_removed_on_exit(tmp_path):
    with atomic.AtomicFile(tmp_path / "out.dat") as out:
        out.write(b"forgotten")
    assert _names(tmp_path) == []


def test_staged_file_stays_until_linked_later(tmp_path):
    with atomic.AtomicFile(tmp_path / "out.dat") as out:
        out.write(b"staged\n")
        tmp = out.stage()
    assert _names(tmp_path) == [tmp.name] and atomic.is_live(tmp)
    assert atomic.orphans(tmp_path) == []  # this process still holds it
    atomic.link_no_clobber(tmp, tmp_path / "out.dat")
    assert (tmp_path / "out.dat").read_bytes() == b"staged\n"
    with pytest.raises(FileExistsError):
        atomic.link_no_clobber(tmp, tmp_path / "out.dat")
    atomic.release(tmp)


_CRASH = textwrap.dedent('''
    import os, sys
    from pathlib import Path
    from spool import atomic
    out = atomic.AtomicFile(Path(sys.argv[1]) / "out.dat")
    out.write(b"complete content, never published\\n")
    out.close()
    os._exit(9)  # killed between the write and the publish
''')


def test_crash_between_write_and_publish_leaves_only_a_temp_the_sweep_removes(tmp_path):
    done = subprocess.run([sys.executable, "-c", _CRASH, str(tmp_path)], cwd=REPO, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 9
    [left] = _names(tmp_path)
    assert atomic.is_temp(left) and left.startswith(".out.dat.")
    holder = atomic.writer_of(left)
    assert holder is not None and holder.is_local and holder.is_dead()
    assert atomic.sweep(tmp_path) == [tmp_path / left]
    assert _names(tmp_path) == []


def test_sweep_reads_the_names_written_before_the_token_was_unified(tmp_path):
    dead = 999_999
    old = tmp_path / f".ack.txt.{owner.HOST_TAG}.{dead}.0a0b0c0d{atomic.TEMP_SUFFIX}"
    new = tmp_path / f".ack.txt.{owner.HOST_TAG}-{dead}-0a0b0c0d{atomic.TEMP_SUFFIX}"
    for p in (old, new):
        p.write_bytes(b"")
    assert atomic.writer_of(old.name) == owner.Owner(owner.HOST_TAG, dead)
    assert atomic.writer_of(new.name) == owner.Owner(owner.HOST_TAG, dead)
    assert sorted(atomic.sweep(tmp_path)) == sorted([old, new])


def test_sweep_never_removes_a_live_writers_temp_and_waits_for_another_hosts(tmp_path):
    mine = atomic.temp_for(tmp_path / "being-written.dat")
    mine.write_bytes(b"half")
    other_live = tmp_path / atomic.temp_name("x.dat", f"{owner.HOST_TAG}-{os.getppid()}-00000000")
    other_live.write_bytes(b"")
    foreign = tmp_path / atomic.temp_name("y.dat", "0123abcd-4242-00000000")
    foreign.write_bytes(b"")
    unknown = tmp_path / ".z.dat.whatever.sgtmp"
    unknown.write_bytes(b"")
    week_ago = time.time() - 7 * 86400
    for p in (mine, other_live, foreign, unknown):
        os.utime(p, (week_ago, week_ago))
    assert atomic.sweep(tmp_path, max_age_s=86400, now=week_ago + 60) == []
    assert sorted(atomic.sweep(tmp_path, max_age_s=86400)) == sorted([foreign, unknown])
    assert mine.exists() and other_live.exists()
    atomic.release(mine)  # its writer gave up without removing it
    assert atomic.sweep(tmp_path) == [mine]


def test_sweep_leaves_what_a_ledger_keeps(tmp_path):
    left = tmp_path / atomic.temp_name("a.dat", f"{owner.HOST_TAG}-999999-00000000")
    left.write_bytes(b"recorded copy")
    assert atomic.sweep(tmp_path, keep=lambda p: p == left) == []
    assert atomic.sweep(tmp_path) == [left]


def test_other_hidden_files_are_not_temps(tmp_path):
    for name in (".hidden", "visible.sgtmp", ".sgtmp", ".x.xfer.tmp"):
        assert not atomic.is_temp(name)
        (tmp_path / name).write_bytes(b"")
    assert atomic.sweep(tmp_path, max_age_s=-1) == []
