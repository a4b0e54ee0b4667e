"""Builders for valid NACHA files (shared by tests, the fuzz target and the benchmark's idea)."""

from __future__ import annotations

import datetime as dt
import itertools
import random

from formats.nacha.routing import check_digit
from formats.nacha.writer import BatchSpec, FileSpec, Payment, write

SPEC = FileSpec("091000019", "1234567890", dt.datetime(2024, 5, 1, 13, 45), "A", "FED RESERVE",
                "SPOOLGATE BILLER")


def routing(rng: random.Random) -> str:
    first8 = f"{rng.randrange(1, 13):02d}{rng.randrange(10**6):06d}"
    return first8 + check_digit(first8)


def batch(sec: str, company: str = "ACME UTILITIES", day: int = 2) -> BatchSpec:
    return BatchSpec(company, "1234567890", sec, "PAYMENT", dt.date(2024, 5, day), "09100001")


def sample_items(seed: int) -> list[tuple[BatchSpec, Payment]]:
    rng = random.Random(seed)
    items: list[tuple[BatchSpec, Payment]] = []
    for sec, codes in (("PPD", (22, 27, 32, 37)), ("CCD", (22, 27)), ("WEB", (27, 22)), ("TEL", (27, 37)),
                       ("CTX", (22, 27))):
        for _ in range(rng.randint(1, 4)):
            tx = rng.choice(codes)
            addenda: tuple[str, ...] = ()
            if sec == "CTX":
                addenda = tuple(f"ISA*{rng.randrange(10**6)}*REMIT" for _ in range(rng.randint(0, 3)))
            elif sec != "TEL" and rng.random() < 0.3:
                addenda = (f"INVOICE {rng.randrange(10**6)}",)
            name = rng.choice(["JOHN DOE", "JANE ROE", "ACME TENANT"])
            items.append((batch(sec, day=rng.randint(2, 3)), Payment(
                tx, routing(rng), str(rng.randrange(10**3, 10**12)), rng.randrange(1, 10**7), name,
                f"ID{rng.randrange(10**6)}", "S " if sec == "WEB" else "", addenda)))
        if sec == "PPD":
            items.append((batch(sec), Payment.prenote(27, routing(rng), "55512345", "PRENOTE PERSON")))
    return items


def sample_file(seed: int = 0) -> bytes:
    return write(SPEC, sample_items(seed), next_sequence=itertools.count(1))
