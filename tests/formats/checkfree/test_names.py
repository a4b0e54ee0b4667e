from datetime import datetime

import pytest

from formats.checkfree import BAD_NAME, BadFileName, CdpName, build_name, is_cdp_name, parse_name
from formats.errors import FormatError


def test_parse_name__all_parts():
    n = parse_name("prod.acmeutil.returns.dat.20240131235900")
    assert n == CdpName("prod", "acmeutil", "returns", datetime(2024, 1, 31, 23, 59, 0))
    assert n.production and not n.pgp


@pytest.mark.parametrize("ftype", ["debit", "confirm", "transumm", "tranjrnl", "setlment", "returns"])
def test_build_parse__round_trip(ftype):
    name = build_name("test", "user_1", ftype, datetime(2023, 12, 31, 0, 0, 1))
    assert name == f"test.user_1.{ftype}.dat.20231231000001"
    assert str(parse_name(name)) == name


def test_pgp_suffix__only_when_allowed():
    name = "test.acme.debit.dat.20240131235900.pgp"
    assert parse_name(name, allow_pgp=True).pgp
    with pytest.raises(BadFileName):
        parse_name(name)


@pytest.mark.parametrize("name, detail", [
    ("CDP.acme.debit.dat.20240131235900", "system must be test or prod"),
    ("TEST.acme.debit.dat.20240131235900", "system must be test or prod"),
    ("test.acme.debits.dat.20240131235900", "type must be one of"),
    ("test.acme.setIment.dat.20240131235900", "type must be one of"),
    ("test.acme.debit.txt.20240131235900", "fourth part must be 'dat'"),
    ("test.acme.debit.dat.2024013123590", "date stamp must be 14 digits"),
    ("test.acme.debit.dat.2024013123590X", "date stamp must be 14 digits"),
    ("test.acme.debit.dat.20241331235900", "not a valid CCCCMMDDHHMMSS"),
    ("test.acme.debit.dat", "expected 5 dot-separated parts"),
    ("test..debit.dat.20240131235900", "ftp user is empty"),
    ("test.acme.debit.dat.20240131235900.pgp", "expected 5 dot-separated parts"),
    ("", "expected 5 dot-separated parts"),
])
def test_bad_names__typed_error_with_reason(name, detail):
    with pytest.raises(BadFileName) as info:
        parse_name(name)
    err = info.value
    assert isinstance(err, FormatError)
    assert err.reason == BAD_NAME == "bad CheckFree file name"
    assert detail in err.detail
    assert err.issues[0].code == "bad_file_name" and err.issues[0].value == name
    assert not is_cdp_name(name)


def test_build_name__refuses_parts_that_do_not_parse_back():
    with pytest.raises(BadFileName):
        build_name("stage", "acme", "debit", datetime(2024, 1, 1))
    with pytest.raises(BadFileName):
        build_name("test", "ac.me", "debit", datetime(2024, 1, 1))
