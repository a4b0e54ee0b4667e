"""A short chaos run in the suite (bench/chaos runs a long one): no invariant may break."""

from __future__ import annotations

from tests.chaos.harness import run


def test_short_chaos_run_breaks_no_invariant(tmp_path, db_url):
    result = run(tmp_path, db_url, seconds=25, seed=11)
    assert result.files > 20 and sum(result.faults.values()) > 5, result
    assert result.violations == [], "\n".join(result.violations[:20])
