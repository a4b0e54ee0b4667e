import pytest

from formats.bills import AmountError, format_cents, parse_cents


@pytest.mark.parametrize("text, cents", [
    ("12.3", 1230), ("12", 1200), ("12.30", 1230), ("0.05", 5), (" 7.1 ", 710), ("-0.50", -50),
    ("9999999999999.99", 999999999999999),
])
def test_parse_cents__good(text, cents):
    assert parse_cents(text) == cents


@pytest.mark.parametrize("text", [
    "12.345", "abc", "", "   ", None, "1,000.00", "12.", ".5", "+12", "1e3", "12 .30", "١٢", "--1",
    "99999999999999",
])
def test_parse_cents__bad_is_an_error_never_zero(text):
    with pytest.raises(AmountError):
        parse_cents(text)


def test_parse_cents__negative_refused_when_asked():
    with pytest.raises(AmountError, match="negative"):
        parse_cents("-1.00", allow_negative=False)


@pytest.mark.parametrize("cents, text", [(1230, "12.30"), (5, "0.05"), (-5, "-0.05"), (0, "0.00")])
def test_format_cents__round_trip(cents, text):
    assert format_cents(cents) == text and parse_cents(text) == cents
