"""PBCNET envelope lines around a Betalingsservice delivery (§1.1, §1.7).

Files from Nets carry ``PBCNET30…`` before BS002 and ``PBCNET90…`` after BS992;
the last 6 digits of PBCNET90 count the records between the two [REAL]. The
positions below are those of the outbound envelope written by the hafsjold
generator (``PBCNET00<sys> <yymmdd><idlev>  <idfri>``); inbound lines are read
tolerantly because only their code and trailing count are known.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from formats.fixedwidth import Field, format_record
from formats.pbs.fields import const, n, x

START_CODES = ("00", "30")  #: 00 written by creditors, 30 seen on files from Nets
END_CODE = "90"
RECEIPT_CODES = ("40", "41")  #: transmission / delivery receipts: see formats.pbs.receipts

FIELDS: tuple[Field, ...] = (
    const("prefix", 1, 6, "PBCNET"),
    n("code", 7, 8, "00/30 start, 90 end, 40/41 receipts"),
    x("system_code", 9, 11),
    x("filler_1", 12, 12),
    n("date", 13, 18, "yymmdd"),
    n("delivery_id", 19, 20, "idlev"),
    x("filler_2", 21, 22),
    n("free_id", 23, 28, "idfri"),
    n("count", 29, 34, "PBCNET90 only: records between the envelope lines"),
)


@dataclass(frozen=True, slots=True)
class Envelope:
    code: str
    system_code: str
    count: int | None
    text: str
    line: int | None = field(default=None, compare=False)


def is_envelope(line: str) -> bool:
    return line.startswith("PBCNET")


def parse(line: str, *, lineno: int | None = None) -> Envelope:
    """Tolerant: the count is the trailing 6 digits of a PBCNET90 line, if present."""
    text = line.rstrip()
    tail = text[-6:]
    count = int(tail) if text[6:8] == END_CODE and len(text) >= 14 and tail.isdigit() and tail.isascii() else None
    return Envelope(code=text[6:8], system_code=text[8:11], count=count, text=text, line=lineno)


def format(code: str, system_code: str, *, date: dt.date, delivery_id: int = 1,
           free_id: int = 0, count: int | None = None) -> str:
    values: dict[str, object] = {
        "code": code, "system_code": system_code, "date": date.strftime("%y%m%d"),
        "delivery_id": delivery_id, "free_id": free_id,
        "count": count if code == END_CODE else None,
    }
    width = 34 if code == END_CODE else 28
    return format_record(FIELDS, values, 34)[:width]
