"""Fuzz target for the Betalingsservice readers: mutated files must never raise anything but FormatError.

Run for 10 minutes (as a nightly job would)::

    .venv/bin/python -m tests.fuzz.fuzz_pbs --minutes 10

``make test`` runs a short fixed budget (``tests/fuzz/test_fuzz_budget.py``).
Seeds are built inside the repository: 0602 deliveries with every payment code
and slip extras, 0603 deliveries with every section, envelopes, a delivery
without line breaks, the Nets guide examples, receipts and a 0601. Each input
is checked under both policies:

* ``validate`` never raises and agrees with ``read_delivery`` on ok/not ok;
* ``read_delivery`` and ``read_0601`` raise only ``FormatError`` (with its issues);
* a delivery that reads (strict) written back reads to the same payments and mandate events.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

from formats.errors import FormatError
from formats.pbs import GUIDE_EXAMPLES, STRICT, read_delivery, validate
from formats.pbs.d0601 import read_0601
from formats.pbs.writer import write_delivery
from tests.fuzz.fuzz_nacha import mutate
from tests.fuzz.harness import command_line, fuzz

POLICIES = (STRICT, GUIDE_EXAMPLES)


def seeds() -> list[bytes]:
    import datetime as dt

    from formats.pbs.d0601 import Collection, CollectionSection, Delivery0601, write_0601
    from formats.pbs.delivery import Payment
    from formats.pbs.records.bs042_automatic import AutomaticPayment
    from formats.pbs.records.bs042_mandate import MandateEvent
    from formats.pbs.records.bs042_slip import SlipPayment
    from formats.pbs.records.bs042_slip_info import SlipInfo
    from formats.pbs.writer import automatic_payment, build_0602, build_0603, mandate_event, slip_payment
    from tests.formats.pbs.helpers import CORPUS
    from tests.formats.pbs.test_receipts import RECEIPT_40, RECEIPT_41

    pays: list[AutomaticPayment | SlipPayment | Payment] = [
            automatic_payment("1001", "INV1", 15000), automatic_payment("1002", "INV2", 2500, code="0239"),
            automatic_payment("1003", "INV3", 990, code="0237"), automatic_payment("1004", "INV4", 0, code="0238"),
            slip_payment("1005", "INV5", 5000, "ARCH0000000000000001"),
            slip_payment("1006", "INV6", 700, "ARCH0000000000000002", code="0299")]
    events: list[MandateEvent | SlipInfo] = [mandate_event("C1", "1", code="0230"), mandate_event("C2", "2"),
              mandate_event("C3", "3", code="0232", end_date=dt.date(2024, 5, 1)),
              SlipInfo("01234567", "00001", "42", "71", "81131945", "0000" + "000000001000016", dt.date(2024, 1, 2),
                       12500, "INV000042")]
    flat = build_0602(pays[:3])
    out = [build_0602(pays), build_0602(pays, envelope=True), build_0603(events), build_0603(events, envelope=True),
           b"".join(line.ljust(128).encode("cp1252") for line in flat.decode("cp1252").splitlines()),
           RECEIPT_40, RECEIPT_41]
    out += [p.read_bytes() for p in sorted(CORPUS.glob("*.txt"))]
    section = CollectionSection("01234567", "00001", "BILLER", dt.date(2024, 1, 2), "1234", "0012345678", "Tekst",
                                (Collection("77", "000000001", dt.date(2024, 2, 1), 15000, "INV1", ("Jens Æbelø",),
                                            "8000", "DK", ("linje 1",)),))
    out.append(write_0601(Delivery0601("12345678", "BS1", "0000000042", dt.date(2024, 1, 2), (section,))))
    return out


def check(data: bytes) -> None:
    """One input under both policies; raises AssertionError (or the bug) on a finding."""
    for policy in POLICIES:
        report = validate(io.BytesIO(data), policy=policy)
        try:
            d = read_delivery(io.BytesIO(data), policy=policy)
        except FormatError as exc:
            assert exc.issues
            if report.kind in ("0602", "0603"):
                assert not report.ok, [str(i) for i in exc.issues]
            continue
        assert report.ok, [str(i) for i in report.errors]
        if policy is not STRICT:
            continue  # the guide's placeholder numbers cannot be written back
        again = read_delivery(io.BytesIO(write_delivery(d)), policy=policy)
        assert list(again.payments) == list(d.payments)
        assert list(again.mandate_events) == list(d.mandate_events)
        assert list(again.slip_infos) == list(d.slip_infos)
    try:
        read_0601(io.BytesIO(data))
    except FormatError as exc:
        assert exc.issues


def run(inputs: int | None, seed: int, *, minutes: float | None = None, out: Any = sys.stdout,
        crashers: Path | None = None) -> tuple[int, int]:
    """Fuzz ``inputs`` mutated inputs (or for ``minutes``); returns (inputs tried, findings)."""
    return fuzz(seeds(), mutate, check, inputs, seed, minutes=minutes, out=out, crashers=crashers, suffix=".pbs")


def main() -> int:
    inputs, seed, minutes = command_line(__doc__ or "")
    n, findings = run(inputs, seed, minutes=minutes, crashers=Path(__file__).resolve().parent / "crashers")
    print(f"fuzz_pbs: seed {seed}, {n} inputs x {len(POLICIES)} policies, {findings} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
