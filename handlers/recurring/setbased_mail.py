"""The set-based step's "payment scheduled" e-mails, rendered and queued in SQL (SQLite).

A million e-mails per run cost more in Python (render, JSON of the recipient, one parameter row each)
than the payments themselves. The shipped template is text and plain ``{{ name }}`` outputs, so its
text is a concatenation of literals and columns: SQL joins it, splits the subject line off and trims
it as ``str.strip`` does, and masks the account as ``formats.errors.mask`` does. Everything else the
general path writes (``notify`` and ``mail.queue``: ids after the highest, lane, state, the notice
audit) is written the same way. CROSS JOIN: the temporary table first (SQLite's planner knows
nothing of its size and would scan the setups for it). A template an operator made with anything
else (a filter, a loop) renders in Python through ``notify``, as before. The differential test
compares both paths.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from formats.bills import format_cents
from formats.errors import mask
from handlers.ach.store import db_value
from handlers.recurring.audit import AUDIT_LENGTH
from handlers.recurring.ids import top_id
from store.db import utcnow
from store.models.core import Notification
from store.models.recurring import PaymentEmailHistory
from store.templates import flat_template

if TYPE_CHECKING:
    from handlers.recurring.stepjob import RecurringJob
    from store.unit import Work

TEMPLATE, KIND = "recurring_scheduled", "recurring-scheduled"


@cache
def whitespace() -> str:
    """Every character ``str.strip()`` removes, for SQL's ``trim`` (found once: 0.1 s, not at import)."""
    return "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())


def _trimmed(expr: str) -> str:
    return f"trim({expr}, :ws)"


def _stars(n: str) -> str:
    return f"replace(hex(zeroblob({n})), '00', '*')"


#: the template's names as SQL over the setup and the step's decision (``account`` already trimmed): what
#: ``str`` of the general path's value gives (``_view``; the amount is above zero, so no sign)
NAMES = {
    "setup": "setup_ref",
    "user_id": "user_id",
    "email": "payer_email_addr",
    "recurring_id": "CAST(recurring_id AS TEXT)",
    "amount": "printf('%d.%02d', amount / 100, amount % 100)",
    "pay_date": "pay_date",
    "account": f"CASE WHEN length(account) <= 4 THEN {_stars('length(account)')} "
               f"ELSE {_stars('length(account) - 4')} || substr(account, -4) END",
}


def _text_sql(params: dict[str, Any]) -> str | None:
    """The template's text as one SQL expression (literals bound in ``params``), or None."""
    found = flat_template(TEMPLATE)
    if found is None:
        return None
    parts, globals_ = found
    exprs: list[str] = []
    for is_name, p in parts:
        if is_name and p in NAMES:
            exprs.append(NAMES[p])
            continue
        if is_name and p not in globals_:
            return None  # undefined: the Python path raises as the template engine does
        key = f"lit{len(params)}"
        params[key] = str(globals_[p]) if is_name else p
        exprs.append(f":{key}")
    return " || ".join(exprs) if exprs else "''"


def scheduled(job: RecurringJob, uow: Work, fast_table: str, n: int, counts: dict[str, int]) -> None:
    """Queue one e-mail per decided setup (``n`` of them) with an address, in setup order; count those without."""
    conn = uow.session.connection()
    params: dict[str, Any] = {"ws": whitespace()}
    body = _text_sql(params)
    if body is None:
        rows = conn.exec_driver_sql(f"""
            SELECT r.setup_ref, r.user_id, r.payer_account_number, r.payer_email_addr, r.recurring_id, f.amount,
                f.pay_date FROM {fast_table} f JOIN recurring_payments r ON r.recurring_id = f.recurring_id
            ORDER BY f.recurring_id""").fetchall()
        job.notify(uow, [(TEMPLATE, {"setup": ref, "user_id": user, "account": mask(acct), "email": email,
                                     "recurring_id": rid, "amount": format_cents(int(amount)), "pay_date": pay},
                          KIND) for ref, user, acct, email, rid, amount, pay in rows], counts)
        return
    s = uow.session
    top = top_id(s, "notifications", "id")
    params.update(top=top, kind=KIND, created=db_value(s, Notification.__table__.c.created_at, utcnow()),
                  ref=f"job_run:{job.ctx.run_id}")
    nl = "char(10)"
    sent = conn.execute(text(f"""
        INSERT INTO notifications (id, lane, kind, recipients, subject, body, state, attempts, created_at, ref)
        WITH m AS MATERIALIZED (
                SELECT f.recurring_id, f.amount, f.pay_date, r.setup_ref, r.user_id, r.payer_email_addr,
                    {_trimmed('r.payer_account_number')} AS account
                FROM {fast_table} f CROSS JOIN recurring_payments r ON r.recurring_id = f.recurring_id
                WHERE r.payer_email_addr IS NOT NULL AND r.payer_email_addr <> ''),
            t AS MATERIALIZED (SELECT recurring_id, payer_email_addr AS email, {body} AS txt FROM m),
            c AS MATERIALIZED (SELECT recurring_id, email, txt, instr(txt, {nl}) AS cut FROM t)
        SELECT :top + row_number() OVER (ORDER BY recurring_id), 'bulk', :kind, json_array(email),
            CASE WHEN cut > 0 THEN {_trimmed('substr(txt, 1, cut - 1)')} ELSE {_trimmed('txt')} END,
            CASE WHEN cut > 0 THEN ltrim(substr(txt, cut + 1), {nl}) ELSE '' END, 'pending', 0, :created, :ref
        FROM c
        ORDER BY recurring_id"""), params).rowcount
    counts["emails"] += sent
    counts["no_address"] += n - sent
    if sent and job.opt("audit_notifications"):
        actor = job.actor
        conn.execute(text(f"""
            INSERT INTO payment_email_history (notice_type, ref_table, ref_id, recipient, notification_id, content,
                job_id, job_name, time_stamp)
            SELECT :kind, 'recurring_payments', CAST(x.recurring_id AS TEXT), x.email, n.id,
                NULLIF(substr(n.body, 1, :length), ''), :job_id, :job_name, :stamp
            FROM (SELECT f.recurring_id, r.payer_email_addr AS email,
                      :top + row_number() OVER (ORDER BY f.recurring_id) AS nid
                  FROM {fast_table} f CROSS JOIN recurring_payments r ON r.recurring_id = f.recurring_id
                  WHERE r.payer_email_addr IS NOT NULL AND r.payer_email_addr <> '') x
                JOIN notifications n ON n.id = x.nid
            ORDER BY n.id"""),
                     {"kind": KIND, "length": AUDIT_LENGTH, "job_id": actor.job_id, "job_name": actor.job_name,
                      "stamp": db_value(s, PaymentEmailHistory.__table__.c.time_stamp, actor.now), "top": top})
