"""Fuzz target for the NACHA reader: mutated files must never raise anything but FormatError.

Run for 10 minutes (as a nightly job would)::

    .venv/bin/python -m tests.fuzz.fuzz_nacha --minutes 10

``make test`` runs a short fixed budget (``tests/fuzz/test_fuzz_budget.py``: a
fixed seed and number of inputs). Seeds are built inside the repository:
generated PPD/CCD/WEB/TEL/CTX files, return and NOC files (dishonored and
contested returns among them) and one gzip-compressed file.
Each iteration applies 1-8 random mutations (byte flips, digit/blank/letter
substitutions, inserted/deleted bytes, duplicated/dropped/swapped lines, line
ending changes, truncation) and checks, under every policy preset:

* ``read`` and ``validate`` never raise; ``parse`` raises only ``FormatError``;
* the streaming validator and the typed reader agree on ok/not ok and counts;
* a file that validates round-trips: ``dumps(parse(x))`` parses to the same file.

A failing input is written to ``tests/fuzz/crashers/`` (create it to keep them).
"""

from __future__ import annotations

import io
import random
import sys
from pathlib import Path
from typing import Any

from formats.errors import FormatError
from formats.nacha import PRESETS, AchReader, dumps, parse, read, validate
from tests.fuzz.harness import command_line, fuzz


def seeds() -> list[bytes]:
    import gzip

    from tests.formats.nacha.builders import sample_file
    from tests.formats.nacha.test_bank_quirks import CONTESTED, DISHONORED, HEAD, TAIL

    out = [sample_file(seed) for seed in range(5)]
    out += [HEAD + CONTESTED + TAIL, HEAD + DISHONORED + TAIL, gzip.compress(out[0])]
    out += [HEAD + b"799R1409140060000000124010109100001Deceased per SSA" + b" " * 28 + b"091000017611242\n" + TAIL,
            HEAD.replace(b"WEB", b"COR") + b"798C01091000010000001      09100001" + b"1918171614".ljust(29)
            + b" " * 15 + b"091000017611242\n" + TAIL]
    return out


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(10)
        if not b:
            b.extend(b"1")
        i = rng.randrange(len(b))
        if op == 0:
            b[i] = rng.randrange(256)
        elif op == 1:
            b[i] = rng.choice(b"0123456789")
        elif op == 2:
            b[i] = rng.choice(b" AZaz*~\t\x00\xe9")
        elif op == 3:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 5)))
        elif op == 4:
            del b[i:i + rng.randint(1, 95)]
        elif op == 5:
            lines = bytes(b).split(b"\n")
            j = rng.randrange(len(lines))
            lines.insert(rng.randrange(len(lines) + 1), lines[j])
            b = bytearray(b"\n".join(lines))
        elif op == 6:
            lines = bytes(b).split(b"\n")
            if len(lines) > 1:
                del lines[rng.randrange(len(lines))]
            b = bytearray(b"\n".join(lines))
        elif op == 7:
            lines = bytes(b).split(b"\n")
            j, k = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[j], lines[k] = lines[k], lines[j]
            b = bytearray(b"\n".join(lines))
        elif op == 8:
            b = bytearray(bytes(b).replace(b"\n", rng.choice([b"\r\n", b"\r", b"", b"\n\n"])))
        else:
            del b[rng.randrange(len(b)):]
    return bytes(b)


def check(data: bytes) -> None:
    """One input under every policy; raises AssertionError (or the bug) on a finding."""
    for policy in PRESETS.values():
        report = validate(io.BytesIO(data), policy)
        ach, _issues = read(io.BytesIO(data), policy)
        typed = AchReader(io.BytesIO(data), policy)
        for _ in typed:
            pass
        assert typed.error_count == report.error_count, (typed.error_count, report.error_count)
        assert typed.summary == report.summary, (typed.summary, report.summary)
        try:
            parsed = parse(data, policy)
        except FormatError as exc:
            assert exc.issues and not report.ok
            continue
        assert report.ok
        assert parsed == ach
        again = dumps(parsed)
        assert parse(again, policy) == parsed


def run(inputs: int | None, seed: int, *, minutes: float | None = None, out: Any = sys.stdout,
        crashers: Path | None = None) -> tuple[int, int]:
    """Fuzz ``inputs`` mutated inputs (or for ``minutes``); returns (inputs tried, findings)."""
    return fuzz(seeds(), mutate, check, inputs, seed, minutes=minutes, out=out, crashers=crashers, suffix=".ach")


def main() -> int:
    inputs, seed, minutes = command_line(__doc__ or "")
    n, findings = run(inputs, seed, minutes=minutes, crashers=Path(__file__).resolve().parent / "crashers")
    print(f"fuzz_nacha: seed {seed}, {n} inputs x {len(PRESETS)} policies, {findings} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
