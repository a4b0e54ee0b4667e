"""``spoolgate pbs validate FILE [--json]`` through ``daemon.cli.main``."""

from __future__ import annotations

import json

import pytest

from daemon.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, main
from formats.pbs.writer import automatic_payment, build_0602, build_0603, mandate_event
from tests.formats.pbs.helpers import CORPUS
from tests.formats.pbs.test_receipts import RECEIPT_41


def run_json(capsys, *args):
    code = main(["pbs", "validate", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_valid_0602(tmp_path, capsys):
    f = tmp_path / "D0000001.BS1"
    f.write_bytes(build_0602([automatic_payment("1", "INV1", 15000),
                              automatic_payment("2", "INV2", 500, code="0239")]))
    code, report = run_json(capsys, str(f))
    assert code == EXIT_OK
    assert (report["ok"], report["delivery_type"], report["delivery_number"]) == (
        True, "0602", "0000000001")
    assert report["counts"]["payments"] == 2
    assert report["amounts"] == {"control": 15500, "paid": 15500, "received": 14500}
    assert report["sections"][0]["section"] == "0211"
    assert report["errors"] == [] and report["warnings"] == []


def test_type_comes_from_content_not_name(tmp_path, capsys):
    f = tmp_path / "D0000001-602.BS1"
    f.write_bytes(build_0603([mandate_event("1", "2")]))
    code, report = run_json(capsys, str(f))
    assert code == EXIT_OK and report["delivery_type"] == "0603"
    assert report["counts"]["mandate_events"] == 1


def test_invalid_file_reports_errors(tmp_path, capsys):
    lines = build_0602([automatic_payment("1", "INV1", 15000)]).decode().splitlines()
    lines[-2] = lines[-2][:31] + "00000000003" + lines[-2][42:]
    f = tmp_path / "bad.BS1"
    f.write_text("\r\n".join(lines) + "\r\n")
    code, report = run_json(capsys, str(f))
    assert code == EXIT_FAILURE and report["ok"] is False
    err = report["errors"][0]
    assert {k: err[k] for k in ("line", "record", "field", "columns", "value")} == {
        "line": 4, "record": "BS092", "field": "count_042", "columns": [32, 42], "value": "3"}
    assert err["reason"]


def test_corpus_needs_the_placeholder_flag(capsys):
    path = str(CORPUS / "nets_spec_example_0602_sec0211_0215.txt")
    assert main(["pbs", "validate", path]) == EXIT_FAILURE
    assert "data_supplier" in capsys.readouterr().out
    code, report = run_json(capsys, "--allow-placeholders", path)
    assert code == EXIT_OK
    assert {w["code"] for w in report["warnings"]} == {"placeholder", "control_amount"}
    assert [s["section"] for s in report["sections"]] == ["0211", "0215"]


def test_receipt(tmp_path, capsys):
    f = tmp_path / "V0000001T.AB"
    f.write_bytes(RECEIPT_41)
    code, report = run_json(capsys, str(f))
    assert code == EXIT_OK
    assert report["kind"] == "delivery_receipt" and report["receipt"]["accepted_count"] == 325


def test_unknown_content_fails(tmp_path, capsys):
    f = tmp_path / "x.txt"
    f.write_bytes(b"hello\n")
    assert main(["pbs", "validate", str(f)]) == EXIT_FAILURE
    assert "INVALID" in capsys.readouterr().out


def test_missing_file_is_usage(tmp_path, capsys):
    assert main(["pbs", "validate", str(tmp_path / "nope")]) == EXIT_USAGE
    assert "nope" in capsys.readouterr().err


def test_missing_argument_is_usage(capsys):
    with pytest.raises(SystemExit) as info:
        main(["pbs", "validate"])
    assert info.value.code == EXIT_USAGE


def test_our_own_0601_is_valid_and_a_broken_one_is_not(tmp_path, capsys):
    import datetime as dt

    from formats.pbs.d0601 import Collection, CollectionSection, Delivery0601, write_0601

    section = CollectionSection("01234567", "00001", "BILLER", dt.date(2024, 1, 2), "1234", "0012345678",
                                "Faktura", (Collection("77", "000000001", dt.date(2024, 2, 1), 15000, "INV1"),
                                            Collection("78", "000000002", dt.date(2024, 2, 1), -500, "INV2")))
    data = write_0601(Delivery0601("12345678", "BS1", "0000000042", dt.date(2024, 1, 2), (section,)))
    f = tmp_path / "D0601.BS1"
    f.write_bytes(data)
    code, report = run_json(capsys, str(f))
    assert code == EXIT_OK and report["ok"] and report["delivery_type"] == "0601"
    assert report["counts"] == {"sections": 1, "collections": 2}
    assert report["amounts"] == {"collected": 15000, "paid_out": 500, "net": 14500}
    assert main(["pbs", "validate", str(f)]) == EXIT_OK
    assert "valid 0601 delivery 0000000042, 1 sections, 2 collections, net 14500 øre" in capsys.readouterr().out
    lines = data.decode("cp1252").splitlines()
    lines[-2] = lines[-2][:31] + "00000000009" + lines[-2][42:]
    f.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    code, report = run_json(capsys, str(f))
    assert code == EXIT_FAILURE and report["errors"][0]["field"] == "count_042"
    assert "not one this reader accepts" not in json.dumps(report)
