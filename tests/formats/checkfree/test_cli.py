import json

from daemon.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, main

from .helpers import debit_bytes, debit_name, join, lines, payment, splice


def write(tmp_path, data: bytes, name: str | None = None):
    path = tmp_path / (name or debit_name())
    path.write_bytes(data)
    return path


def test_validate__valid_file_json(tmp_path, capsys):
    path = write(tmp_path, debit_bytes([payment(1), payment(2)]))
    assert main(["cdp", "validate", str(path), "--json"]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["type"] == "debit"
    assert report["records"] == 5
    assert report["counts"] == {"header": 1, "batch": 1, "detail": 2, "trailer": 1}
    assert report["totals"]["amount"] == 4500 and report["totals"]["trailer_amount"] == 4500
    assert report["errors"] == [] and report["warnings"] == []


def test_validate__invalid_file_json_errors(tmp_path, capsys):
    ls = lines(debit_bytes([payment(1, bank_account="99887766")]))
    ls[2] = splice(ls[2], 75, "0000000015X0")
    ls[2] = splice(ls[2], 121, "Q")
    path = write(tmp_path, join(ls))
    assert main(["cdp", "validate", str(path), "--json"]) == EXIT_FAILURE
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    errors = {e["field"]: e for e in report["errors"]}
    assert set(errors) == {"amount", "account_type"}
    assert errors["amount"]["line"] == 3 and errors["amount"]["columns"] == [75, 86]
    assert errors["amount"]["record"] == "4000 detail" and errors["amount"]["value"] == "0000000015X0"
    assert {"line", "record", "field", "columns", "reason", "value"} <= set(errors["account_type"])


def test_validate__text_output(tmp_path, capsys):
    ls = lines(debit_bytes([payment(1)]))
    ls[3] = splice(ls[3], 13, "00000009")
    path = write(tmp_path, join(ls))
    assert main(["cdp", "validate", str(path)]) == EXIT_FAILURE
    out = capsys.readouterr().out
    assert "INVALID debit file" in out and "detail_count 9 in the trailer, 1 in the file" in out


def test_validate__bad_name_is_a_warning(tmp_path, capsys):
    path = write(tmp_path, debit_bytes([payment(1)]), "debit.txt")
    assert main(["cdp", "validate", str(path), "--json"]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert [w["reason"].split(":")[0] for w in report["warnings"]] == ["bad CheckFree file name"]


def test_validate__usage_errors(tmp_path, capsys):
    assert main(["cdp", "validate", str(tmp_path / "missing.dat")]) == EXIT_USAGE
    path = write(tmp_path, debit_bytes([payment(1)]))
    assert main(["cdp", "validate", str(path), "--layout", str(tmp_path / "none.toml")]) == EXIT_USAGE
    assert main(["cdp", "validate", str(path), "--type", "credit"]) == EXIT_USAGE
    assert "cannot read layout" in capsys.readouterr().err


def test_validate__type_option_must_match_header(tmp_path, capsys):
    path = write(tmp_path, debit_bytes([payment(1)]), "x.dat")
    assert main(["cdp", "validate", str(path), "--type", "returns", "--json"]) == EXIT_FAILURE
    assert "type_mismatch" in [e["code"] for e in json.loads(capsys.readouterr().out)["errors"]]
