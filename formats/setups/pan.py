"""Card-number detection: a setup file must never carry a full card number (PAN).

A PAN is a Luhn-valid run of 13-19 digits, possibly grouped by single blanks
or dashes as people type them.
"""

from __future__ import annotations

import re

_RUN = re.compile(r"(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def find_pan(text: str) -> str | None:
    """The first PAN-like run in ``text`` (digits only), or None.

    Only whole runs count: windows inside a longer run would match one time in ten."""
    for m in _RUN.finditer(text):
        digits = re.sub(r"[ -]", "", m.group(0))
        if luhn_ok(digits):
            return digits
    return None
