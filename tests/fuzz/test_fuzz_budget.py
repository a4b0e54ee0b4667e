"""The NACHA and PBS fuzzers on a short fixed budget (fixed seed, fixed number of inputs) in every test run.

Longer runs: ``python -m tests.fuzz.fuzz_nacha --minutes 10`` / ``tests.fuzz.fuzz_pbs``.
"""

from __future__ import annotations

import io

import pytest

from tests.fuzz import fuzz_nacha, fuzz_pbs

#: (fuzzer, inputs): about 10 s and 4 s on a quiet 2-core machine
BUDGETS = [(fuzz_nacha, 250), (fuzz_pbs, 4000)]


@pytest.mark.parametrize(("fuzzer", "inputs"), BUDGETS, ids=["nacha", "pbs"])
def test_fuzzer_fixed_budget_finds_nothing(fuzzer, inputs: int) -> None:
    out = io.StringIO()
    n, findings = fuzzer.run(inputs, 20261130, out=out)
    assert n == inputs
    assert findings == 0, out.getvalue()


@pytest.mark.parametrize("fuzzer", [fuzz_nacha, fuzz_pbs], ids=["nacha", "pbs"])
def test_seeds_come_from_the_repository_and_pass(fuzzer) -> None:
    seeds = fuzzer.seeds()
    assert len(seeds) >= 6
    for data in seeds:
        fuzzer.check(data)


def test_a_finding_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(data: bytes) -> None:
        raise ValueError("reader bug")

    monkeypatch.setattr(fuzz_pbs, "check", broken)
    out = io.StringIO()
    assert fuzz_pbs.run(3, 1, out=out) == (3, 3)
    assert "reader bug" in out.getvalue()
