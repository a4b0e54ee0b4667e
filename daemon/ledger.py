"""The ledger of inbound files (``spool_files``) as this process writes it: claims, leases, takeovers.

A row is in flight (claimed or processing) while one daemon holds its lease; ``renew`` keeps
ours alive, ``release`` gives back what no worker started, ``take_over`` moves an expired or
dead holder's row to us. The per-file statements are built once: the ORM's per-statement
work costs more than SQLite does. ``Ledger`` also remembers which rows this process holds
(``inflight``), which it just claimed and which it took over after an interruption.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, cast

from sqlalchemy import JSON, Connection, Table, bindparam, insert, select, update
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session
from tenacity import Retrying

from daemon.reports import describe
from daemon.retry import RetryPolicy, retrying
from spool import fsops
from store.bulk import bind_processor, insert_dicts, result_processor
from store.db import Database, driver_execute
from store.models.core import FileState, SpoolFile

log = logging.getLogger("spoolgate.pipeline")

_T = cast(Table, SpoolFile.__table__)
INSERT_CLAIM = insert(_T).returning(_T.c.id, sort_by_parameter_order=True)
_EARLIER = _T.alias("earlier")
#: the row a worker decides, locked for the transaction, and an earlier row with the same content
#: (the duplicate check in the same round trip; the unique dedup key still decides a race).
#: Planned at each execution on PostgreSQL (``custom_plan``): a plan prepared while the ledger was
#: small may look the earlier row up through another (channel, ...) index and then scans the whole
#: channel per file, until an ANALYZE (autovacuum) replans it: 1.3 ms per file at 10,000 rows.
_LOCKED = (select(_T.c.id, _T.c.channel, _T.c.original_name, _T.c.sha256, _T.c.size, _T.c.claimed_at,
                  _T.c.state, _T.c.owner,
                  select(_EARLIER.c.id).where(_EARLIER.c.channel == _T.c.channel,
                                              _EARLIER.c.dedup_key == _T.c.sha256)
                  .limit(1).scalar_subquery().label("earlier"))
           .with_for_update(of=_T).execution_options(custom_plan=True))
SELECT_ROW = _LOCKED.where(_T.c.id == bindparam("fid"))
#: the rows of a group decided in one commit (``daemon/together.py``), locked in id order; two files of
#: the group with the same content do not see each other here: the unique dedup key refuses the second
SELECT_ROWS = _LOCKED.where(_T.c.id.in_(bindparam("fids", expanding=True))).order_by(_T.c.id)
_JSON_OR_NULL = JSON(none_as_null=True)
UPDATE_DONE = (update(_T).where(_T.c.id == bindparam("fid"))
               .values(state=bindparam("b_state"), route=bindparam("b_route"), handler=bindparam("b_handler"),
                       dedup_key=bindparam("b_dedup_key"),
                       counts=bindparam("b_counts", type_=_JSON_OR_NULL),
                       totals=bindparam("b_totals", type_=_JSON_OR_NULL),
                       summary=bindparam("b_summary", type_=_JSON_OR_NULL),
                       finished_at=bindparam("b_finished_at", type_=_T.c.finished_at.type),
                       final_path=bindparam("b_final_path")))



class Locked(NamedTuple):
    """What ``SELECT_ROW`` returns: the row a worker locked, and the earlier row with its content."""

    id: int
    channel: str
    original_name: str
    sha256: str | None
    size: int | None
    claimed_at: dt.datetime
    state: str
    owner: str | None
    earlier: int | None


@dataclass(frozen=True)
class _DriverStatement:
    """``SELECT_ROW`` or ``UPDATE_DONE`` as the driver runs it: the SQL text SQLAlchemy compiles for
    the dialect, the statement's own parameter values (``LIMIT 1``), the parameter order for a
    positional paramstyle (SQLite's ``?``), and the column types' bind and result processors, so
    values go in and come out as they would through SQLAlchemy."""

    sql: str
    defaults: dict[str, Any]
    order: tuple[str, ...] | None
    binds: dict[str, Callable[[Any], Any]]
    results: tuple[Callable[[Any], Any] | None, ...]

    def params(self, values: dict[str, Any]) -> dict[str, Any] | tuple[Any, ...]:
        bound = {**self.defaults, **values}
        for key, process in self.binds.items():
            bound[key] = process(bound[key])
        return bound if self.order is None else tuple(bound[k] for k in self.order)

    def row(self, raw: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(v if p is None else p(v) for v, p in zip(raw, self.results, strict=True))


_DRIVER_SQL: dict[tuple[str, str], _DriverStatement] = {}


def _driver_sql(conn: Connection, name: str) -> _DriverStatement:
    """``SELECT_ROW`` or ``UPDATE_DONE`` compiled for ``conn``'s dialect, once per process."""
    dialect = conn.dialect
    got = _DRIVER_SQL.get((dialect.name, name))
    if got is None:
        stmt = SELECT_ROW if name == "select_row" else UPDATE_DONE
        compiled = stmt.compile(dialect=dialect)
        binds: dict[str, Callable[[Any], Any]] = {}
        for key, bind in compiled.binds.items():
            process = bind_processor(bind.type, dialect)
            if process is not None:
                binds[key] = process
        columns = SELECT_ROW.selected_columns if name == "select_row" else ()
        results = tuple(result_processor(c.type, dialect) for c in columns)
        got = _DRIVER_SQL[(dialect.name, name)] = _DriverStatement(
            str(compiled), {k: v for k, v in compiled.params.items() if k != "fid" and not k.startswith("b_")},
            tuple(compiled.positiontup) if compiled.positional and compiled.positiontup is not None else None,
            binds, results)
    return got


#: (original name, work name, sha256, size) of a file renamed into work/
Claim = tuple[str, str, str, int]


@dataclass(frozen=True)
class Snap:
    """Plain values of a ledger row, safe to use after its session closed."""

    id: int
    channel: str
    name: str
    work_name: str
    state: str
    owner: str | None
    lease_until: dt.datetime | None
    final_path: str | None
    error: dict[str, Any] | None = None

    @classmethod
    def of(cls, r: SpoolFile) -> Snap:
        return cls(r.id, r.channel, r.original_name, r.work_name, r.state, r.owner, r.lease_until, r.final_path,
                   r.error)


class Ledger:
    """This process's writes to ``spool_files`` (one short transaction each) and the rows it holds."""

    def __init__(self, db: Database, identity: str, *, clock: Callable[[], dt.datetime], lease_s: float,
                 policy: RetryPolicy, should_stop: Callable[[], bool]) -> None:
        self.db = db
        self.identity = identity
        self.clock = clock
        self.lease_s = lease_s
        self.policy = policy
        self.should_stop = should_stop
        #: rows this process holds now (claimed, queued or being handled)
        self.inflight: set[int] = set()
        #: rows this process just claimed, so processing need not read them back
        self.claimed: dict[int, Snap] = {}
        #: rows taken over after an interruption: their next start is recorded before the handler runs
        self.recovered: set[int] = set()

    def retrying(self, what: str) -> Retrying:
        return retrying(self.policy, what, self.should_stop, describe)

    def lease(self) -> dt.datetime:
        return self.clock() + dt.timedelta(seconds=self.lease_s)

    # -- the per-file transaction ---------------------------------------------------------------
    # SELECT_ROW and UPDATE_DONE run as the driver's statements (``driver_execute``): the SQL that
    # SQLAlchemy compiles for them, their values bound and read by the column types' own processors,
    # without SQLAlchemy's per-execution context and result set-up, which cost more of the daemon's
    # CPU per file than the statements themselves (on SQLite as on PostgreSQL).
    def lock_row(self, conn: Connection, file_id: int) -> Locked:
        """``SELECT_ROW`` in the caller's transaction: the row, locked, and an earlier duplicate's id."""
        stmt = _driver_sql(conn, "select_row")
        row = driver_execute(conn, stmt.sql, stmt.params({"fid": file_id}), fetch=True, prepare=False)
        if row is None:  # as ``.one()`` says it
            raise NoResultFound(f"no ledger row {file_id}")
        return Locked(*stmt.row(row))

    def mark_done(self, conn: Connection, values: dict[str, Any]) -> None:
        """``UPDATE_DONE`` in the caller's transaction (``fid`` and the ``b_`` values)."""
        stmt = _driver_sql(conn, "update_done")
        driver_execute(conn, stmt.sql, stmt.params({**values, "b_state": str(values["b_state"])}))

    def lock_rows(self, conn: Connection, file_ids: list[int]) -> dict[int, Locked]:
        """``SELECT_ROWS``: a group's rows, locked, by id (one statement for the group)."""
        return {r.id: Locked(*r) for r in conn.execute(SELECT_ROWS, {"fids": file_ids})}

    def mark_done_many(self, conn: Connection, values: list[dict[str, Any]]) -> None:
        """``UPDATE_DONE`` for each of a group's rows, sent together (``mark_done``'s values each)."""
        stmt = _driver_sql(conn, "update_done")
        driver_execute(conn, stmt.sql, [stmt.params({**v, "b_state": str(v["b_state"])}) for v in values], many=True)

    # -- rows in, rows read --------------------------------------------------------------------
    def insert_claims(self, channel: str, rows: list[Claim]) -> list[int]:
        """One transaction for all rows (state processing, attempts 1, our lease). Each is in
        flight before the commit, so the recovery pass in another thread never mistakes a fresh
        claim for an orphan."""
        ids: list[int] = []
        lease = self.lease()
        for attempt in self.retrying(f"claim {channel}/{rows[0][0]} (+{len(rows) - 1})"):
            with attempt:
                now, lease = self.clock(), self.lease()
                values = [{"channel": channel, "original_name": name, "work_name": work_name, "sha256": sha,
                           "size": size, "state": FileState.PROCESSING, "attempts": 1, "owner": self.identity,
                           "lease_until": lease, "claimed_at": now, "started_at": now}
                          for name, work_name, sha, size in rows]
                ids = []
                try:
                    with self.db.transaction() as s:
                        ids = self._insert(s, values)
                        self.inflight.update(ids)
                except BaseException:
                    self.inflight.difference_update(ids)
                    raise
        for file_id, (name, work_name, _, _) in zip(ids, rows, strict=True):
            self.claimed[file_id] = Snap(file_id, channel, name, work_name, FileState.PROCESSING,
                                         self.identity, lease, None)
        return ids

    def _insert(self, s: Session, values: list[dict[str, Any]]) -> list[int]:
        """The new rows' ids in the order of ``values``. PostgreSQL: one statement with an array per
        column (``store.bulk``): a multi-row VALUES of a batch is too long for psycopg's cache of
        parsed statements and was parsed again for every batch."""
        if self.db.is_sqlite:
            return list(s.connection().execute(INSERT_CLAIM, values).scalars())
        by_name = dict(insert_dicts(s, "spool_files", values, returning=("work_name", "id")))
        return [by_name[v["work_name"]] for v in values]

    def insert_refused(self, channel: str, name: str, work_name: str, sha: str | None, size: int | None) -> int:
        """A row for an entry about to be refused (it goes to error/ at once)."""
        file_id = 0
        for attempt in self.retrying(f"refuse {channel}/{fsops.escape_name(name)}"):
            with attempt, self.db.transaction() as s:
                row = SpoolFile(channel=channel, original_name=name, work_name=work_name,
                                state=FileState.PROCESSING, attempts=1, owner=self.identity,
                                lease_until=self.lease(), sha256=sha, size=size)
                s.add(row)
                s.flush()
                file_id = row.id
        return file_id

    def snapshot(self, file_id: int) -> Snap:
        """The row as it is now (retried through a database outage)."""
        snap: Snap | None = None
        for attempt in self.retrying(f"file {file_id}"):
            with attempt, self.db.transaction() as s:
                row = s.get(SpoolFile, file_id)
                if row is None:
                    raise KeyError(f"no ledger row {file_id}")
                snap = Snap.of(row)
        assert snap is not None
        return snap

    def in_flight(self, channel: str) -> dict[str, Snap]:
        """The channel's claimed and processing rows, by work name."""
        with self.db.transaction() as s:
            return {r.work_name: Snap.of(r) for r in s.scalars(
                select(SpoolFile).where(SpoolFile.channel == channel,
                                        SpoolFile.state.in_([FileState.CLAIMED, FileState.PROCESSING])))}

    def id_of_work_name(self, channel: str, work_name: str) -> int | None:
        with self.db.transaction() as s:
            return s.scalar(select(SpoolFile.id).where(SpoolFile.channel == channel,
                                                       SpoolFile.work_name == work_name))

    def set_final_path(self, file_id: int, path: Path) -> None:
        """Filing chose another free name than the one decided (``NAME.1``...)."""
        with self.db.transaction() as s:
            s.execute(update(SpoolFile).where(SpoolFile.id == file_id).values(final_path=str(path)))

    # -- attempts ------------------------------------------------------------------------------
    def begin_again(self, file_id: int) -> int | None:
        """Count a new start of a file we took over; None when another daemon holds it now."""
        n = None
        for attempt in self.retrying(f"file {file_id} start"):
            with attempt, self.db.transaction() as s:
                n = s.execute(update(SpoolFile)
                              .where(SpoolFile.id == file_id, SpoolFile.owner == self.identity,
                                     SpoolFile.state == FileState.PROCESSING)
                              .values(attempts=SpoolFile.attempts + 1)
                              .returning(SpoolFile.attempts)).scalar()
        return n

    def give_back(self, file_id: int) -> None:
        """Retries ran out on a transient error: this start is not counted (it did not crash the daemon)."""
        try:
            with self.db.transaction() as s:
                s.execute(update(SpoolFile).where(SpoolFile.id == file_id, SpoolFile.owner == self.identity,
                                                  SpoolFile.state == FileState.PROCESSING,
                                                  SpoolFile.attempts > 0)
                          .values(attempts=SpoolFile.attempts - 1))
        except Exception as exc:  # the database is what failed: the next start counts one more
            log.warning("file %d: could not give back the attempt: %s", file_id, describe(exc))

    # -- leases --------------------------------------------------------------------------------
    def take_over(self, file_id: int, expected_owner: str | None) -> int | None:
        """Make an in-flight row ours if ``expected_owner`` still holds it; its attempts, or None."""
        with self.db.transaction() as s:
            res = s.execute(update(SpoolFile)
                            .where(SpoolFile.id == file_id,
                                   SpoolFile.state.in_([FileState.CLAIMED, FileState.PROCESSING]),
                                   SpoolFile.owner.is_(None) if expected_owner is None
                                   else SpoolFile.owner == expected_owner)
                            .values(owner=self.identity, lease_until=self.lease(), state=FileState.PROCESSING,
                                    started_at=self.clock())
                            .returning(SpoolFile.attempts))
            got: int | None = res.scalar()
        return got

    def release(self, ids: list[int]) -> None:
        """Give up claimed files no handler has started; the next recovery takes them over
        (any daemon at once on PostgreSQL). A fresh claim's attempt is given back, so the
        file's next start records attempt 1; a taken-over file's count is kept as it is."""
        if not ids:
            return
        fresh = [i for i in ids if i not in self.recovered]
        mine = (SpoolFile.owner == self.identity, SpoolFile.state == FileState.PROCESSING)
        try:
            with self.db.transaction() as s:
                if fresh:
                    s.execute(update(SpoolFile).where(SpoolFile.id.in_(fresh), *mine, SpoolFile.attempts > 0)
                              .values(attempts=SpoolFile.attempts - 1))
                s.execute(update(SpoolFile).where(SpoolFile.id.in_(ids), *mine)
                          .values(owner=None, lease_until=None))
        except Exception as exc:  # recovered all the same, with one attempt more
            log.warning("could not release %d claimed files: %s", len(ids), describe(exc))
        else:
            log.info("released %d claimed files no worker started", len(ids))
        self.inflight.difference_update(ids)
        self.recovered.difference_update(ids)
        for file_id in ids:
            self.claimed.pop(file_id, None)

    def renew(self) -> None:
        """Extend our leases; rows a worker has locked are skipped (nobody can take those over anyway)."""
        ids = list(self.inflight)
        if not ids:
            return
        with self.db.transaction() as s:
            free = (select(SpoolFile.id).where(SpoolFile.id.in_(ids), SpoolFile.owner == self.identity)
                    .with_for_update(skip_locked=True))
            s.execute(update(SpoolFile).where(SpoolFile.id.in_(free.scalar_subquery()))
                      .values(lease_until=self.lease()))
