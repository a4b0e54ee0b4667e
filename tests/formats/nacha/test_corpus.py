"""Conformance against moov-io/ach's test files and its verdict on each (INDEX.tsv)."""

from __future__ import annotations

import csv
import gzip
import io

import pytest

from formats.errors import FormatError
from formats.nacha import PRESETS, AchReader, ValidationPolicy, parse, read, validate
from tests.corpus import ACH as CORPUS

MOOV = CORPUS / "moov"

#: moov option names -> our policy fields
MOOV_OPTS = {
    "AllowMissingFileHeader": "allow_missing_file_header",
    "AllowMissingFileControl": "allow_missing_file_control",
    "BypassDestinationValidation": "bypass_destination_validation",
    "AllowInvalidCheckDigit": "allow_invalid_check_digit",
    "CustomTraceNumbers": "custom_trace_numbers",
    "AllowEmptyIndividualName": "allow_empty_individual_name",
    "AllowSpecialCharacters": "allow_special_characters",
}

#: files moov calls valid whose *raw* file control is wrong: moov only reads them (moov-ids)
#: or rebuilds the controls with Create() before validating (issue1620). We report it.
RAW_CONTROL_WRONG = {
    "test__issues__testdata__issue1620.ach": {"batch_count"},
    "test__testdata__moov-ids.ach": {"entry_hash"},
}


#: files moov has no verdict on ("none": unreferenced outputs and fuzz crashers): our verdict, pinned as
#: (ok, error codes, entries counted), so a change in how they read is seen
NO_MOOV_VERDICT: dict[str, tuple[bool, set[str], int]] = {
    # old cmd/writeACH output: moov HEAD rejects originator status 0; NACHA allows it and so do we
    "cmd__writeACH__201805101354.ach": (True, set(), 5000),
    "cmd__writeACH__201805101355.ach": (True, set(), 5000),
    "test__testdata__crashers__0.ach": (False, {"missing_batch_control", "missing_file_control",
                                                "missing_file_header", "unsupported_sec"}, 1),
    "test__testdata__crashers__1.ach": (False, {"missing_file_header", "unsupported_sec"}, 1),
    "test__testdata__crashers__2.ach": (False, {"missing_batch_control", "missing_file_control",
                                                "missing_file_header", "unsupported_sec"}, 1),
    "test__testdata__crashers__3.ach": (False, {"after_file_control", "control_mismatch", "missing_file_header",
                                                "non_numeric", "unsupported_sec"}, 1),
    "test__testdata__crashers__4.ach": (False, {"after_file_control", "control_mismatch", "missing_batch_control",
                                                "missing_file_header", "service_class_mismatch", "trace_odfi",
                                                "unknown_addenda_type", "unknown_record_type", "unsupported_sec"}, 2),
    "test__testdata__crashers__5.ach": (False, {"missing_batch_control", "missing_file_control",
                                                "missing_file_header", "non_numeric", "unknown_record_type",
                                                "unsupported_sec"}, 0),
    # RCK is not a supported SEC code: the clear error and nothing else
    "test__testdata__rck.ach": (False, {"unsupported_sec"}, 1),
    # TXP addenda 05 whose sequence fields are blank-padded text, and a block count of 2 for 6 records
    "test__testdata__txp-debit.ach": (False, {"addenda_entry_sequence", "addenda_sequence", "control_mismatch",
                                              "non_numeric"}, 1),
}


def _index() -> list[tuple[str, str, str]]:
    if not (MOOV / "INDEX.tsv").is_file():
        pytest.fail(f"test corpus missing: {MOOV}")
    with open(MOOV / "INDEX.tsv", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))[1:]
    return [(r[0], r[1], r[2]) for r in rows]


def _data(name: str) -> bytes:
    raw = (MOOV / name).read_bytes()
    return gzip.decompress(raw) if name.endswith(".gz") else raw


def _policy(expected: str) -> ValidationPolicy:
    names = expected[len("valid-with-opts("):-1].replace("+", ",").split(",")
    opts = {MOOV_OPTS[n.strip()]: True for n in names if n.strip() in MOOV_OPTS}
    assert opts, f"no policy mapping for {expected}"
    return ValidationPolicy.from_mapping(opts)


INDEX = _index()


@pytest.mark.parametrize(("name", "kind", "expected"), INDEX, ids=[r[0][:70] for r in INDEX])
def test_moov_verdict(name: str, kind: str, expected: str) -> None:
    data = _data(name)
    report = validate(io.BytesIO(data))
    codes = {e.code for e in report.errors}
    if expected == "valid":
        if name in RAW_CONTROL_WRONG:
            assert {e.field for e in report.errors} == RAW_CONTROL_WRONG[name]
        else:
            # supported SEC codes: no errors; others: only the clear "not supported" error
            assert codes <= {"unsupported_sec"}, [str(e) for e in report.errors]
            if "unsupported_sec" not in codes:
                assert report.ok and report.summary.entries > 0
    elif expected == "invalid":
        assert not report.ok
    elif expected.startswith("valid-with-opts("):
        policy = _policy(expected)
        assert not report.ok, "must fail without the policy"
        relaxed = validate(io.BytesIO(data), policy)
        if name in RAW_CONTROL_WRONG:
            assert {e.field for e in relaxed.errors} == RAW_CONTROL_WRONG[name]
        else:
            assert relaxed.ok, [str(e) for e in relaxed.errors]
    else:
        assert expected == "none"
        ok, pinned, entries = NO_MOOV_VERDICT[name]
        assert (report.ok, codes, report.summary.entries) == (ok, pinned, entries), [str(e) for e in report.errors]
    # reading typed records finds exactly what validating finds
    typed = AchReader(io.BytesIO(data))
    for _ in typed:
        pass
    assert [str(e) for e in typed.errors] == [str(e) for e in report.errors]
    assert typed.summary == report.summary


@pytest.mark.parametrize("name", [r[0] for r in INDEX if not r[0].endswith(".gz")])
def test_never_raises_anything_but_format_error(name: str) -> None:
    data = _data(name)
    for policy in (PRESETS["default"], PRESETS["bank-returns"], PRESETS["special-characters"]):
        _ach, issues = read(io.BytesIO(data), policy)
        try:
            parse(data, policy)
        except FormatError as exc:
            assert exc.issues
        assert all(i.code for i in issues)


def test_return_file_typed_results() -> None:
    ach, issues = read(io.BytesIO((CORPUS / "moov_ach_return-WEB.ach").read_bytes()))
    assert not [i for i in issues if i.severity == "error"]
    returns = ach.returns
    assert [(r.code, r.original_trace_number, r.original_rdfi_identification) for r in returns] == [
        ("R01", "091400600000001", "09100001"), ("R03", "091400600000003", "02100002")]
    assert returns[0].description == "Insufficient funds" and returns[0].kind == "return"


def test_noc_file_typed_results() -> None:
    ach = parse((CORPUS / "moov_ach_cor-example.ach").read_bytes())
    (noc,) = ach.nocs
    assert noc.code == "C01" and not noc.refused
    assert noc.corrected.account_number == "1918171614"
    assert noc.original_trace_number == "121042880000001"
