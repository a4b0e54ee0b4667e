"""The session a unit of work lends to handlers and job bodies: no commit, rollback or close.

Its own module so that the helpers a unit of work uses (``store/bulk.py``) can name the type
without importing the unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Never, Protocol, TypeVar, TypeVarTuple, cast, overload

from sqlalchemy import Connection, Engine, Executable, Result, ScalarResult
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.selectable import TypedReturnsRows

_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")


class UnitSession(Protocol):
    """The session a unit of work lends: statements, objects and flushes; no commit, rollback or close.

    SQLAlchemy's ``Session`` has all of it, so a helper typed with ``UnitSession`` also takes the
    session of a process's own transaction (the CLI, the console)."""

    @overload
    def execute(self, statement: TypedReturnsRows[*_Ts], params: Any = None) -> Result[*_Ts]: ...
    @overload
    def execute(self, statement: Executable, params: Any = None) -> Result[*tuple[Any, ...]]: ...

    @overload
    def scalar(self, statement: TypedReturnsRows[Never], params: Any = None) -> Any | None: ...
    @overload
    def scalar(self, statement: TypedReturnsRows[_T], params: Any = None) -> _T | None: ...
    @overload
    def scalar(self, statement: Executable, params: Any = None) -> Any: ...

    @overload
    def scalars(self, statement: TypedReturnsRows[_T], params: Any = None) -> ScalarResult[_T]: ...
    @overload
    def scalars(self, statement: Executable, params: Any = None) -> ScalarResult[Any]: ...

    def get(self, entity: type[_T], ident: Any, *, with_for_update: Any = None,
            populate_existing: bool | None = None) -> _T | None: ...

    def add(self, instance: object) -> None: ...

    def add_all(self, instances: Iterable[object]) -> None: ...

    def flush(self, objects: Sequence[Any] | None = None) -> None: ...

    def expunge(self, instance: object) -> None: ...

    def begin_nested(self) -> SessionTransaction:
        """A savepoint: its commit or rollback ends only the savepoint."""

    def connection(self) -> Connection:
        """For driver-level statements (``exec_driver_sql``) in the unit's transaction."""

    def get_bind(self) -> Engine | Connection: ...


#: what a lent session passes through: the protocol's methods and nothing else
_LENT = tuple(sorted(n for n in vars(UnitSession) if not n.startswith("_")))


class _LentSession:
    """The runtime side of ``UnitSession``: the session's own bound methods, copied once."""

    __slots__ = _LENT

    def __init__(self, session: Session) -> None:
        for name in _LENT:
            setattr(self, name, getattr(session, name))


def lend(session: Session) -> UnitSession:
    """``session`` without commit, rollback or close (an ``AttributeError`` at run time too)."""
    return cast(UnitSession, _LentSession(session))


if TYPE_CHECKING:
    def _a_session_is_a_unit_session(s: Session) -> UnitSession:
        return s
