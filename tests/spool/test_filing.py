"""Filing: claim names, refusal names, processed/ and error/ with free names, idempotent finishing."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from spool import filing, owner


@pytest.fixture
def spool(tmp_path: Path) -> dict[str, Path]:
    folders = {n: tmp_path / n for n in ("inbox", "work", "processed", "error")}
    for f in folders.values():
        f.mkdir()
    return folders


def test_claim_renames_into_work_under_a_name_that_tells_the_claimer(spool):
    (spool["inbox"] / "a.txt").write_bytes(b"a")
    wname = filing.claim(spool["inbox"] / "a.txt", spool["work"])
    assert (spool["work"] / wname).read_bytes() == b"a" and not (spool["inbox"] / "a.txt").exists()
    assert filing.original_name(wname) == "a.txt" and not filing.is_refusal(wname)
    assert owner.parse(wname.split(".", 1)[0]) == owner.Owner(owner.HOST_TAG, os.getpid())
    assert not filing.claimer_dead(wname)  # this process
    assert filing.claimer_dead(f"{owner.HOST_TAG}-999999-00000000.a.txt")
    with pytest.raises(FileNotFoundError):  # taken by someone else first
        filing.claim(spool["inbox"] / "a.txt", spool["work"])


def test_refusal_moves_a_link_itself_under_a_safe_name(spool, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("never read")
    os.symlink(secret, spool["inbox"] / "bad\nname")
    got = filing.refuse(spool["inbox"] / "bad\nname", spool["work"])
    assert got is not None
    wname, safe = got
    assert safe == "bad_name" and filing.is_refusal(wname) and filing.original_name(wname) == "bad_name"
    assert (spool["work"] / wname).is_symlink()
    assert filing.refuse(spool["inbox"] / "gone", spool["work"]) is None
    renamed, safe2 = filing.refuse_in_place(spool["work"], wname)
    assert filing.is_refusal(renamed) and safe2 == "bad_name" and (spool["work"] / renamed).is_symlink()


def test_processed_folders_are_dated_when_the_channel_says_so(spool):
    when = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
    assert filing.processed_folder(spool["processed"], when, dated=True) == spool["processed"] / "2026/11/30"
    assert filing.processed_folder(spool["processed"], when, dated=False) == spool["processed"]
    assert filing.duplicates_folder(spool["processed"], when) == spool["processed"] / "duplicates/2026/11/30"


def test_filing_to_processed_never_overwrites_and_says_where_the_file_went(spool):
    target = spool["processed"] / "2026/11/30/a.txt"
    for n, data in enumerate((b"first", b"second")):
        (spool["work"] / f"w{n}.a.txt").write_bytes(data)
        actual = filing.file_away(spool["work"] / f"w{n}.a.txt", target)
        assert actual == (target if n == 0 else target.with_name("a.txt.1"))
    assert target.read_bytes() == b"first" and target.with_name("a.txt.1").read_bytes() == b"second"
    assert list(spool["work"].iterdir()) == []
    assert filing.file_away(spool["work"] / "w0.a.txt", target) is None  # already filed: nothing to do


def test_filing_to_error_writes_the_report_first_and_takes_a_free_name(spool):
    target = spool["error"] / "b.txt"
    (spool["error"] / "b.txt.error.json").write_text(json.dumps({"ledger_id": 1}))  # another file's report
    (spool["work"] / "w.b.txt").write_bytes(b"bad")
    actual = filing.file_away(spool["work"] / "w.b.txt", target, report={"ledger_id": 2, "code": "x"}, ledger_id=2)
    assert actual is not None
    assert actual == spool["error"] / "b.txt.1" and actual.read_bytes() == b"bad"
    assert json.loads(filing.report_path(actual).read_text()) == {"ledger_id": 2, "code": "x"}


def test_a_report_written_before_an_interruption_is_reused(spool):
    """Report written, process died before the move: the same name is taken, not ``NAME.1``."""
    target = spool["error"] / "c.txt"
    filing.report_path(target).write_text(json.dumps({"ledger_id": 7}))
    (spool["work"] / "w.c.txt").write_bytes(b"bad")
    assert filing.file_away(spool["work"] / "w.c.txt", target, report={"ledger_id": 7}, ledger_id=7) == target


def test_a_report_missing_beside_a_file_already_moved_is_written(spool):
    target = spool["error"] / "d.txt"
    target.write_bytes(b"moved before the report was written")
    assert filing.file_away(spool["work"] / "w.d.txt", target, report={"ledger_id": 3}, ledger_id=3) is None
    assert filing.report_owner(filing.report_path(target)) == 3


def test_send_back_returns_the_file_to_its_inbox_and_drops_its_report(spool):
    src = spool["error"] / "e.txt"
    src.write_bytes(b"fixed")
    filing.report_path(src).write_text("{}")
    dst = filing.inbox_target(spool["inbox"], "e.txt")
    filing.send_back(src, dst)
    assert dst.read_bytes() == b"fixed" and not src.exists() and not filing.report_path(src).exists()
    with pytest.raises(FileExistsError):
        filing.inbox_target(spool["inbox"], "e.txt")
