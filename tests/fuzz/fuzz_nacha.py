"""Fuzz target for the NACHA reader: mutated files must never raise anything but FormatError.

Run for 10 minutes (as CI would)::

    .venv/bin/python -m tests.fuzz.fuzz_nacha --minutes 10

Seeds are every file of ``tests/data/corpus/ach`` plus generated PPD/CTX/WEB files.
Each iteration applies 1-8 random mutations (byte flips, digit/blank/letter
substitutions, inserted/deleted bytes, duplicated/dropped/swapped lines, line
ending changes, truncation) and checks, under every policy preset:

* ``read`` and ``validate`` never raise; ``parse`` raises only ``FormatError``;
* the streaming validator and the typed reader agree on ok/not ok and counts;
* a file that validates round-trips: ``dumps(parse(x))`` parses to the same file.

A failing input is written to ``tests/fuzz/crashers/`` (create it to keep them).
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
import traceback
from pathlib import Path

from formats.errors import FormatError
from formats.nacha import PRESETS, AchReader, dumps, parse, read, validate

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "ach"


def seeds() -> list[bytes]:
    import gzip

    out = []
    for p in sorted(CORPUS.rglob("*")):
        if p.is_file() and p.suffix in (".ach", ".txt", ".expected"):
            out.append(p.read_bytes())
        elif p.name.endswith(".gz"):
            out.append(gzip.decompress(p.read_bytes())[:200_000])
    from tests.formats.nacha.builders import sample_file

    out.extend(sample_file(seed) for seed in range(5))
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    rng = random.Random(seed)
    corpus = seeds()
    deadline = time.monotonic() + args.minutes * 60
    n = findings = 0
    crashers = Path(__file__).resolve().parent / "crashers"
    while time.monotonic() < deadline:
        data = mutate(rng.choice(corpus), rng)
        n += 1
        try:
            check(data)
        except Exception:
            findings += 1
            print(f"FINDING #{findings} at iteration {n}:\n{traceback.format_exc()}", flush=True)
            if crashers.is_dir():
                (crashers / f"crash-{seed}-{n}.ach").write_bytes(data)
            if findings >= 20:
                break
    print(f"fuzz_nacha: seed {seed}, {n} inputs x {len(PRESETS)} policies in {args.minutes} min, "
          f"{findings} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
