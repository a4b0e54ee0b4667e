"""The names and folders of a claimed file: inbox -> work/ -> processed/ or error/.

A file's place is its state on disk: the claim renames ``inbox/NAME`` to ``work/TOKEN.NAME``
(the rename decides who owns it; the token names the claimer, ``spool.owner``), and filing
moves it to ``processed/[YYYY/MM/DD/]NAME`` or ``error/NAME`` beside ``NAME.error.json``.
Every step is one rename or link, so a crash leaves a state that ``file_away`` finishes when
called again. Nothing here knows the ledger or a handler: the callers decide, this moves.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from spool import fsops, owner

#: marks the work name of an entry being refused, so recovery refuses it again after a crash
REFUSED_TAG = "-refused"
#: the error report beside a file in error/
REPORT_SUFFIX = ".error.json"


def work_name(name: str) -> str:
    """``TOKEN.NAME``: the claimer is readable from the name alone, without the ledger."""
    return f"{owner.token()}.{name}"


def original_name(work_name: str) -> str:
    return work_name.split(".", 1)[1] if "." in work_name else work_name


def is_refusal(work_name: str) -> bool:
    """A work name given to an entry being refused (a crash interrupted its refusal)."""
    return work_name.split(".", 1)[0].endswith(REFUSED_TAG)


def claimer_dead(work_name: str) -> bool:
    """The process that renamed this entry into work/ is gone (this host only)."""
    holder = owner.parse(work_name.split(".", 1)[0].removesuffix(REFUSED_TAG))
    return holder is not None and holder.is_dead()


def claim(path: Path, work: Path) -> str:
    """Rename ``path`` into ``work`` (not yet durable: the caller syncs ``work`` once per run).
    Raises FileNotFoundError when another process took it first."""
    name = work_name(path.name)
    fsops.move(path, work / name, sync=False)
    return name


def refuse(path: Path, work: Path) -> tuple[str, str] | None:
    """Rename an entry the daemon must not open (a link, a device, an unsafe name) into ``work``
    under a refusal name; the link itself moves, never its target. Returns (work name, safe name),
    or None when the entry vanished."""
    safe = fsops.safe_name(path.name)
    wname = f"{owner.token()}{REFUSED_TAG}.{safe}"
    fsops.ensure_dir(work)
    try:
        fsops.move(path, work / wname)
    except FileNotFoundError:
        return None
    return wname, safe


def refuse_in_place(work: Path, wname: str) -> tuple[str, str]:
    """Give a work entry whose own name cannot be stored or filed a refusal name."""
    safe = fsops.safe_name(original_name(wname))
    new = f"{owner.token()}{REFUSED_TAG}.{safe}"
    fsops.move(work / wname, work / new)
    return new, safe


def processed_folder(processed: Path, when: dt.datetime, *, dated: bool) -> Path:
    return fsops.dated_folder(processed, when) if dated else processed


def duplicates_folder(processed: Path, when: dt.datetime) -> Path:
    return fsops.dated_folder(processed / "duplicates", when)


def report_path(path: Path) -> Path:
    return Path(f"{path}{REPORT_SUFFIX}")


def file_away(work_path: Path, target: Path, *, report: dict[str, Any] | None = None,
              ledger_id: int | None = None, defer_sync: bool = False) -> Path | None:
    """Move a decided file from work/ to ``target`` (or a free name beside it); idempotent.

    With ``report`` the file goes to error/: the report is written first, under the name the
    file will take, so a crash in between leaves a report recovery reuses (``ledger_id``
    tells whose it is). Without, the file is linked under a free name and its work name
    removed (``fsops.move_no_clobber``); ``defer_sync`` leaves the folder's fsync to
    ``fsops.sync_dirty``. Returns where the file is now, or None when it had already left
    work/ (a report still missing beside ``target`` is written then).
    """
    if report is None:
        try:  # the link tells whether the file is still in work/: no stat before it
            actual = fsops.move_no_clobber(work_path, target.parent, target.name, sync=not defer_sync)
        except FileNotFoundError:
            if work_path.exists() or work_path.is_symlink():
                raise
            return None
        if defer_sync:
            fsops.sync_later(target.parent)
        return actual
    if not work_path.exists() and not work_path.is_symlink():
        if target.exists() and not report_path(target).exists():
            fsops.write_json_atomic(report_path(target), report)
        return None
    fsops.ensure_dir(target.parent)
    actual = free_name(target, ledger_id)
    fsops.write_json_atomic(report_path(actual), report)
    fsops.move(work_path, actual)
    return actual


def free_name(target: Path, ledger_id: int | None) -> Path:
    """error/NAME, or NAME.1... when taken; a report already written for ``ledger_id`` is reused."""
    n = 0
    while True:
        cand = target if n == 0 else target.with_name(f"{target.name}.{n}")
        report = report_path(cand)
        free = not cand.exists() and not cand.is_symlink()
        if free and (not report.exists() or (ledger_id is not None and report_owner(report) == ledger_id)):
            return cand
        n += 1


def report_owner(report: Path) -> int | None:
    """The ledger id an error report was written for."""
    try:
        value = json.loads(report.read_text()).get("ledger_id")
    except (OSError, ValueError):
        return None
    return value if isinstance(value, int) else None


def inbox_target(inbox: Path, name: str) -> Path:
    """Where an operator's retry puts a filed file; FileExistsError rather than overwrite one waiting."""
    dst = inbox / name
    if dst.exists():
        raise FileExistsError(f"{dst} already exists; not overwriting")
    return dst


def send_back(src: Path, dst: Path) -> None:
    """Move a filed file back into its inbox (``inbox_target``); its error report goes."""
    fsops.ensure_dir(dst.parent)
    fsops.move(src, dst)
    report_path(src).unlink(missing_ok=True)
