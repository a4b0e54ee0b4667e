"""Table tests, one per record module: a good line passes; each field made bad is reported
with that field's name and 1-based columns (the field table drives both)."""

from __future__ import annotations

import pytest

from formats.fixedwidth import Field, Kind
from formats.nacha.records import (
    addenda_02,
    addenda_05,
    addenda_98,
    addenda_98_refused,
    addenda_99,
    addenda_99_contested,
    addenda_99_dishonored,
    batch_control,
    batch_header,
    entry_detail,
    file_control,
    file_header,
)

GOOD = {
    file_header: "101 091000019 1234567892405011345A094101FED RESERVE            SPOOLGATE BILLER       REF00001",
    batch_header: "5225ACME UTILITIES                      1234567890PPDPAYMENT   MAY 24240502   1091000010000001",
    entry_detail: "62709100001912345            0000001234ID42           JOHN DOE                0091000010000001",
    addenda_02: "702REF1234RF2TERM01SERIAL0501AUTH01MAIN STREET 1              ANYTOWN        NY091000010000001",
    addenda_05: "705INVOICE 42" + " " * 70 + "00010000001",
    addenda_98: "798C01091000010000001      09100001" + "1918171614".ljust(29) + " " * 15 + "091000010000001",
    addenda_98_refused: ("798C62091000010000001      09100001" + "1918171614".ljust(29) + "C01" + "0000001"
                         + " " * 5 + "091000010000001"),
    addenda_99: "799R01091000010000001      09100001" + "NSF".ljust(44) + "091000010000001",
    addenda_99_dishonored: ("799R68091000010000001      09100001   091000010000009123" + "01"
                            + " " * 21 + "091000010000001"),
    addenda_99_contested: ("799R73091000010000001240502091000011230910000100000091230109100001000000812301 "
                           "091000010000001"),
    batch_control: "82250000010009100001000000001234000000000000" + "1234567890" + " " * 25 + "091000010000001",
    file_control: "9000001000001000000010009100001000000001234000000000000" + " " * 39,
}


def _bad_value(f: Field) -> str:
    if f.const is not None:
        return ("X" if f.const[0] != "X" else "Y") * f.width
    if f.kind is Kind.N:
        return "1" * (f.width - 1) + "A"
    return "\x01" + " " * (f.width - 1)


CASES = [(m, f) for m in GOOD for f in m.FIELDS]


@pytest.mark.parametrize("module", list(GOOD), ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_good_line(module) -> None:
    line = GOOD[module]
    assert len(line) == 94
    assert module.check(line, lineno=7) == []
    rec = module.parse(line)
    assert module.format(rec) == line
    assert module.from_line(line) == rec


@pytest.mark.parametrize(("module", "field"), CASES,
                         ids=[f"{m.__name__.rsplit('.', 1)[-1]}-{f.name}" for m, f in CASES])
def test_each_field_bad(module, field: Field) -> None:
    line = GOOD[module]
    bad = line[:field.start - 1] + _bad_value(field) + line[field.end:]
    issues = [i for i in module.check(bad, lineno=7) if i.field == field.name]
    assert issues, f"{field.name} not reported"
    assert issues[0].columns == (field.start, field.end)
    assert issues[0].line == 7 and issues[0].record == module.NAME


@pytest.mark.parametrize(("module", "field", "value", "code"), [
    (file_header, "priority_code", "02", "bad_code"),
    (file_header, "immediate_destination", " 091000018", "check_digit"),
    (file_header, "immediate_destination", "YYYYYYYYY ", "bad_routing"),
    (file_header, "file_creation_date", "241301", "bad_date"),
    (file_header, "file_creation_time", "2460", "bad_time"),
    (file_header, "file_id_modifier", "a", "bad_code"),
    (batch_header, "service_class_code", "210", "bad_code"),
    (batch_header, "company_name", "0000000000000000", "only_zeros"),
    (batch_header, "originator_status_code", "7", "bad_code"),
    (batch_header, "settlement_date", "400", "bad_date"),
    (entry_detail, "transaction_code", "25", "bad_code"),
    (entry_detail, "check_digit", "8", "check_digit"),
    (entry_detail, "addenda_record_indicator", "2", "bad_code"),
    (entry_detail, "dfi_account_number", " " * 17, "missing"),
    (addenda_98, "change_code", "C99", "bad_code"),
    (addenda_99, "return_reason_code", "R63", "bad_code"),
    (addenda_99, "date_of_death", "240231", "bad_date"),
])
def test_semantic_rules(module, field: str, value: str, code: str) -> None:
    f = next(x for x in module.FIELDS if x.name == field)
    line = GOOD[module]
    bad = line[:f.start - 1] + value + line[f.end:]
    assert code in {i.code for i in module.check(bad) if i.field == field}


def test_account_numbers_are_masked() -> None:
    f = next(x for x in entry_detail.FIELDS if x.name == "dfi_account_number")
    line = GOOD[entry_detail]
    bad = line[:f.start - 1] + "12345678\x019".ljust(17) + line[f.end:]
    (issue,) = entry_detail.check(bad)
    assert issue.value is not None and "12345678" not in issue.value and issue.value.endswith("8\x019")


def test_non_digit_amount_is_an_error_never_zero() -> None:
    line = GOOD[entry_detail]
    bad = line[:29] + "00000012O4" + line[39:]
    assert [i.code for i in entry_detail.check(bad)] == ["non_numeric"]
    from formats.errors import FormatError

    with pytest.raises(FormatError):
        entry_detail.parse(bad)
