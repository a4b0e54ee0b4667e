"""FI-card (indbetalingskort) payment ids: modulus-10 check digit (§1.6).

Weights 2,1,2,1… from the rightmost payload digit, products of 10 or more are
digit-summed, check = (10 - sum mod 10) mod 10: the Luhn algorithm. The spec's
worked example: payload ``02684014996532`` → check digit ``8``.
"""

from __future__ import annotations

from formats.pbs.codes import SLIP_PAYMENT_ID_LENGTH


class InvalidPaymentId(ValueError):
    """A payment id that cannot be generated (bad payload or card type)."""


def check_digit(payload: str) -> str:
    if not payload or not (payload.isascii() and payload.isdigit()):
        raise InvalidPaymentId(f"payload must be digits: {payload!r}")
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def is_valid(number: str) -> bool:
    """True when the last digit is the modulus-10 check digit of the rest."""
    if len(number) < 2 or not (number.isascii() and number.isdigit()):
        return False
    return check_digit(number[:-1]) == number[-1]


def make_payment_id(payload: str | int, card_type: str = "71") -> str:
    """Right-aligned, zero-padded payment id with its check digit, as printed on the card.

    ``payload`` is typically the invoice or customer number; type 71 ids are 15
    digits, types 75/04/15 are 16 (0601 §4.6). Type 73 has no payment id.
    """
    length = SLIP_PAYMENT_ID_LENGTH.get(card_type)
    if length is None:
        raise InvalidPaymentId(f"card type {card_type!r} has no payment id")
    text = str(payload)
    if not (text.isascii() and text.isdigit()):
        raise InvalidPaymentId(f"payload must be digits: {payload!r}")
    if len(text) > length - 1:
        raise InvalidPaymentId(f"payload {text!r} longer than {length - 1} digits")
    body = text.rjust(length - 1, "0")
    return body + check_digit(body)


def is_valid_payment_id(number: str, card_type: str = "71") -> bool:
    length = SLIP_PAYMENT_ID_LENGTH.get(card_type)
    return length is not None and len(number) == length and is_valid(number)


def ocr_line(payment_id: str, fi_creditor: str, card_type: str = "71") -> str:
    """The code line ``+71<PPPPPPPPPPPPPPP +KKKKKKKK<`` printed at the bottom of the card."""
    if not is_valid_payment_id(payment_id, card_type):
        raise InvalidPaymentId(f"{payment_id!r} is not a valid type {card_type} payment id")
    if len(fi_creditor) != 8 or not fi_creditor.isdigit():
        raise InvalidPaymentId(f"FI creditor number must be 8 digits: {fi_creditor!r}")
    return f"+{card_type}<{payment_id} +{fi_creditor}<"
