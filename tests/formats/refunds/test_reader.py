import io

import pytest

from formats.errors import FormatError, Severity
from formats.refunds import PaymentType, RefundReader, RefundType, read_refunds

SEED_ROW = """   <refund>
      <payeeId>BCBS</payeeId>
      <userId>John</userId>
      <paymentAccountNumber>4317345689007461</paymentAccountNumber>
      <payerAccoutNumber>ACC1234567890</payerAccoutNumber>
      <amount>200.00</amount>
      <paymentType>ccard</paymentType>
      <refundType>R</refundType><!-- R for Refunds D for Deposits -->
      <billingSystemTransactionNumber></billingSystemTransactionNumber>
      <originalTransactionNumber>12132312</originalTransactionNumber>
      <sourceSystemPaymentInitiator>CSR2</sourceSystemPaymentInitiator>
      <transactionDescription>Refund Desc</transactionDescription>
      <notifyRequired>Y</notifyRequired>
      <flexFieldOne>one</flexFieldOne>
      <flexFieldTwo>two</flexFieldTwo>
      <flexFieldThree>three</flexFieldThree>
      <flexFieldDate>12-31-2023</flexFieldDate>
   </refund>
"""


def doc(*rows: str, root: str = "doc") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<!-- comment -->\n<{root}>\n' + "".join(rows)
            + f"</{root}>\n").encode()


def row(**fields: str) -> str:
    return "<refund>" + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items()) + "</refund>\n"


def rows(data: bytes):
    return list(read_refunds(io.BytesIO(data)))


@pytest.mark.parametrize("root", ["doc", "refunds"])
def test_seed_sample_row__all_fields_typed(root):
    (r,) = rows(doc(SEED_ROW, root=root))
    assert r.ok and r.reasons == [] and r.issues == ()
    assert (r.index, r.line) == (1, 4)
    assert r.refund_type is RefundType.REFUND and r.amount == 20000
    assert r.payer_account_number == "ACC1234567890" and r.payment_account_number == "4317345689007461"
    assert r.payment_type is PaymentType.CCARD and r.notify_required is True
    assert (r.payee_id, r.user_id, r.original_transaction_number) == ("BCBS", "John", "12132312")
    assert r.billing_system_transaction_number is None
    assert (r.source_system_payment_initiator, r.transaction_description) == ("CSR2", "Refund Desc")
    assert (r.flex_field_one, r.flex_field_two, r.flex_field_three) == ("one", "two", "three")
    assert r.flex_field_date is not None and r.flex_field_date.isoformat() == "2023-12-31"


def test_correct_spelling_of_payer_account_also_accepted():
    (r,) = rows(doc(row(payerAccountNumber="ACC1", amount="1", refundType="R")))
    assert r.ok and r.payer_account_number == "ACC1"


@pytest.mark.parametrize("fields, field, code", [
    ({"amount": "12.30", "refundType": "R"}, "payer_account_number", "missing"),
    ({"payerAccountNumber": "A1", "refundType": "R"}, "amount", "missing"),
    ({"payerAccountNumber": "A1", "amount": "", "refundType": "R"}, "amount", "missing"),
    ({"payerAccountNumber": "A1", "amount": "12.345", "refundType": "R"}, "amount", "bad_amount"),
    ({"payerAccountNumber": "A1", "amount": "abc", "refundType": "R"}, "amount", "bad_amount"),
    ({"payerAccountNumber": "A1", "amount": "-5.00", "refundType": "R"}, "amount", "bad_amount"),
    ({"payerAccountNumber": "A1", "amount": "0.00", "refundType": "R"}, "amount", "bad_amount"),
    ({"payerAccountNumber": "A1", "amount": "1"}, "refund_type", "missing"),
    ({"payerAccountNumber": "A1", "amount": "1", "refundType": "X"}, "refund_type", "bad_code"),
    ({"payerAccountNumber": "A1", "amount": "1", "refundType": "R", "paymentType": "cash"}, "payment_type",
     "bad_code"),
    ({"payerAccountNumber": "A1", "amount": "1", "refundType": "R", "notifyRequired": "yes"},
     "notify_required", "bad_code"),
    ({"payerAccountNumber": "A" * 256, "amount": "1", "refundType": "R"}, "payer_account_number", "too_long"),
])
def test_bad_rows__rejected_with_reason(fields, field, code):
    (r,) = rows(doc(row(**fields)))
    assert not r.ok
    assert [(i.field, i.code) for i in r.issues if i.severity is Severity.ERROR] == [(field, code)]
    assert r.reasons[0].startswith(f"{field}: ")


def test_deposit_needs_no_payer_account():
    (r,) = rows(doc(row(amount="5", refundType="D", paymentType="Check")))
    assert r.ok and r.refund_type is RefundType.DEPOSIT and r.payment_type is PaymentType.CHECK


def test_good_and_bad_rows_in_one_file__each_judged_alone():
    data = doc(SEED_ROW, row(amount="1.00", refundType="R"), row(payerAccoutNumber="X", amount="0.5",
                                                                   refundType="R"))
    got = rows(data)
    assert [r.ok for r in got] == [True, False, True]
    assert [r.index for r in got] == [1, 2, 3]
    assert got[2].amount == 50
    assert got[1].line == 22


def test_warnings_do_not_reject():
    (r,) = rows(doc(row(payerAccoutNumber="X", amount="1", refundType="R", flexFieldDate="mm-dd-yyyy",
                        colour="red")))
    assert r.ok
    assert sorted(i.code for i in r.issues) == ["bad_date", "unknown_element"]
    assert r.flex_field_date is None and r.flex_field_date_raw == "mm-dd-yyyy"


def test_repeated_and_aliased_fields_are_errors():
    (r,) = rows(doc(row(payerAccoutNumber="X", payerAccountNumber="Y", amount="1", refundType="R")))
    assert [(i.code, i.field) for i in r.issues] == [("repeated", "payer_account_number")]


def test_account_numbers_masked_in_issues():
    (r,) = rows(doc(row(paymentAccountNumber="4317345689007461<x/>", amount="1", refundType="D")))
    assert not r.ok and "4317345689007461" not in repr(r.issues)


def test_wrong_root_refused():
    with pytest.raises(FormatError) as info:
        rows(doc(row(amount="1"), root="payments"))
    assert info.value.issues[0].code == "bad_root"


def test_other_elements_under_root_are_warnings():
    reader = RefundReader(io.BytesIO(doc("<header>x</header>\n", row(amount="1", refundType="D"))))
    assert len(list(reader)) == 1
    assert [w.code for w in reader.warnings] == ["ignored_element"]


def test_seed_sample_typo__malformed_xml_with_line():
    broken = SEED_ROW.replace("4317345689007461</paymentAccountNumber>", "4317345689007461/paymentAccountNumber>")
    with pytest.raises(FormatError) as info:
        rows(doc(broken))
    (e,) = info.value.issues
    assert e.code == "malformed_xml" and e.line is not None and e.line >= 7 and e.columns is not None


def test_xxe_refused():
    data = (b'<?xml version="1.0"?>\n<!DOCTYPE refunds [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
            b"<refunds><refund><payerAccountNumber>&x;</payerAccountNumber><amount>1</amount>"
            b"<refundType>R</refundType></refund></refunds>")
    with pytest.raises(FormatError) as info:
        rows(data)
    assert info.value.issues[0].code == "dtd_refused"


def test_empty_batch():
    assert rows(doc()) == []
