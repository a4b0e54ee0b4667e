"""spool.outbound: staged before the commit, visible (then signalled) only after it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from spool import atomic, outbound


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _stage(folder: Path, name: str, data: bytes) -> outbound.Staged:
    with outbound.StagingWriter(folder, name, signal_name=f"{name}.done") as w:
        w.write(data)
        w.records = 1
    return w.close()


def test_staged_file_is_hidden_until_finalized_then_signalled(tmp_path):
    st = _stage(tmp_path, "ack.txt", b"ack\n")
    assert _names(tmp_path) == [st.temp_name] and atomic.is_temp(st.temp_name)
    assert st.sha256 == hashlib.sha256(b"ack\n").hexdigest() and st.size == 4
    outbound.finalize(st)
    assert _names(tmp_path) == ["ack.txt", "ack.txt.done"]
    assert (tmp_path / "ack.txt.done").read_text() == f"records=1 bytes=4 sha256={st.sha256}\n"
    outbound.finalize(st)  # repeated by recovery: nothing changes
    assert _names(tmp_path) == ["ack.txt", "ack.txt.done"]


def test_finalize_never_overwrites_other_content(tmp_path):
    st = _stage(tmp_path, "ack.txt", b"ours\n")
    (tmp_path / "ack.txt").write_bytes(b"a partner's\n")
    with pytest.raises(outbound.OutboundConflict):
        outbound.finalize(st)
    assert (tmp_path / "ack.txt").read_bytes() == b"a partner's\n" and (tmp_path / st.temp_name).exists()


def test_aborted_file_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), outbound.StagingWriter(tmp_path, "ack.txt") as w:
        w.write(b"half")
        raise RuntimeError("rolled back")
    assert _names(tmp_path) == []


def test_lost_staged_copy_is_reported(tmp_path):
    st = _stage(tmp_path, "ack.txt", b"x")
    (tmp_path / st.temp_name).unlink()
    with pytest.raises(outbound.OutboundLost):
        outbound.finalize(st)
