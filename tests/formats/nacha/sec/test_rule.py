"""What differs by SEC code lives in the SEC rules: names (WEB, TEL), counted addenda (CTX), COR."""

from __future__ import annotations

from formats.nacha.records import entry_detail
from formats.nacha.records.entry_detail import EntryDetail
from formats.nacha.sec import RULES
from formats.nacha.sec.iat import is_iat_layout


def _entry(name: str = "JOHN DOE", indicator: int = 0) -> str:
    return entry_detail.format(EntryDetail(27, "09100001", "9", "12345", 100, "091000010000001",
                                           individual_name=name, addenda_record_indicator=indicator))


def test_name_required_by_web_and_tel_only() -> None:
    for sec in ("WEB", "TEL"):
        rule = RULES[sec]
        assert rule.name_issues(_entry(), 3, allow_empty=False) == []
        (missing,) = rule.name_issues(_entry(""), 3, allow_empty=False)
        assert (missing.code, missing.field, missing.columns, missing.line) == ("missing", "individual_name",
                                                                               (55, 76), 3)
        assert rule.name_issues(_entry(""), 3, allow_empty=True) == []
        assert [i.code for i in rule.name_issues(_entry("0000"), 3, allow_empty=True)] == ["only_zeros"]
    assert RULES["PPD"].name_issues(_entry(""), 3, allow_empty=False) == []


def test_ctx_reads_and_checks_its_addenda_count() -> None:
    ctx = RULES["CTX"]
    assert ctx.counted(_entry("0002ACME CORP"), 4) == (2, [])
    count, issues = ctx.counted(_entry("00X2ACME CORP"), 4)
    assert count is None and [(i.code, i.field, i.columns) for i in issues] == [
        ("non_numeric", "number_of_addenda_records", (55, 58))]
    (mismatch,) = ctx.closed_entry_issues(4, n05=1, n98=0, counted=2)
    assert (mismatch.code, mismatch.value, mismatch.expected) == ("ctx_addenda_count", "0002", "0001")
    assert ctx.closed_entry_issues(4, n05=2, n98=0, counted=2) == []
    assert RULES["PPD"].counted(_entry("0002ACME CORP"), 4) == (None, [])


def test_cor_needs_its_addenda_98() -> None:
    cor = RULES["COR"]
    assert [i.code for i in cor.indicator_issues(_entry(indicator=0), 5)] == ["cor_addenda"]
    assert cor.indicator_issues(_entry(indicator=1), 5) == []
    assert [i.found for i in cor.closed_entry_issues(5, n05=0, n98=2, counted=None)] == ["2"]
    assert cor.closed_entry_issues(5, n05=0, n98=1, counted=None) == []
    assert RULES["PPD"].indicator_issues(_entry(indicator=0), 5) == []


def test_fast_path_only_for_plain_entries() -> None:
    assert {sec for sec, r in RULES.items() if r.plain_entries} == {"PPD", "CCD", "WEB", "TEL"}


def test_iat_layout() -> None:
    line = "5220" + "ACME" + " " * 12 + "FV" + " " * 72
    assert is_iat_layout(line) and not is_iat_layout(line.replace("FV", "  "))
