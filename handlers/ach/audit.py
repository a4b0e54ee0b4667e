"""Seed 004 audit rows: every insert/update/delete of an audited table writes a history row.

Written explicitly in the caller's transaction, set-based: after a bulk update
the history rows are copied from the updated base rows with one
``INSERT ... SELECT`` per chunk, so auditing 100,000 changes costs a few
statements, not 100,000 round trips.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, ColumnElement, Integer, String, insert, literal, select

from store.bulk import one_of
from store.db import Base, UtcDateTime, utcnow
from store.models.ach import (
    AUDIT_OK,
    AuditOp,
    CheckPayment,
    CheckPaymentHistory,
    PaymentAccount,
    PaymentAccountHistory,
    PaymentRefund,
    PaymentRefundHistory,
)
from store.models.pbs import OcrLine, OcrLineHistory, PbsAgreement, PbsAgreementHistory
from store.session import UnitSession

if TYPE_CHECKING:
    from handlers.base import FileContext
    from handlers.jobs import Job, JobContext

HISTORY: dict[type[Base], type[Base]] = {
    CheckPayment: CheckPaymentHistory,
    PaymentAccount: PaymentAccountHistory,
    PaymentRefund: PaymentRefundHistory,
    OcrLine: OcrLineHistory,
    PbsAgreement: PbsAgreementHistory,
}
AUDIT_COLUMNS = ("audit_operation", "audit_status", "audit_reason", "job_id", "job_name", "time_stamp")
CHUNK = 500
#: ids per INSERT ... SELECT (well under SQLite's 32,766 bound parameters)
AUDIT_CHUNK = 5000


@dataclass(frozen=True)
class Actor:
    """Who makes a change: seed 004 job_id / job_name (UI-like operations: 0 and None)."""

    job_id: int
    job_name: str | None
    now: dt.datetime

    @classmethod
    def for_file(cls, ctx: FileContext) -> Actor:
        return cls(ctx.file.id, ctx.job_name, ctx.now)

    @classmethod
    def for_job(cls, job: Job, ctx: JobContext) -> Actor:
        return cls(ctx.run_id, job.audit_job_name, ctx.now)

    @classmethod
    def operator(cls, name: str | None = None) -> Actor:
        return cls(0, name, utcnow())


def base_columns(model: type[Base]) -> list[str]:
    return [c.name for c in model.__table__.columns]


def _pk(model: type[Base]) -> Any:
    from sqlalchemy import inspect

    return inspect(model).primary_key[0]


def chunks(seq: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def audit_ids(session: UnitSession, model: type[Base], ids: Sequence[Any], op: AuditOp, actor: Actor,
              reason: str | None = None, status: int = AUDIT_OK, order_by: Any = None) -> int:
    """Copy the current rows ``ids`` of ``model`` into its history table (call before a delete,
    after an insert or update). ``order_by``: the order the history rows go in (a randomly keyed
    history index takes many new entries faster in its own key order)."""
    hist = HISTORY[model]
    cols = base_columns(model)
    table = model.__table__
    pk = _pk(model)
    n = 0
    for part in chunks(list(ids), AUDIT_CHUNK):
        sel = select(*[table.c[c] for c in cols],
                     literal(int(op), Integer()), literal(status, Integer()),
                     literal(reason[:255] if reason else None, String(255)), literal(actor.job_id, BigInteger()),
                     literal(actor.job_name, String(80)), literal(actor.now, UtcDateTime()),
                     ).where(one_of(session, pk, part))
        if order_by is not None:
            sel = sel.order_by(order_by)
        session.execute(insert(hist).from_select([*cols, *AUDIT_COLUMNS], sel))
        n += len(part)
    return n


def audit_where(session: UnitSession, model: type[Base], where: ColumnElement[bool], op: AuditOp, actor: Actor,
                reason: str | None = None) -> None:
    """History rows for every row of ``model`` matching ``where``, with one ``INSERT ... SELECT``."""
    cols = base_columns(model)
    table = model.__table__
    sel = select(*[table.c[c] for c in cols],
                 literal(int(op), Integer()), literal(AUDIT_OK, Integer()),
                 literal(reason[:255] if reason else None, String(255)), literal(actor.job_id, BigInteger()),
                 literal(actor.job_name, String(80)), literal(actor.now, UtcDateTime())).where(where)
    session.execute(insert(HISTORY[model]).from_select([*cols, *AUDIT_COLUMNS], sel))


def audit_objects(session: UnitSession, objs: Sequence[Base], op: AuditOp, actor: Actor,
                  reason: str | None = None) -> int:
    """History rows for ORM objects (flushed first so their ids and values are in the table)."""
    if not objs:
        return 0
    session.flush()
    model = type(objs[0])
    pk = _pk(model).name
    return audit_ids(session, model, [getattr(o, pk) for o in objs], op, actor, reason)


def audit_snapshots(session: UnitSession, model: type[Base], rows: Sequence[dict[str, Any]], op: AuditOp,
                    actor: Actor, reason: str | None = None) -> int:
    """History rows from full row snapshots (several changes to one row in one transaction)."""
    if not rows:
        return 0
    extra = {"audit_operation": int(op), "audit_status": AUDIT_OK, "audit_reason": reason[:255] if reason else None,
             "job_id": actor.job_id, "job_name": actor.job_name, "time_stamp": actor.now}
    cols = base_columns(model)
    session.execute(insert(HISTORY[model]), [{**{c: r[c] for c in cols}, **extra,
                                              **({"audit_reason": r["_reason"][:255]} if r.get("_reason") else {})}
                                             for r in rows])
    return len(rows)
