"""Queueing many notices at once: plain INSERTs into the notification queue, ids back for the audit.

The caller updates the flag that makes each notice go once (``reminded``,
``notify_status``, ...) in the same transaction, so a crash either loses both
or keeps both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from handlers.recurring.audit import Actor, audit_notice
from handlers.recurring.ids import reserve_ids
from store.bulk import insert_rows
from store.db import utcnow
from store.models.core import Notification
from store.unit import UnitSession


@dataclass
class Notice:
    kind: str
    recipient: str
    subject: str
    body: str
    ref_table: str
    ref_id: object


def queue(s: UnitSession, notices: Sequence[Notice], actor: Actor, *, audit: bool, ref: str) -> list[int]:
    if not notices:
        return []
    now = utcnow()
    ids = reserve_ids(s, "notifications", "id", len(notices))
    insert_rows(s, Notification.__tablename__, [
        {"id": i, "lane": "bulk", "kind": n.kind, "recipients": [n.recipient], "subject": n.subject, "body": n.body,
         "state": "pending", "attempts": 0, "created_at": now, "ref": ref} for n, i in zip(notices, ids, strict=True)])
    if audit:
        for n, nid in zip(notices, ids, strict=True):
            audit_notice(s, actor, n.kind, n.ref_table, n.ref_id, n.recipient, nid, n.body)
    return ids
