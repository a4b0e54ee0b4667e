"""Cost of one masked log line: the formatters against the old "mask every 8+ digit run" formatter.

Prints microseconds per line and the ratio to the baseline measured in the same process.
"""

from __future__ import annotations

import logging
import time

from daemon.logfmt import JsonFormatter, MaskingFormatter
from formats.errors import mask_digit_runs

FMT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
N = 20_000


class Baseline(logging.Formatter):
    """The formatter before field-aware masking: every run of 8+ digits masked, nothing escaped."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_digit_runs(super().format(record), 8)


def _record() -> logging.LogRecord:
    counts = {"batches": 3, "entries": 120000, "returns": 3}
    r = logging.LogRecord("spoolgate.pipeline", logging.INFO, __file__, 1,
                          "file %s channel=%s id=%d handler=%s outcome=%s counts=%s duration=%.3fs",
                          ("payments_20261130.txt", "ach", 1234, "ach.returns", "done", counts, 0.123), None)
    r.__dict__.update(channel="ach", file="payments_20261130.txt", file_id=1234, handler="ach.returns",
                      outcome="done", counts=counts, duration=0.123)
    return r


def _per_line(fmt: logging.Formatter) -> float:
    start = time.perf_counter()
    for _ in range(N):
        fmt.format(_record())
    return (time.perf_counter() - start) / N * 1e6


def main() -> None:
    base = _per_line(Baseline(FMT))
    for name, fmt in (("plain", MaskingFormatter(FMT)), ("json", JsonFormatter())):
        us = _per_line(fmt)
        print(f"{name:<6} {us:7.1f} us/line   baseline {base:6.1f} us/line   ratio {us / base:4.2f}")


if __name__ == "__main__":
    main()
