"""The loop both fuzzers share: mutate a seed, check it, report findings, keep crashers."""

from __future__ import annotations

import argparse
import random
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: a run stops after this many findings: past that the report says nothing new
MAX_FINDINGS = 20


def fuzz(corpus: Sequence[bytes], mutate: Callable[[bytes, random.Random], bytes], check: Callable[[bytes], None],
         inputs: int | None, seed: int, *, minutes: float | None, out: Any, crashers: Path | None,
         suffix: str) -> tuple[int, int]:
    """Fuzz ``inputs`` mutated inputs (or for ``minutes``); returns (inputs tried, findings)."""
    rng = random.Random(seed)
    deadline = time.monotonic() + minutes * 60 if minutes is not None else None
    n = findings = 0
    while (inputs is None or n < inputs) and (deadline is None or time.monotonic() < deadline):
        data = mutate(rng.choice(corpus), rng)
        n += 1
        try:
            check(data)
        except Exception:
            findings += 1
            print(f"FINDING #{findings} at iteration {n}:\n{traceback.format_exc()}", file=out, flush=True)
            if crashers is not None and crashers.is_dir():
                (crashers / f"crash-{seed}-{n}{suffix}").write_bytes(data)
            if findings >= MAX_FINDINGS:
                break
    return n, findings


def command_line(doc: str) -> tuple[int | None, int, float | None]:
    """``--minutes`` / ``--inputs`` / ``--seed`` of a fuzzer run by hand: (inputs, seed, minutes)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--inputs", type=int, default=None, help="stop after this many inputs instead")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    return args.inputs, seed, None if args.inputs else args.minutes
