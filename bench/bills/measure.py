"""Generate a bill file of about SIZE MB, then parse it in a fresh process; print peak RSS and time.

Usage: python bench/bills/measure.py [SIZE_MB=200] [--keep PATH]
The parse runs in a child process so its ru_maxrss is the parser's alone.
Target (issue 7): a 200 MB file streams under 150 MB RSS.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from typing import IO

LIMIT_MB = 150


def generate(path: str, size_mb: float) -> int:
    from formats.bills import Bill, LineItem, write_bills

    target = size_mb * 1024 * 1024
    items = tuple(LineItem(f"Charge {k}", 1000 + k, f"C{k}") for k in range(8))

    class Sized:
        def __init__(self, f: IO[bytes]) -> None:
            self.f = f

        def __iter__(self) -> Iterator[Bill]:
            n = 0
            while self.f.tell() < target:
                n += 1
                yield Bill(bill_id=f"B{n:09d}", account_number=f"ACC-{n:010d}", payer_name=f"Payer {n}",
                           document_date=date(2024, 1, 31), due_date=date(2024, 2, 15), amount_due=123456,
                           minimum_amount_due=1000, currency="USD", user_id=f"user{n % 5000}",
                           line_items=items, pdf_ref=f"pdf/2024/01/B{n:09d}.pdf")

    with open(path, "wb") as f:
        return write_bills(f, Sized(f))


def parse(path: str) -> None:
    from formats.bills import BillReader

    t0 = time.perf_counter()
    with open(path, "rb") as f:
        reader = BillReader(f)
        total = sum(b.amount_due for b in reader)
    elapsed = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"bills={reader.count} errors={len(reader.issues.errors)} total_cents={total}")
    print(f"parse_seconds={elapsed:.1f} peak_rss_mb={peak_mb:.1f} limit_mb={LIMIT_MB}")
    sys.exit(0 if peak_mb < LIMIT_MB and not reader.issues.errors else 1)


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--parse":
        parse(sys.argv[2])
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    keep = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else None
    path = keep or os.path.join(tempfile.mkdtemp(prefix="bills-bench-"), "bills.xml")
    t0 = time.perf_counter()
    n = generate(path, size)
    print(f"generated {n} bills, {os.path.getsize(path) / 1024 / 1024:.1f} MB in "
          f"{time.perf_counter() - t0:.1f} s: {path}")
    try:
        return subprocess.call([sys.executable, __file__, "--parse", path])
    finally:
        if keep is None:
            os.remove(path)
            os.rmdir(os.path.dirname(path))


if __name__ == "__main__":
    sys.exit(main())
