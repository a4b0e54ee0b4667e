"""``userEmail``: the user's notification addresses in the bill file, checked like the XSD checks them."""

from __future__ import annotations

import io

import pytest
from lxml import etree

from formats.bills import BillReader

from .helpers import bill, bills_bytes, one_bill, schema


def _with(*elements: str, user: str | None = "u1") -> bytes:
    extra = "".join(f"  {e}\n" for e in elements)
    if user is not None:
        extra = f"  <userId>{user}</userId>\n" + extra
    return one_bill().replace(b"  <payerName>", extra.encode() + b"  <payerName>")


def test_addresses_round_trip_and_are_valid_against_the_xsd() -> None:
    bills = [bill(1, user_emails=("jane@example.com", "jane.doe@work.example.org")), bill(2)]
    data = bills_bytes(bills)
    r = BillReader(io.BytesIO(data))
    assert list(r) == bills and not r.issues.issues
    assert schema().validate(etree.fromstring(data)), schema().error_log


@pytest.mark.parametrize(("elements", "user", "code"), [
    (("<userEmail>not-an-address</userEmail>",), "u1", "bad_email"),
    (("<userEmail>a@b.example, c@d.example</userEmail>",), "u1", "bad_email"),
    (tuple(f"<userEmail>u{n}@example.com</userEmail>" for n in range(6)), "u1", "unexpected_element"),
])
def test_bad_addresses_are_refused_by_reader_and_xsd(elements: tuple[str, ...], user: str, code: str) -> None:
    data = _with(*elements, user=user)
    r = BillReader(io.BytesIO(data))
    assert list(r) == []
    [e] = r.issues.errors
    assert (e.code, e.field, e.record) == (code, "userEmail", "bill B1") and e.line is not None
    assert not schema().validate(etree.fromstring(data))


def test_an_address_needs_a_user() -> None:
    r = BillReader(io.BytesIO(_with("<userEmail>jane@example.com</userEmail>", user=None)))
    assert list(r) == []
    assert [(e.code, e.field) for e in r.issues.errors] == [("email_without_user", "userEmail")]
