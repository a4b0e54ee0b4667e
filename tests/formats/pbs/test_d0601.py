"""0601 write → read round trips and control checks; every 0601 written here passes ``spoolgate pbs validate``."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formats.errors import FormatError
from formats.pbs.d0601 import Collection, CollectionSection, Delivery0601, read_0601
from tests.formats.pbs.helpers import write_0601


def delivery(*collections: Collection) -> Delivery0601:
    section = CollectionSection("01234567", "00001", "BILLER", dt.date(2024, 1, 2), "1234",
                                "0012345678", "Faktura januar", collections)
    return Delivery0601("12345678", "BS1", "0000000042", dt.date(2024, 1, 2), (section,))


def test_round_trip_with_address_and_text():
    d = delivery(Collection("77", "000000001", dt.date(2024, 2, 1), 15000, "INV1",
                            ("Jens Æbelø", "Vej 1"), "8000", "DK", ("linje 1", "linje 2")),
                 Collection("78", "000000002", dt.date(2024, 2, 1), -500, "INV2"))
    data = write_0601(d)
    lines = data.decode("cp1252").splitlines()
    assert [x[:5] for x in lines] == ["BS002", "BS012", "BS022", "BS022", "BS022", "BS042",
                                      "BS052", "BS052", "BS042", "BS092", "BS992"]
    assert lines[5][51:59] == "01022024"  # ddmmyyyy in 0601
    assert read_0601(io.BytesIO(data)) == d


def test_wrong_count_is_an_error():
    data = write_0601(delivery(Collection("1", "000000001", dt.date(2024, 2, 1), 100, "R")))
    lines = data.decode().splitlines()
    lines[-2] = lines[-2][:31] + "00000000005" + lines[-2][42:]
    with pytest.raises(FormatError) as info:
        read_0601(io.BytesIO("\r\n".join(lines).encode()))
    issue = info.value.issues[0]
    assert (issue.record, issue.field, issue.columns, issue.expected) == (
        "BS092/0601", "count_042", (32, 42), "1")


def test_account_number_is_masked_in_errors():
    data = write_0601(delivery()).decode().splitlines()
    data[1] = data[1][:58] + "00123X5678" + data[1][68:]
    with pytest.raises(FormatError) as info:
        read_0601(io.BytesIO("\n".join(data).encode()))
    issue = info.value.issues[0]
    assert issue.field == "account_number" and issue.value == "******5678"


def test_negative_net_amount_is_refused():
    with pytest.raises(ValueError):
        write_0601(delivery(Collection("1", "000000001", dt.date(2024, 2, 1), -1, "R")))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.builds(
    Collection,
    customer_number=st.from_regex(r"[1-9A-Z][0-9A-Z]{0,14}", fullmatch=True),
    agreement_number=st.from_regex(r"[0-9]{9}", fullmatch=True),
    due_date=st.dates(dt.date(1000, 1, 1), dt.date(9999, 12, 31)),
    amount=st.integers(0, 10**13 - 1),
    reference=st.from_regex(r"[0-9A-Z][0-9A-Z ]{0,28}[0-9A-Z]", fullmatch=True),
    name_address=st.lists(st.from_regex(r"[A-ZÆØÅa-zæøå0-9][A-Za-zæøå0-9 ]{0,33}[a-z]",
                                        fullmatch=True), max_size=5).map(tuple),
    postcode=st.one_of(st.none(), st.from_regex(r"[0-9]{4}", fullmatch=True)),
    country=st.one_of(st.none(), st.just("DK")),
    text_lines=st.lists(st.from_regex(r"[a-z][a-z ]{0,58}[a-z]", fullmatch=True),
                        max_size=3).map(tuple),
), max_size=5))
def test_property_0601_round_trip(collections):
    d = delivery(*collections)
    assert read_0601(io.BytesIO(write_0601(d))) == d
