"""Decimal amount strings in XML <-> integer cents, strictly.

``12.3`` is 1230 and ``12`` is 1200; ``12.345``, ``1,000.00``, ``abc`` or an
empty element are errors, never 0 and never rounded. The pattern is the one the
XSD declares, so the schema and the parser accept the same strings.
"""

from __future__ import annotations

import re

#: as ``Amount`` in bills.xsd (after xs:token whitespace collapsing)
AMOUNT_PATTERN = r"-?[0-9]{1,13}(\.[0-9]{1,2})?"
_AMOUNT = re.compile(r"^(-?)([0-9]{1,13})(?:\.([0-9]{1,2}))?$")


class AmountError(ValueError):
    """Why a string is not an amount (the text goes into the issue)."""


def parse_cents(text: str | None, *, allow_negative: bool = True) -> int:
    if text is None or not text.strip():
        raise AmountError("amount is empty")
    m = _AMOUNT.match(text.strip())
    if m is None or not text.strip().isascii():
        raise AmountError("not a decimal amount with at most 2 decimals (e.g. 12.30)")
    sign, units, frac = m.groups()
    cents = int(units) * 100 + int((frac or "0").ljust(2, "0"))
    if sign:
        if not allow_negative:
            raise AmountError("amount must not be negative")
        cents = -cents
    return cents


def format_cents(cents: int) -> str:
    """1230 -> ``12.30``; -5 -> ``-0.05``."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"cents must be an int, not {type(cents).__name__}")
    sign = "-" if cents < 0 else ""
    units, frac = divmod(abs(cents), 100)
    return f"{sign}{units}.{frac:02d}"
