import io
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formats.checkfree import (
    BatchHeader,
    DebitBatch,
    Detail,
    FileHeader,
    Payee,
    default_layout,
    parse_name,
    read_file,
    write_debit,
)
from formats.checkfree.layout import FieldType, Role
from formats.errors import FormatError, Severity

from .helpers import CREATED, PAYEE, debit_bytes, debit_header, debit_name, join, lines, payment, splice

LAYOUT = default_layout()


def read(data: bytes, name: str | None = None):
    return read_file(io.BytesIO(data), expected_name=parse_name(name) if name else None)


def test_round_trip__parse_of_write_gives_the_payments():
    pays = [payment(n) for n in range(1, 6)]
    f = read(debit_bytes(pays), debit_name())
    assert f.ok, f.issues.issues
    assert f.file_type == "debit"
    assert [e for e in f.entries()] == [p.to_detail() for p in pays]
    assert f.header == FileHeader("DEBIT", "test", "acmeutil", CREATED, 1, "CLIENT01", "SENDER01")
    assert f.client_id == "CLIENT01"
    (batch,) = f.batches
    assert batch.header == BatchHeader(1, date(2024, 2, 1), "0000012345", "", PAYEE)
    assert f.trailer is not None
    assert (f.trailer.record_count, f.trailer.detail_count, f.trailer.total_amount) == (8, 5, 1500 * 15)


def test_debit__records_and_action_code():
    data = debit_bytes([payment(1)])
    ls = lines(data)
    assert [line[:4] for line in ls] == ["0000", "3000", "4000", "9999"]
    assert all(len(line) == 200 for line in ls)
    assert ls[2][143:146] == "ADD"
    assert ls[0][62:72] == "CLIENT01  " and ls[0][72:82] == "SENDER01  "
    assert ls[3][:34] == "9999" + "00000004" + "00000001" + "00000000001500"
    assert data.endswith(b"\r\n")


def test_debit__several_batches_keep_their_payments():
    b1 = DebitBatch(date(2024, 2, 1), [payment(1), payment(2)])
    b2 = DebitBatch(date(2024, 2, 2), (p for p in [payment(3)]))
    f = read(debit_bytes(batches=[b1, b2]))
    assert f.ok
    assert [b.header.batch_no for b in f.batches] == [1, 2]
    assert [len(b.entries) for b in f.batches] == [2, 1]
    assert f.batches[1].header.effective_date == date(2024, 2, 2)


def test_empty_file__header_batch_trailer_only():
    data = debit_bytes([])
    assert [line[:4] for line in lines(data)] == ["0000", "3000", "9999"]
    f = read(data)
    assert f.ok and list(f.entries()) == []
    assert f.trailer is not None and (f.trailer.record_count, f.trailer.detail_count) == (3, 0)


def test_payer_name__accents_folded_and_truncated_to_fit():
    f = read(debit_bytes([payment(1, payer_name="Zoë Ångström-Villeneuve de la Montagne")]))
    (e,) = f.entries()
    assert isinstance(e, Detail) and e.payer_name == "Zoe Angstrom-Villeneuv"


@pytest.mark.parametrize("kw, field, code", [
    ({"amount": 0}, "amount", "bad_amount"),
    ({"amount": -5}, "amount", "bad_amount"),
    ({"amount": 10**12}, "amount", "too_long"),
    ({"routing_number": "021000022"}, "routing_number", "bad_check_digit"),
    ({"routing_number": "02100002"}, "routing_number", "bad_check_digit"),
    ({"routing_number": "02100002A"}, "routing_number", "non_numeric"),
    ({"account_type": "X"}, "account_type", "bad_code"),
    ({"transaction_id": ""}, "transaction_id", "missing"),
    ({"transaction_id": "T" * 21}, "transaction_id", "too_long"),
    ({"bank_account": ""}, "bank_account", "missing"),
    ({"account_number": "ACCT-é"}, "account_number", "non_ascii"),
])
def test_writer__refuses_bad_payments_with_every_issue(kw, field, code):
    out = io.BytesIO()
    with pytest.raises(FormatError) as info:
        write_debit(out, debit_header(), [DebitBatch(date(2024, 2, 1), [payment(1), payment(2, **kw),
                                                                           payment(3, **kw)])])
    issues = info.value.issues
    assert {i.line for i in issues} == {4, 5}
    for line in (4, 5):
        assert (field, code) in [(i.field, i.code) for i in issues if i.line == line]


def test_writer__duplicate_transaction_ids_refused():
    with pytest.raises(FormatError) as info:
        debit_bytes([payment(1), payment(1)])
    assert [i.code for i in info.value.issues] == ["duplicate_transaction"]


def test_writer__bad_header_settings_refused():
    with pytest.raises(FormatError) as info:
        debit_bytes([payment(1)], client_id="", payee=Payee("0000012345", ""))
    assert {i.field for i in info.value.issues} == {"client_id", "payee_short_name"}


def _bad_value(layout_type: FieldType, f, values) -> tuple[str, str] | None:
    """A value that must fail for this field, and the issue code it must give."""
    if f.const is not None:
        return None
    if layout_type is FieldType.X:
        if values is not None:
            return "Z" * f.width, "bad_code"
        if f.required:
            return " " * f.width, "missing"
        return None
    return "1" * (f.width - 1) + "A", "non_numeric"


def _field_cases():
    cases = []
    for role, line_no in ((Role.HEADER, 1), (Role.BATCH, 2), (Role.DETAIL, 3), (Role.TRAILER, 4)):
        rl = LAYOUT.record(role, "debit")
        for f in rl.fields:
            bad = _bad_value(rl.field_types[f.name], f, rl.values.get(f.name))
            if bad is not None:
                cases.append(pytest.param(line_no, f, *bad, id=f"{rl.code}-{f.name}-{bad[1]}"))
    return cases


@pytest.mark.parametrize("line_no, f, value, code", _field_cases())
def test_every_field__bad_value_reported_with_columns(line_no, f, value, code):
    ls = lines(debit_bytes([payment(1)]))
    ls[line_no - 1] = splice(ls[line_no - 1], f.start, value)
    fl = read(join(ls))
    errs = [i for i in fl.issues.errors if i.field == f.name and i.line == line_no]
    assert errs, fl.issues.issues
    assert errs[0].code == code
    assert errs[0].columns == (f.start, f.end)
    assert not fl.ok


def test_every_constrained_field_is_covered():
    covered = {c.values[1].name for c in _field_cases()}
    for role in Role:
        rl = LAYOUT.record(role, "debit")
        constrained = {f.name for f in rl.fields if f.const is None and (
            rl.field_types[f.name] is not FieldType.X or f.required or f.name in rl.values)}
        assert constrained <= covered


@pytest.mark.parametrize("line_no, col, text, field", [
    (1, 43, "20241399", "created"),
    (2, 11, "20240230", "effective_date"),
    (3, 87, "20240001", "payment_date"),
])
def test_bad_dates__reported(line_no, col, text, field):
    ls = lines(debit_bytes([payment(1)]))
    ls[line_no - 1] = splice(ls[line_no - 1], col, text)
    errs = read(join(ls)).issues.errors
    assert [(i.code, i.field, i.line) for i in errs] == [("bad_date", field, line_no)]


def test_account_numbers_are_masked_in_issues():
    ls = lines(debit_bytes([payment(1)]))
    ls[2] = splice(ls[2], 121, "Q")
    ls[2] = splice(ls[2], 104, " " * 17)
    (e,) = [i for i in read(join(ls)).issues.errors if i.field == "bank_account"]
    assert e.code == "missing"
    ls = lines(debit_bytes([payment(1, account_number="ACCT-1234567")]))
    ls[2] = splice(ls[2], 87, "2024023X")
    assert "ACCT-1234567" not in repr(read(join(ls)).issues.issues)


@pytest.mark.parametrize("col, text, field", [
    (5, "00000005", "record_count"),
    (13, "00000003", "detail_count"),
    (21, "00000000001501", "total_amount"),
])
def test_controls_mismatch(col, text, field):
    ls = lines(debit_bytes([payment(1)]))
    ls[3] = splice(ls[3], col, text)
    errs = read(join(ls)).issues.errors
    assert [(i.code, i.field, i.line, i.found) for i in errs] == [("control_mismatch", field, 4, str(int(text)))]


def test_control_field_not_numeric__one_error_not_two():
    ls = lines(debit_bytes([payment(1)]))
    ls[3] = splice(ls[3], 21, "0000000000150X")
    errs = read(join(ls)).issues.errors
    assert [(i.code, i.field) for i in errs] == [("non_numeric", "total_amount")]


def test_detail_amount_not_a_number__error_never_zero():
    ls = lines(debit_bytes([payment(1)]))
    ls[2] = splice(ls[2], 75, "00000000150O")
    errs = read(join(ls)).issues.errors
    assert ("non_numeric", "amount") in [(i.code, i.field) for i in errs]


@pytest.mark.parametrize("mutate, code", [
    (lambda ls: ls[1:], "misplaced_record"),
    (lambda ls: ls[:-1], "missing_trailer"),
    (lambda ls: [*ls, ls[2]], "record_after_trailer"),
    (lambda ls: [ls[0], ls[2], ls[1], ls[3]], "detail_outside_batch"),
    (lambda ls: [ls[0], ls[0], *ls[1:]], "misplaced_record"),
    (lambda ls: [ls[0], "5000" + ls[1][4:], *ls[2:]], "unknown_record"),
    (lambda ls: [ls[0], ls[1], ls[2] + "X", ls[3]], "long_line"),
    (lambda ls: [ls[0], ls[1], ls[2], ls[2], "9999000000050000000200000000003000"], "duplicate_transaction"),
    (lambda ls: [ls[0], ls[1], ls[2].replace("Jane", "Jäne"), ls[3]], "non_ascii"),
    (lambda ls: [ls[0], ls[3].replace("00000004", "00000002", 1)], "missing_batch"),
])
def test_structure_errors(mutate, code):
    ls = lines(debit_bytes([payment(1)]))
    text = "\r\n".join(mutate(ls)) + "\r\n"
    issues = read(text.encode("utf-8")).issues.errors
    assert code in [i.code for i in issues], issues


def test_empty_input():
    f = read(b"")
    assert [i.code for i in f.issues.errors] == ["empty_file"] and f.header is None


def test_tolerated__lf_short_lines_no_line_breaks():
    ls = lines(debit_bytes([payment(1)]))
    lf = ("\n".join(line.rstrip() for line in ls) + "\n").encode()
    f = read(lf)
    assert f.ok and len(list(f.entries())) == 1
    assert {i.code for i in f.issues.warnings} == {"short_line"}
    flat = read("".join(ls).encode())
    assert flat.ok and len(list(flat.entries())) == 1
    assert [i.code for i in flat.issues.warnings] == ["no_line_breaks"]
    assert all(i.severity is Severity.WARNING for i in f.issues.issues)


def test_name_must_agree_with_header():
    data = debit_bytes([payment(1)])
    f = read(data, "prod.acmeutil.debit.dat.20240131235900")
    assert [(i.code, i.field) for i in f.issues.errors] == [("name_mismatch", "system")]
    f = read(data, "test.acmeutil.confirm.dat.20240131235900")
    assert "type_mismatch" in [i.code for i in f.issues.errors]


def test_line_numbers_count_physical_lines():
    ls = lines(debit_bytes([payment(1), payment(2)]))
    ls[3] = splice(ls[3], 75, "ABC")
    (e,) = read(join(ls)).issues.errors
    assert e.line == 4 and e.record == "4000 detail" and e.columns == (75, 86)


def _aba(prefix: str) -> str:
    total = sum(int(d) * w for d, w in zip(prefix, (3, 7, 1, 3, 7, 1, 3, 7), strict=True))
    return prefix + str((10 - total % 10) % 10)


_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=15).map(
    str.strip).filter(bool)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.builds(
    lambda i, acct, amount, routing, bank, atype, name: payment(
        i, account_number=acct, amount=amount, routing_number=_aba(routing), bank_account=bank,
        account_type=atype, payer_name=name),
    st.integers(1, 10**6), _text, st.integers(1, 10**11), st.from_regex(r"\A[0-9]{8}\Z"), _text,
    st.sampled_from(["C", "S"]), st.text(alphabet="ABCDEFGHIJ klmnop-'", max_size=30).map(lambda s: s[:22].strip())),
    max_size=8, unique_by=lambda p: p.transaction_id))
def test_property__read_of_write_is_identity(pays):
    f = read(debit_bytes(pays))
    assert f.ok, f.issues.issues
    assert list(f.entries()) == [p.to_detail() for p in pays]
    assert f.trailer is not None and f.trailer.total_amount == sum(p.amount for p in pays)
