"""The unit of work: its owner commits or rolls back; what a handler or a job's body gets cannot."""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from store.config import Settings
from store.db import Database
from store.models.core import Notification, OutboundFile
from store.unit import UnitOfWork
from tests.support import REPO, archive_config


@pytest.fixture
def unit_env(tmp_path: Path, db_url: str):
    settings = Settings(**archive_config(tmp_path, db_url))
    for o in settings.outbound.values():
        o.folder.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    yield settings, db
    db.dispose()


def _count(db: Database, model: type) -> int:
    with db.transaction() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_what_a_unit_lends_has_no_commit_rollback_or_close(unit_env):
    settings, db = unit_env
    with UnitOfWork(db, settings, source="test") as work:
        for name in ("commit", "rollback", "close"):
            with pytest.raises(AttributeError):
                getattr(work.session, name)
        for name in ("commit", "rollback", "deliver"):
            with pytest.raises(AttributeError):
                getattr(work, name)
        with pytest.raises(AttributeError):  # nothing can be added to the lent session either
            work.session.commit = lambda: None  # type: ignore[attr-defined]
        work.notify(["ops@example.com"], "subject", "body")
        work.session.flush()
        assert work.session.scalar(select(func.count()).select_from(Notification)) == 1
    assert _count(db, Notification) == 1  # the owner's ``with`` committed


def test_an_error_rolls_back_the_rows_and_the_staged_files(unit_env):
    settings, db = unit_env
    folder = settings.outbound["acks"].folder
    with pytest.raises(RuntimeError), UnitOfWork(db, settings, source="test") as work:
        with work.outbound("acks", "a.txt") as out:
            out.write(b"x\n")
        work.notify(["ops@example.com"], "subject", "body")
        raise RuntimeError("the handler failed")
    assert (_count(db, Notification), _count(db, OutboundFile)) == (0, 0)
    assert sorted(p.name for p in folder.iterdir()) == []


def test_success_commits_then_delivers(unit_env):
    settings, db = unit_env
    folder = settings.outbound["acks"].folder
    with UnitOfWork(db, settings, source="test") as work, work.outbound("acks", "a.txt") as out:
        out.write(b"x\n")
    assert (folder / "a.txt").read_bytes() == b"x\n"
    with db.transaction() as s:
        assert [r.state for r in s.scalars(select(OutboundFile))] == ["delivered"]


def test_a_dry_run_leaves_nothing(unit_env):
    settings, db = unit_env
    with UnitOfWork(db, settings, source="test", dry_run=True) as work:
        assert work.dry_run
        work.notify(["ops@example.com"], "subject", "body")
        with work.outbound("acks", "a.txt") as out:
            out.write(b"x\n")
    assert (_count(db, Notification), _count(db, OutboundFile)) == (0, 0)
    assert list(settings.outbound["acks"].folder.iterdir()) == []


#: a handler and a job that try to end their transaction, and the calls they may make
_SNIPPET = '''
from typing import BinaryIO

from sqlalchemy import select

from handlers.base import FileContext, Handler, HandlerResult
from handlers.jobs import Job, JobContext, JobResult
from store.models.core import Notification


class Commits(Handler):
    name = "test.commits"

    def handle(self, ctx: FileContext, stream: BinaryIO) -> HandlerResult:
        ctx.session.add(Notification(lane="immediate", kind="x", recipients=[], subject="s", body="b"))
        ctx.session.flush()
        n: int | None = ctx.session.scalar(select(Notification.id))
        ctx.unit.notify(["ops@example.com"], "s", "b")
        ctx.session.commit()  # error
        ctx.unit.session.rollback()  # error
        ctx.unit.commit()  # error
        return HandlerResult(counts={"n": n or 0})


class CommitsToo(Job):
    kind = "test.commits"

    def run(self, ctx: JobContext) -> JobResult:
        with ctx.unit() as work:
            work.session.execute(select(Notification.id)).all()
            work.session.commit()  # error
            work.session.close()  # error
            work.commit()  # error
        return JobResult()
'''


def test_a_handler_or_job_that_commits_is_a_type_error(tmp_path, monkeypatch, request):
    import mypy.api

    snippet = tmp_path / "snippet.py"
    snippet.write_text(textwrap.dedent(_SNIPPET))
    # Without pytest's cache (CI): the lint step's own cache, warm in `make test` (cold, mypy takes ~10 s).
    cache = (request.config.cache.mkdir("mypy") if getattr(request.config, "cache", None) is not None
             else REPO / ".mypy_cache")
    monkeypatch.chdir(REPO)
    out, err, _rc = mypy.api.run([str(snippet), "--config-file", str(REPO / "pyproject.toml"),
                                  "--cache-dir", str(cache), "--no-error-summary"])
    lines = snippet.read_text().splitlines()
    expected = {i for i, line in enumerate(lines, 1) if line.endswith("# error")}
    # by the file's name: mypy's cache may give the path of an earlier run's copy
    got = {int(m[1]) for m in re.finditer(r"snippet\.py:(\d+): error: .* has no attribute", out)}
    assert got == expected, out + err
    assert len(out.splitlines()) == len(expected), out


def test_handlers_never_name_sqlalchemys_session():
    """Every session a handler touches is typed as the lent ``UnitSession``, so no helper can commit."""
    found = []
    for path in sorted((REPO / "handlers").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
                found += [f"{path.relative_to(REPO)}:{node.lineno}" for a in node.names
                          if a.name in ("Session", "sessionmaker", "scoped_session")]
            if isinstance(node, ast.Attribute) and node.attr == "Session":
                found.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert found == []
