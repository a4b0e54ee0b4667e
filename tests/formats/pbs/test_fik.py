"""FI-card payment ids: modulus 10."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formats.pbs import fik


def test_spec_worked_example():
    assert fik.check_digit("02684014996532") == "8"
    assert fik.is_valid("026840149965328")


def test_make_payment_id_lengths():
    assert fik.make_payment_id(12345) == "000000000123455"
    assert len(fik.make_payment_id("42", "75")) == 16
    assert fik.is_valid_payment_id(fik.make_payment_id("42", "75"), "75")
    assert not fik.is_valid_payment_id(fik.make_payment_id("42", "71"), "75")


@pytest.mark.parametrize("bad", [("", "71"), ("12a", "71"), ("1" * 15, "71"), ("1", "73")])
def test_make_payment_id_refuses(bad):
    with pytest.raises(fik.InvalidPaymentId):
        fik.make_payment_id(*bad)


def test_ocr_line():
    pid = fik.make_payment_id(100001)
    assert fik.ocr_line(pid, "81131945") == f"+71<{pid} +81131945<"
    with pytest.raises(fik.InvalidPaymentId):
        fik.ocr_line(pid[:-1] + str((int(pid[-1]) + 1) % 10), "81131945")


@given(st.from_regex(r"[0-9]{1,18}", fullmatch=True), st.integers(0, 17), st.integers(1, 9))
def test_property_any_single_digit_error_is_caught(payload, pos, delta):
    number = payload + fik.check_digit(payload)
    pos %= len(number)
    wrong = number[:pos] + str((int(number[pos]) + delta) % 10) + number[pos + 1:]
    assert fik.is_valid(number)
    assert not fik.is_valid(wrong)


@given(st.from_regex(r"[0-9]{2,18}", fullmatch=True))
def test_property_adjacent_swaps_are_caught_unless_09(payload):
    number = payload + fik.check_digit(payload)
    for i in range(len(number) - 1):
        a, b = number[i], number[i + 1]
        if a == b or {a, b} == {"0", "9"}:
            continue
        swapped = number[:i] + b + a + number[i + 2:]
        assert not fik.is_valid(swapped)
