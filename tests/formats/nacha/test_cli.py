"""``spoolgate ach validate|describe`` through daemon.cli.main."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daemon.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, main
from tests.corpus import ACH as CORPUS
from tests.formats.nacha.builders import sample_file


@pytest.fixture
def good(tmp_path: Path) -> Path:
    p = tmp_path / "good.ach"
    p.write_bytes(sample_file(0))
    return p


def test_validate_json_ok(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ach", "validate", str(good), "--json"]) == EXIT_OK
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"ok", "batches", "entries", "addenda", "debit_total", "credit_total", "returns",
                        "nocs", "warnings", "errors"}
    assert out["ok"] is True and out["errors"] == [] and out["entries"] > 0


def test_validate_json_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = sample_file(0).split(b"\n")
    lines[2] = lines[2][:29] + b"00000X0001" + lines[2][39:]
    bad = tmp_path / "bad.ach"
    bad.write_bytes(b"\n".join(lines))
    assert main(["ach", "validate", str(bad), "--json"]) == EXIT_FAILURE
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False
    first = out["errors"][0]
    assert set(first) == {"line", "record", "field", "columns", "reason", "value"}
    assert first == {"line": 3, "record": "EntryDetail", "field": "amount", "columns": [30, 39],
                     "reason": "amount must be numeric", "value": "00000X0001"}


def test_validate_policy_and_text_summary(capsys: pytest.CaptureFixture[str]) -> None:
    f = str(CORPUS / "moov" / "test__issues__testdata__issue702.ach")
    assert main(["ach", "validate", f]) == EXIT_FAILURE
    assert main(["ach", "validate", f, "--policy", "bypass-destination"]) == EXIT_OK
    text = capsys.readouterr().out
    assert "returns 3" in text and "warning:" in text and "error:" in text


def test_usage_errors(good: Path) -> None:
    assert main(["ach", "validate", str(good), "--policy", "nope"]) == EXIT_USAGE
    assert main(["ach", "validate", "/nonexistent/file.ach"]) == EXIT_USAGE
    with pytest.raises(SystemExit) as exc:
        main(["ach", "validate"])
    assert exc.value.code == EXIT_USAGE


def test_describe(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ach", "describe", str(CORPUS / "moov_ach_return-WEB.ach")]) == EXIT_OK
    out = capsys.readouterr().out
    assert "R01 Insufficient funds" in out and "batch 1" in out and "123456789" not in out.split("\n")[2]
