"""bills.load: every bill of a file in one transaction (seed 000 "Business UBF Bill Load").

The reader streams; bills go to the database in batches of plain INSERTs (no
ORM objects kept), so memory stays flat for files of any size. One bad bill
rejects the whole file: parsing continues to collect every problem, inserting
stops, and the pipeline rolls back. A file without bills is a no-op that can
tell ``noop_recipients``. The users' notification addresses a file carries
(``userEmail``) fill ``bill_users`` in the same transaction, for ``bills.notify``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, BinaryIO

from sqlalchemy import select

from formats.bills import Bill, BillReader
from formats.errors import FormatError, Issue, IssueCode
from handlers.base import FileContext, Handler, HandlerResult
from handlers.registry import section
from store.bulk import insert_dicts
from store.models.bills import AuditEvent, BillLineItem, BillUser, encode_bill_data
from store.models.bills import Bill as BillRow

OPTIONS = {"loaded_status", "data_compress", "noop_recipients", "batch_size"}
STATUSES = ("LOADED", "PUBLISHED")


def bill_document(b: Bill) -> dict[str, Any]:
    return {"billId": b.bill_id, "accountNumber": b.account_number, "userId": b.user_id,
            "payerName": b.payer_name, "documentDate": b.document_date.isoformat(),
            "dueDate": b.due_date.isoformat(), "amountDue": b.amount_due,
            "minimumAmountDue": b.minimum_amount_due, "currency": b.currency, "pdfRef": b.pdf_ref,
            "lineItems": [{"description": i.description, "amount": i.amount, "code": i.code}
                          for i in b.line_items]}


class BillLoadHandler(Handler):
    name = "bills.load"
    accepts = ("*.xml",)
    description = "load a bill file (bills.xsd) in one transaction"

    known_options = OPTIONS

    def check_options(self) -> list[str]:
        problems = super().check_options()
        status = self.options.get("loaded_status")
        if status is not None and status not in STATUSES:
            problems.append(f"loaded_status must be LOADED or PUBLISHED, not {status!r}")
        return problems

    def _conf(self) -> tuple[str, bool, tuple[str, ...], int]:
        conf = section(self.settings, "bills")
        status = str(self.options.get("loaded_status", conf.loaded_status))
        compress = bool(self.options.get("data_compress", conf.data_compress))
        noop = tuple(self.options.get("noop_recipients", conf.noop_recipients))
        return status, compress, noop, int(self.options.get("batch_size", 1000))

    def handle(self, ctx: FileContext, stream: BinaryIO) -> HandlerResult:
        status, compress, noop_recipients, batch_size = self._conf()
        reader = BillReader(stream)
        batch: list[Bill] = []
        loaded = items = amount = 0
        addresses: dict[str, tuple[str, ...]] = {}
        for bill in reader:
            if reader.error_count:
                continue  # the file is rejected; keep reading only to report every problem
            batch.append(bill)
            if bill.user_id is not None and bill.user_emails:
                addresses[bill.user_id] = bill.user_emails
            if len(batch) >= batch_size:
                items += self._insert(ctx, batch, status, compress)
                loaded += len(batch)
                amount += sum(b.amount_due for b in batch)
                batch.clear()
        if batch and not reader.error_count:
            items += self._insert(ctx, batch, status, compress)
            loaded += len(batch)
            amount += sum(b.amount_due for b in batch)
        reader.issues.raise_if_errors("bill file")
        users = _store_addresses(ctx, addresses)
        source = reader.header.source if reader.header else None
        if loaded == 0:
            self._noop(ctx, noop_recipients)
        ctx.session.add(AuditEvent(created_at=ctx.now, job_name=ctx.job_name, event_type="bills_loaded",
                                   actor="spoolgate", object_type="spool_file", object_id=str(ctx.file.id),
                                   detail={"file": ctx.file.original_name, "bills": loaded, "status": status}))
        counts = {"bills": loaded, "line_items": items, **({"user_addresses": users} if users else {})}
        return HandlerResult(counts=counts, totals={"amount_due": amount},
                             summary={"status": status, "compressed": compress, "source": source},
                             warnings=list(reader.issues.warnings))

    def _insert(self, ctx: FileContext, batch: list[Bill], status: str, compress: bool) -> int:
        s = ctx.session
        ids = [b.bill_id for b in batch]
        existing = set(s.scalars(select(BillRow.bill_id).where(BillRow.bill_id.in_(ids))))
        if existing:
            raise FormatError("bill file", [
                Issue(code=IssueCode.BILL_EXISTS, reason="a bill with this billId is already loaded", line=b.line,
                      record=f"bill {b.bill_id}", field="billId", value=b.bill_id)
                for b in batch if b.bill_id in existing][:100])
        rows: list[dict[str, Any]] = []
        for b in batch:
            row: dict[str, Any] = {
                "bill_id": b.bill_id, "account_number": b.account_number, "user_id": b.user_id,
                "payer_name": b.payer_name, "document_date": b.document_date, "due_date": b.due_date,
                "amount_due": b.amount_due, "minimum_amount_due": b.minimum_amount_due, "currency": b.currency,
                "pdf_ref": b.pdf_ref, "status": status, "file_id": ctx.file.id, "loaded_at": ctx.now,
                "line_count": len(b.line_items), "data": None, "data_encoding": None, "notified_run": None}
            if compress:
                row["data"], row["data_encoding"] = encode_bill_data(bill_document(b), compress=True)
            rows.append(row)
        if compress:
            insert_dicts(s, BillRow.__tablename__, rows)
            return sum(len(b.line_items) for b in batch)
        returned = insert_dicts(s, BillRow.__tablename__, rows, returning=("bill_id", "id"))
        pks: dict[str, int] = {bid: pk for bid, pk in returned}
        item_rows = [{"bill_pk": pks[b.bill_id], "position": n, "description": i.description,
                      "amount": i.amount, "code": i.code}
                     for b in batch for n, i in enumerate(b.line_items, 1)]
        insert_dicts(s, BillLineItem.__tablename__, item_rows)
        return len(item_rows)

    def _noop(self, ctx: FileContext, recipients: Iterable[str]) -> None:
        from store.templates import render

        subject, body = render("batch_noop", job=ctx.job_name, kind=self.name, run_id=f"file {ctx.file.id}",
                               outcome="noop", counts={}, started=ctx.now.isoformat(),
                               message=f"bill file {ctx.file.original_name} holds no bills")
        ctx.unit.notify(list(recipients), subject, body, lane="immediate", kind="bills-noop",
                        ref=f"spool_file:{ctx.file.id}")



def _store_addresses(ctx: FileContext, addresses: dict[str, tuple[str, ...]]) -> int:
    """The file's addresses replace each named user's; users not yet known are added (notify on)."""
    s = ctx.session
    ids = sorted(addresses)
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        known = {u.user_id: u for u in s.scalars(select(BillUser).where(BillUser.user_id.in_(part)))}
        for user_id in part:
            emails = list(addresses[user_id])
            user = known.get(user_id)
            if user is None:
                user = BillUser(user_id=user_id, notify=True)
                s.add(user)
            user.email, user.emails, user.emails_file_id = emails[0], emails, ctx.file.id
        s.flush()
    return len(ids)
