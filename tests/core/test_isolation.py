"""One bad file, name or folder degrades only itself: hostile names refused with a report,
filing failures left for recovery, recovery passes that never stop at one item (issue 11)."""

from __future__ import annotations

import errno
import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from daemon.pipeline import Transient
from spool import fsops
from store.config import Settings
from store.db import Database
from store.models.core import FileState, SpoolFile
from tests.support import archive_config, files_in, pipeline_env

#: keys every NAME.error.json carries, whatever sent the file to error/
SCHEMA = {"file", "original_name", "channel", "ledger_id", "sha256", "size", "handler", "route", "attempts",
          "time", "reason", "code", "exception", "line", "record", "field", "columns", "value", "issues",
          "issue_count"}


@pytest.fixture
def env(tmp_path: Path, db_url: str):
    with pipeline_env(tmp_path, db_url) as factory:
        yield factory


def _rows(db: Database) -> list[Any]:
    with db.transaction() as s:
        return list(s.scalars(select(SpoolFile).order_by(SpoolFile.id)))


def _report(path: Path) -> dict:
    return json.loads(Path(f"{path}.error.json").read_text())


def test_long_name_of_a_failing_file_is_refused_with_a_report(env):
    """Reproduction 1: a 245-byte name whose handler fails could not get its NAME.error.json."""
    settings, db, pipe = env()
    ch = settings.channels["drop"]
    name = "x" * 241 + ".txt"
    (ch.inbox / name).write_bytes(b"FAIL\n")
    assert pipe.claim_many("drop", [ch.inbox / name]) == []
    [row] = _rows(db)
    assert row.state == FileState.ERROR and row.error["code"] == "unsafe_name"
    filed = Path(row.final_path)
    assert filed.parent == ch.error and filed.exists() and filed.read_bytes() == b"FAIL\n"
    assert len(filed.name.encode()) + fsops.NAME_OVERHEAD <= 255
    report = _report(filed)
    assert set(report) >= SCHEMA and report["original_name"] == name
    assert "too long" in report["reason"]
    assert files_in(ch.work) == [] and files_in(ch.inbox) == []


@pytest.mark.parametrize("length", [251, 253, 255])
def test_a_too_long_name_never_stalls_its_claim_run(env, length):
    """Reproduction 2: names of 251-255 bytes left the whole run `processing` in work/."""
    settings, db, pipe = env()
    ch = settings.channels["drop"]
    long_name = "L" * (length - 4) + ".txt"
    names = ["a.txt", long_name, "b.txt"]
    for i, n in enumerate(names):
        (ch.inbox / n).write_bytes(f"content {i}\n".encode())
    ids = pipe.claim_many("drop", [ch.inbox / n for n in names])
    assert len(ids) == 2
    assert [pipe.process(i).state for i in ids] == ["done", "done"]
    states = {r.original_name: r.state for r in _rows(db)}
    assert states["a.txt"] == states["b.txt"] == "done"
    assert [s for n, s in states.items() if n not in ("a.txt", "b.txt")] == ["error"]
    assert files_in(ch.work) == [] and files_in(ch.inbox) == []


def test_name_that_is_not_utf8_is_refused_and_the_run_goes_on(env):
    """Reproduction 3: an undecodable name broke every scan and stranded its run without ledger rows."""
    settings, db, pipe = env()
    ch = settings.channels["drop"]
    bad = os.fsdecode(b"caf\xe9-\xff.txt")
    (ch.inbox / "good1.txt").write_bytes(b"one\n")
    with open(os.fsencode(ch.inbox) + b"/caf\xe9-\xff.txt", "wb") as fh:
        fh.write(b"latin-1 named\n")
    (ch.inbox / "good2.txt").write_bytes(b"two\n")
    ids = pipe.claim_many("drop", [ch.inbox / "good1.txt", ch.inbox / bad, ch.inbox / "good2.txt"])
    assert [pipe.process(i).state for i in ids] == ["done", "done"]
    [refused] = [r for r in _rows(db) if r.state == "error"]
    assert refused.error["code"] == "unsafe_name"
    assert refused.error["original_name"] == "caf\\xe9-\\xff.txt"
    filed = Path(refused.final_path)
    assert filed.read_bytes() == b"latin-1 named\n" and filed.name.isprintable()
    assert files_in(ch.work) == [] and os.listdir(ch.inbox) == []


@pytest.mark.parametrize("char", ["\u0085", "\u2028", "\u202e", "\x9b"])
def test_names_with_line_breaks_c1_or_bidi_are_refused_and_escaped(env, char, caplog):
    """Reproduction 12 (intake half): such names are refused, and written escaped, never raw."""
    settings, db, pipe = env()
    ch = settings.channels["drop"]
    name = f"pay{char}ment.txt"
    (ch.inbox / name).write_bytes(b"x\n")
    with caplog.at_level(logging.INFO, logger="spoolgate"):
        assert pipe.claim_many("drop", [ch.inbox / name]) == []
    [row] = _rows(db)
    assert row.state == "error" and char not in row.original_name
    report_text = Path(f"{row.final_path}.error.json").read_text()
    assert char not in report_text and char not in json.loads(report_text)["original_name"]
    shown = f"\\x{ord(char):02x}" if ord(char) < 256 else f"\\u{ord(char):04x}"
    assert json.loads(report_text)["original_name"] == f"pay{shown}ment.txt"
    lines = [r.getMessage() for r in caplog.records]
    assert any("outcome=error" in m for m in lines) and not any(char in m for m in lines)


def test_error_is_logged_at_warning_with_the_handler_and_every_report_has_one_schema(env, caplog):
    """Issue 10: error/ files logged at WARNING with the real handler; duplicates and refusals
    carry the same report keys; original_name is the plain name."""
    settings, _db, pipe = env(channel={"dedup": "reject"})
    ch = settings.channels["drop"]
    (ch.inbox / "bad.txt").write_bytes(b"FAIL\n")
    (ch.inbox / "one.txt").write_bytes(b"same\n")
    os.symlink("/etc/passwd", ch.inbox / "link.txt")
    with caplog.at_level(logging.INFO, logger="spoolgate.pipeline"):
        for n in ("bad.txt", "one.txt"):
            [fid] = pipe.claim_many("drop", [ch.inbox / n])
            pipe.process(fid)
        (ch.inbox / "two.txt").write_bytes(b"same\n")
        [fid] = pipe.claim_many("drop", [ch.inbox / "two.txt"])
        assert pipe.process(fid).state == "duplicate"
        assert pipe.refuse("drop", ch.inbox / "link.txt", "not a regular file").state == "error"
    bad = [r for r in caplog.records if "bad.txt" in r.getMessage() and "outcome=" in r.getMessage()]
    assert bad and bad[0].levelno == logging.WARNING and "handler=test.archive" in bad[0].getMessage()
    assert any("link.txt" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    for n in ("bad.txt", "two.txt", "link.txt"):
        report = _report(ch.error / n)
        assert set(report) >= SCHEMA, (n, SCHEMA - set(report))
        assert report["original_name"] == n
    assert _report(ch.error / "two.txt")["handler"] == "test.archive"


def test_filing_failure_leaves_the_file_decided_and_recovery_files_it_later(env):
    """Reproduction 1 (unwritable processed/YYYY/MM/DD): processing goes on, nothing raises,
    and the next recovery pass files the decided file once the folder is usable."""
    settings, db, pipe = env()
    ch = settings.channels["drop"]
    (ch.inbox / "a.txt").write_bytes(b"a\n")
    blocker = ch.processed / f"{pipe.clock():%Y}"
    blocker.write_bytes(b"not a folder\n")
    [fid] = pipe.claim_many("drop", [ch.inbox / "a.txt"])
    assert pipe.process(fid).state == "done"
    assert len(files_in(ch.work)) == 1
    assert pipe.recover() == [] and len(files_in(ch.work)) == 1
    blocker.unlink()
    fsops.forget_dir(ch.processed)
    assert pipe.recover() == []
    [row] = _rows(db)
    assert row.state == "done" and Path(row.final_path).read_bytes() == b"a\n"
    assert files_in(ch.work) == []


def test_one_broken_channel_never_stops_recovery_of_the_others(env, tmp_path):
    """The recovery pass isolates channels: a work folder that is a file fails only its channel."""
    other = {"inbox": "b/in", "work": "b/work", "processed": "b/processed", "error": "b/error",
             "completeness": "quiet", "quiet_ms": 300, "routes": [{"pattern": "*", "handler": "archive"}]}
    base = archive_config(tmp_path, "x")["channels"]["drop"]
    settings, _db, pipe = env(channels={"drop": base, "b": other})
    broken = settings.channels["drop"].work
    broken.rmdir()
    broken.write_bytes(b"")
    orphan = settings.channels["b"].work / f"{fsops.HOST_TAG}-999999-00000000.orphan.txt"
    orphan.write_bytes(b"orphan\n")
    ids = pipe.recover(startup=True)
    assert len(ids) == 1 and pipe.process(ids[0]).state == "done"
    assert files_in(settings.channels["b"].processed)[0].read_bytes() == b"orphan\n"


def test_unsafe_name_already_in_work_is_refused_by_recovery(env):
    settings, db, pipe = env()
    ch = settings.channels["drop"]
    with open(os.fsencode(ch.work) + b"/deadbeef-999999-00000000.n\xe4me.txt", "wb") as fh:
        fh.write(b"left by an older version\n")
    assert pipe.recover(startup=True) == []
    [row] = _rows(db)
    assert row.state == "error" and row.error["original_name"] == "n\\xe4me.txt"
    assert os.listdir(ch.work) == []


def test_same_content_renamed_in_twice_at_once_is_a_duplicate_never_an_error(env, db_url):
    """Reproduction 6: the unique dedup key fails the UPDATE (PostgreSQL), not only the commit."""
    settings, db, pipe = env(channel={"dedup": "reject"}, workers=2)
    ch = settings.channels["drop"]
    pairs = 12
    for i in range(pairs):
        for side in ("a", "b"):
            (ch.inbox / f"{side}{i}.txt").write_bytes(f"same content {i}\n".encode() * 50)
    states: list[str] = []
    lock = threading.Lock()
    for i in range(pairs):
        ids = [pipe.claim("drop", ch.inbox / f"{side}{i}.txt") for side in ("a", "b")]
        gate = threading.Barrier(2)

        def work(fid: int, gate: threading.Barrier = gate) -> None:
            gate.wait()
            st = pipe.process(fid).state
            with lock:
                states.append(st)

        threads = [threading.Thread(target=work, args=(fid,)) for fid in ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert sorted(states) == sorted(["done", "duplicate"] * pairs), states
    assert not [r for r in _rows(db) if r.error and r.error.get("code") == "handler_exception"]


@pytest.fixture
def small_disk(tmp_path: Path):
    """The spool on a 2 MB tmpfs, so a full disk is real (ENOSPC from the kernel)."""
    mnt = tmp_path / "spool"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root; the full-disk tests need a real full filesystem")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(folder: Path) -> Path:
    filler = folder / "filler.bin"
    with open(filler, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    with open(filler, "ab", buffering=0) as fh:  # the last partial page too
        try:
            while True:
                fh.write(b"\0")
        except OSError:
            pass
    return filler


def test_full_disk_keeps_a_valid_file_claimed_and_leaves_no_staging_files(env, small_disk):
    """Reproduction 7: ENOSPC was a handler_exception (file to error/) and left zero-byte .sgtmp files."""
    settings, db, pipe = env(transient_retry_s=0.3)
    ch = settings.channels["drop"]
    acks = settings.outbound["acks"].folder
    (ch.inbox / "valid.txt").write_bytes(b"a valid file\n")
    [fid] = pipe.claim_many("drop", [ch.inbox / "valid.txt"])
    filler = _fill(small_disk)
    with pytest.raises(Transient):
        pipe.process(fid)
    [row] = _rows(db)
    assert row.state == "processing" and row.attempts == 0 and row.error is None
    assert len(files_in(ch.work)) == 1 and files_in(ch.error) == []
    assert os.listdir(acks) == [], "staging leftovers after a full disk"
    filler.unlink()
    ids = pipe.recover()
    assert ids == [fid] and pipe.process(fid).state == "done"
    [row] = _rows(db)
    assert row.state == "done" and row.attempts == 1
    assert Path(row.final_path).read_bytes() == b"a valid file\n" and files_in(ch.work) == []


def test_full_disk_while_filing_an_error_files_it_with_its_report_later(env, small_disk):
    """Reproduction 1 (full spool): the report cannot be written; the decided file waits in work/."""
    settings, db, pipe = env(transient_retry_s=0.3)
    ch = settings.channels["drop"]
    (ch.inbox / "bad.txt").write_bytes(b"FAIL\n")
    [fid] = pipe.claim_many("drop", [ch.inbox / "bad.txt"])
    filler = _fill(small_disk)
    assert pipe.process(fid).state == "error"
    assert len(files_in(ch.work)) == 1
    assert pipe.recover() == []
    filler.unlink()
    assert pipe.recover() == []
    [row] = _rows(db)
    assert row.state == "error" and Path(row.final_path).read_bytes() == b"FAIL\n"
    assert _report(Path(row.final_path))["code"] == "fail_marker"
    assert files_in(ch.work) == []


def test_file_appended_to_after_its_claim_is_refused_and_nothing_applied(env):
    """Reproduction 11: content changed between the claim's hash and the handler: refused."""
    settings, db, pipe = env()
    ch = settings.channels["drop"]
    (ch.inbox / "grow.txt").write_bytes(b"first part\n")
    [fid] = pipe.claim_many("drop", [ch.inbox / "grow.txt"])
    [work] = files_in(ch.work)
    with open(work, "ab") as fh:
        fh.write(b"appended late\n")
    assert pipe.process(fid).state == "error"
    [row] = _rows(db)
    assert row.error["code"] == "content_changed" and row.counts is None
    assert os.listdir(settings.outbound["acks"].folder) == []


def test_hard_link_to_a_file_outside_the_spool_is_refused(env, tmp_path):
    """Reproduction 11: a hard link lets the content change through the other name."""
    settings, db, pipe = env()
    ch = settings.channels["drop"]
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"owned elsewhere\n")
    os.link(outside, ch.inbox / "linked.txt")
    [fid] = pipe.claim_many("drop", [ch.inbox / "linked.txt"])
    assert pipe.process(fid).state == "error"
    [row] = _rows(db)
    assert row.error["code"] == "hard_link" and outside.read_bytes() == b"owned elsewhere\n"
    settings2, _db2, pipe2 = env(channel={"allow_hard_links": True})
    os.link(outside, settings2.channels["drop"].inbox / "linked2.txt")
    [fid2] = pipe2.claim_many("drop", [settings2.channels["drop"].inbox / "linked2.txt"])
    assert pipe2.process(fid2).state == "done"


def test_recovery_sweeps_every_writers_temp_files(env, tmp_path):
    """Outbound staging, PGP output, SFTP downloads, copies and packages all use one temp name,
    and recovery removes the ones a dead writer left anywhere in the spool (never a live one)."""
    settings, _db, pipe = env()
    dead_pid = 999999
    stage = settings.spool_root / "checkfree/in/bd"
    stage.mkdir(parents=True)
    left = []
    for folder, name in ((settings.outbound["acks"].folder, "ack.txt"), (stage, "payments.dat"),
                         (settings.channels["drop"].inbox, "download.dat"), (settings.spool_root / "pbs", "p.pdf")):
        folder.mkdir(parents=True, exist_ok=True)
        p = folder / f".{name}.{fsops.HOST_TAG}.{dead_pid}.0a0b0c0d{fsops.TEMP_SUFFIX}"
        p.write_bytes(b"")
        left.append(p)
    live = fsops.temp_path(stage / "being-written.dat")
    live.write_bytes(b"half")
    gone = fsops.temp_path(stage / "abandoned.dat")
    gone.write_bytes(b"")
    fsops.temp_done(gone)  # its writer gave up without removing it (e.g. a failed unlink)
    pipe.recover(startup=True)
    assert [p for p in left if p.exists()] == []
    assert live.exists() and not gone.exists()
    fsops.temp_done(live)
    pipe.recover()
    assert not live.exists()


def test_recovery_keeps_a_copy_a_recorded_bill_transfer_still_has_to_place(env):
    """bills.xfer records its copy before placing it; were recovery to sweep that copy of a dead
    process, the next run would take the transfer for placed and consumed and delete the source."""
    from spool import atomic
    from store.models.bills import BillTransfer

    settings, db, pipe = env()
    inbox = settings.channels["drop"].inbox
    recorded = inbox / atomic.temp_name("bills.xml", f"{fsops.HOST_TAG}-999999-0a0b0c0d")
    unrecorded = inbox / atomic.temp_name("other.xml", f"{fsops.HOST_TAG}-999999-0a0b0c0e")
    for p in (recorded, unrecorded):
        p.write_bytes(b"<bills/>")
    with db.transaction() as s:
        s.add(BillTransfer(source="/elsewhere/bills.xml", target=str(inbox / "bills.xml"), temp=str(recorded),
                           sha256="0" * 64, size=8))
    pipe.recover(startup=True)
    assert recorded.exists() and not unrecorded.exists()


_UNREADABLE = r'''
import json, logging, sys
from pathlib import Path
from store.config import Settings
from store.db import Database
from daemon.pipeline import Pipeline
from store.models.core import SpoolFile
from sqlalchemy import select
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
settings = Settings(**json.loads(sys.argv[1]))
db = Database(settings.database_url)
pipe = Pipeline(settings, db)
inbox = settings.channels["drop"].inbox
print(pipe.claim_many("drop", [inbox / "locked.txt"]))
with db.transaction() as s:
    row = s.scalar(select(SpoolFile))
    print(json.dumps({"state": row.state, "code": row.error["code"], "reason": row.error["reason"]}))
'''


def test_unreadable_file_is_reported_as_unreadable_with_a_log_line(tmp_path, sqlite_url):
    """Reproduction 13: a chmod-000 file went to error/ as "not a regular file" with no log line.
    Root reads anything, so the pipeline runs without CAP_DAC_OVERRIDE (as a service user would)."""
    if subprocess.run(["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "true"],
                      capture_output=True).returncode != 0:
        pytest.skip("setpriv cannot drop capabilities here (not root): a permission test needs it")
    cfg = archive_config(tmp_path, sqlite_url)
    settings = Settings(**cfg)
    ch = settings.channels["drop"]
    for f in (ch.inbox, ch.work, ch.processed, ch.error):
        f.mkdir(parents=True, exist_ok=True)
    locked = ch.inbox / "locked.txt"
    locked.write_bytes(b"secret\n")
    locked.chmod(0)
    r = subprocess.run(["setpriv", "--bounding-set", "-dac_override,-dac_read_search", sys.executable, "-c",
                        _UNREADABLE, json.dumps(cfg)], capture_output=True, text=True, timeout=60,
                       cwd=Path(__file__).resolve().parents[2])
    assert r.returncode == 0, r.stderr
    row = json.loads(r.stdout.splitlines()[-1])
    assert row["state"] == "error" and row["code"] == "unreadable", row
    assert "Permission denied" in row["reason"] and "not a regular file" not in row["reason"]
    assert any(line.startswith("WARNING") and "locked.txt" in line and "outcome=error" in line
               for line in r.stderr.splitlines()), r.stderr
    assert [p.name for p in ch.error.iterdir()] and not list(ch.inbox.iterdir())


def test_a_refusal_interrupted_by_a_crash_is_refused_again_never_processed(env):
    """A refused entry is renamed into work/ under a safe name before its row exists; a crash
    there must not let recovery process it as an ordinary file (found by the chaos run)."""
    settings, db, pipe = env()
    ch = settings.channels["drop"]
    (ch.work / f"{fsops.HOST_TAG}-999999-0a0b0c0d-refused.LLLL~0123456789.txt").write_bytes(b"long name\n")
    assert pipe.recover(startup=True) == []
    [row] = _rows(db)
    assert row.state == "error" and row.error["code"] == "unsafe_name"
    assert Path(row.final_path).parent == ch.error and files_in(ch.work) == []


def test_a_degraded_channel_queues_one_alert_and_sets_its_gauge(env):
    """Reproduction 4: a broken inbox is reported (log, metric, status, alert), the others go on."""
    from daemon.service import Daemon
    from store.models.core import Notification

    settings, db, _pipe = env(channel={"alert_recipients": ["ops@example.test"]})
    d = Daemon(settings, db)
    d.intake.channel_down("drop", "inbox cannot be read: Not a directory")
    d.intake.channel_down("drop", "inbox cannot be watched: Not a directory")  # still down: no second report
    d._queue_alerts()
    assert "degraded=drop" in d.status_text()
    assert d.metrics.channel_down.labels("drop")._value.get() == 1
    with db.transaction() as s:
        alerts = [(n.kind, n.recipients, n.subject) for n in s.scalars(select(Notification))]
    assert alerts == [("channel-down", ["ops@example.test"], "[spoolgate] channel drop stopped taking files")]
    d.intake.channel_up("drop")
    assert "degraded" not in d.status_text() and d.metrics.channel_down.labels("drop")._value.get() == 0


def test_a_fifo_with_a_hostile_name_is_refused_without_blocking(env):
    """Refused for its name, a FIFO is never opened for hashing (that would block the worker)."""
    settings, db, pipe = env()
    ch = settings.channels["drop"]
    os.mkfifo(ch.inbox / "pipe\u2028.txt")
    done = threading.Event()

    def claim() -> None:
        pipe.claim_many("drop", [ch.inbox / "pipe\u2028.txt"])
        done.set()

    threading.Thread(target=claim, daemon=True).start()
    assert done.wait(30), "the worker blocked on a FIFO"
    [row] = _rows(db)
    assert row.state == "error" and row.sha256 is None and row.error["code"] == "unsafe_name"
