"""The CheckFree debit file, written for check-submit inside its unit of work.

check-submit (ACH channel) selects the scheduled payments of a payee whose
gateway is CheckFree and calls :func:`write_debit_file`. The file is staged into
``out/bd`` through the unit of work (visible only after check-submit commits)
and a ``checkfree_transfers`` row in state ``new`` is added in the same
transaction, so the ``checkfree.outbound`` job picks it up exactly once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any, cast

from sqlalchemy import func, select

from formats.checkfree import ACTION_ADD, DebitBatch, DebitHeader, DebitPayment, Payee, build_name, write_debit
from handlers.checkfree import settings as cfs
from handlers.checkfree.cutoff import after_cutoff
from store.db import utcnow
from store.models.checkfree import CheckfreeTransfer, TransferState

if TYPE_CHECKING:
    from store.config import Settings
    from store.models.ach import CheckPayment
    from store.unit import Work

log = logging.getLogger("spoolgate.checkfree.debit")


def transaction_id(payment: CheckPayment) -> str:
    """The 4000 record's transaction id: the payment id, which CheckFree echoes in every reply."""
    return str(payment.payment_id)


def _account_type(value: str | None) -> str:
    return "S" if (value or "").strip().lower().startswith("sav") else "C"


def to_debit(payment: CheckPayment) -> DebitPayment:
    return DebitPayment(transaction_id=transaction_id(payment),
                        account_number=payment.payer_account_number or payment.payer_id,
                        amount=payment.amount, payment_date=payment.pay_date,
                        routing_number=payment.routing_transit, bank_account=payment.check_account_number,
                        account_type=_account_type(payment.account_type), payer_name=payment.account_name,
                        reference=(payment.bill_id or "")[:20])


def write_debit_file(uow: Work, settings: Settings, payee_name: str,
                     payments: Sequence[CheckPayment], *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Stage the debit file for ``payments`` (one payee) into ``out/bd``; never commits.

    Returns what was written: ``written`` (False when there were no payments and
    the payee does not generate empty files), ``file``, ``records``,
    ``detail_count``, ``total_amount`` (cents), ``action_code`` (``ADD``), ``late``
    and ``warning`` (the noon-Eastern cut-off). The 4000 transaction id is the
    payment id (:func:`transaction_id`); replies are matched by it. Bad payment data raises
    :class:`formats.errors.FormatError` with every issue; nothing is staged then.
    """
    cf = cfs.checkfree(settings)
    payee = cf.payee(payee_name)
    now = now or utcnow()
    base: dict[str, Any] = {"payee": payee_name, "written": False, "file": None, "records": 0,
                            "detail_count": 0, "total_amount": 0, "action_code": ACTION_ADD,
                            "late": False, "warning": None}
    if not payments and not payee.generate_empty_file:
        return base
    session = uow.session
    created = now.astimezone().replace(tzinfo=None, microsecond=0)
    name = build_name(payee.mode, payee.ftp_user, "debit", created)
    while session.scalar(select(CheckfreeTransfer.id).where(CheckfreeTransfer.name == name)) is not None:
        created += dt.timedelta(seconds=1)  # two files in one second: names must stay unique
        name = build_name(payee.mode, payee.ftp_user, "debit", created)
    seq = (session.scalar(select(func.count(CheckfreeTransfer.id))
                          .where(CheckfreeTransfer.payee == payee_name)) or 0) % 999_999 + 1
    header = DebitHeader(system=payee.mode, ftp_user=payee.ftp_user, created=created, file_seq=seq,
                         client_id=payee.client_id, sender_id=payee.sender_id,
                         payee=Payee(number=payee.payee_number, short_name=payee.payee_short_name,
                                     name=payee.payee_name, address=payee.payee_address, city=payee.payee_city,
                                     state=payee.payee_state, zip=payee.payee_zip))
    by_date: dict[dt.date, list[CheckPayment]] = defaultdict(list)
    for p in payments:
        by_date[p.pay_date].append(p)
    batches = [DebitBatch(day, [to_debit(p) for p in by_date[day]]) for day in sorted(by_date)]
    folder = cfs.folder(settings, "out_bd")
    with uow.outbound_to(folder, name, target="checkfree.debit") as out:
        controls = write_debit(cast(IO[bytes], out), header, batches, layout=_layout(cf))
        out.records = controls.record_count
        for p in payments:
            out.item("payment", p.payment_id, p.amount)
        out.summary = {"payee": payee_name, "detail_count": controls.detail_count,
                       "total_amount": controls.total_amount}
    row = out.close()
    warning = after_cutoff(cf, now)
    if warning:
        log.warning("CheckFree debit file %s %s", name, warning)
    session.add(CheckfreeTransfer(name=name, payee=payee_name, state=TransferState.NEW, plain_sha256=row.sha256,
                                  plain_size=row.size, detail_count=controls.detail_count,
                                  total_amount=controls.total_amount, late=warning is not None,
                                  source=uow.source))
    session.flush()
    return base | {"written": True, "file": name, "folder": str(folder), "records": controls.record_count,
                   "detail_count": controls.detail_count, "total_amount": controls.total_amount,
                   "late": warning is not None, "warning": warning}


def _layout(cf: cfs.CheckFreeSettings) -> Any:
    if cf.layout is None:
        return None
    from formats.checkfree import load_layout

    return load_layout(cf.layout)
