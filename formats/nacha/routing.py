"""ABA routing numbers: the mod-10 check digit with weights 3, 7, 1."""

from __future__ import annotations

from formats.errors import Issue, IssueCode
from formats.fixedwidth import Field

_WEIGHTS = (3, 7, 1, 3, 7, 1, 3, 7)


def check_digit(first8: str) -> str:
    """The ninth digit of a routing number whose first eight digits are given."""
    if len(first8) != 8 or not first8.isdigit() or not first8.isascii():
        raise ValueError(f"need 8 digits, got {first8!r}")
    total = sum(w * int(d) for w, d in zip(_WEIGHTS, first8, strict=True))
    return str((10 - total % 10) % 10)


def is_valid(routing: str) -> bool:
    """True for a 9-digit routing number whose check digit is right."""
    return (len(routing) == 9 and routing.isdigit() and routing.isascii()
            and check_digit(routing[:8]) == routing[8])


def check_routing_field(f: Field, raw: str, lineno: int | None, record: str, *,
                        allow_ten_digits: bool = False) -> list[Issue]:
    """Immediate destination/origin: a blank and a 9-digit routing number (10 characters).

    The origin may instead be a 10-digit company number (allow_ten_digits), which
    banks assign to originators; there is no check digit to verify then.
    """
    value = raw.strip()
    if allow_ten_digits and len(value) == 10 and value.isdigit() and value.isascii():
        return []
    if len(value) != 9 or not value.isdigit() or not value.isascii():
        return [f.issue(IssueCode.BAD_ROUTING, f"{f.name} must be a blank and a 9-digit routing number", raw,
                        line=lineno, record=record, expected=" nnnnnnnnn")]
    if not is_valid(value):
        return [f.issue(IssueCode.CHECK_DIGIT, f"{f.name} routing number check digit is wrong", raw,
                        line=lineno, record=record, expected=value[:8] + check_digit(value[:8]))]
    return []
