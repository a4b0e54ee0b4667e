"""The recurring-payment plug-in hook (seed 001 "Implementation of interface IRecurringPaymentPlugIn").

A hook is a Python callable published under the entry point group
``spoolgate.recurring_hooks`` and named in the job's ``hooks`` option::

    [project.entry-points."spoolgate.recurring_hooks"]
    copy_memo = "mybiller.hooks:copy_memo"

It is called with a :class:`ProposedPayment` before each payment is scheduled
and returns it (possibly changed with ``dataclasses.replace``: amount, pay
date, memo) or ``None`` to veto the payment. A vetoed payment is skipped like
a zero amount: the bill counts as handled and no payment is made. A hook that
raises fails the job's chunk (nothing of that chunk is written), never
silently schedules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points

GROUP = "spoolgate.recurring_hooks"


@dataclass(frozen=True)
class ProposedPayment:
    recurring_id: int
    setup_ref: str
    user_id: str
    payer_account_number: str
    #: cents
    amount: int
    pay_date: dt.date
    #: the bill being paid (bills.bill_id), None for a fixed amount on a fixed date
    doc_id: str | None
    due_date: dt.date | None
    memo: str | None = None


Hook = Callable[[ProposedPayment], ProposedPayment | None]


class HookError(Exception):
    """A configured hook is missing or not callable (configuration problem)."""


def load_hooks(names: Sequence[str]) -> list[Hook]:
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    hooks: list[Hook] = []
    for name in names:
        if name not in found:
            raise HookError(f"no entry point {name!r} in group {GROUP}")
        fn = found[name].load()
        if not callable(fn):
            raise HookError(f"entry point {name!r} is not callable")
        hooks.append(fn)
    return hooks


def apply_hooks(hooks: Sequence[Hook], p: ProposedPayment) -> ProposedPayment | None:
    for hook in hooks:
        out = hook(p)
        if out is None:
            return None
        if not isinstance(out, ProposedPayment) or out.recurring_id != p.recurring_id or out.amount < 0:
            raise TypeError(f"recurring hook {getattr(hook, '__name__', hook)!r} returned {out!r}")
        p = out
    return p
