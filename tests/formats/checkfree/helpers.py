"""Builders for CDP test files (the writer is also how tests make inbound files)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date, datetime

from formats.checkfree import (
    BatchHeader,
    DebitBatch,
    DebitHeader,
    DebitPayment,
    Detail,
    FileHeader,
    Payee,
    build_name,
    write_debit,
    write_file,
)

CREATED = datetime(2024, 1, 31, 23, 59, 0)
PAYEE = Payee("0000012345", "UTILBILLS", "Acme Utility Co", "1 Main Street", "Springfield", "IL", "62701")


def debit_header(**kw: object) -> DebitHeader:
    base: dict[str, object] = {"system": "test", "ftp_user": "acmeutil", "created": CREATED, "file_seq": 1,
                               "client_id": "CLIENT01", "sender_id": "SENDER01", "payee": PAYEE}
    base.update(kw)
    return DebitHeader(**base)  # type: ignore[arg-type]


def payment(n: int = 1, **kw: object) -> DebitPayment:
    base: dict[str, object] = {"transaction_id": f"TX{n:08d}", "account_number": f"ACCT-{1000 + n}",
                               "amount": 1500 * n, "payment_date": date(2024, 2, 1),
                               "routing_number": "021000021", "bank_account": f"12345678{n}",
                               "account_type": "C", "payer_name": "Jane Doe", "reference": f"INV-{n:06d}"}
    base.update(kw)
    return DebitPayment(**base)  # type: ignore[arg-type]


def debit_bytes(payments: Iterable[DebitPayment] | None = None, *, batches: list[DebitBatch] | None = None,
                **header: object) -> bytes:
    out = io.BytesIO()
    if batches is None:
        pays = list(payments) if payments is not None else [payment(1), payment(2)]
        batches = [DebitBatch(date(2024, 2, 1), pays)] if pays else []
    write_debit(out, debit_header(**header), batches)
    return out.getvalue()


def debit_name(**kw: object) -> str:
    return build_name(str(kw.get("system", "test")), str(kw.get("ftp_user", "acmeutil")), "debit", CREATED)


def inbound_bytes(file_type: str, details: list[Detail], *, client_id: str = "CLIENT01",
                  batch: BatchHeader | None = None) -> bytes:
    out = io.BytesIO()
    header = FileHeader(file_type=file_type.upper(), system="test", ftp_user="acmeutil", created=CREATED,
                        file_seq=7, client_id=client_id, sender_id="CHECKFREE")
    bh = batch or BatchHeader(batch_no=1, effective_date=date(2024, 2, 1), payee_number="0000012345")
    write_file(out, file_type, header, [(bh, details)])
    return out.getvalue()


def inbound_name(file_type: str) -> str:
    return build_name("test", "acmeutil", file_type, CREATED)


def lines(data: bytes) -> list[str]:
    return data.decode("ascii").split("\r\n")[:-1]


def join(ls: list[str]) -> bytes:
    return ("\r\n".join(ls) + "\r\n").encode("ascii")


def splice(line: str, start: int, text: str) -> str:
    """Overwrite 1-based column ``start`` onward with ``text``."""
    return line[: start - 1] + text + line[start - 1 + len(text):]
