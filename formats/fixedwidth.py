"""Field tables for fixed-width records.

Each record module declares ``FIELDS`` as a tuple of :class:`Field` with the
1-based, inclusive positions the specification prints. The same table drives
parsing, formatting and the columns reported in errors, so they cannot drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from formats.errors import Issue, IssueCode, mask


class Kind(StrEnum):
    N = "N"  #: numeric: digits only, right-justified, zero-filled
    AN = "AN"  #: alphanumeric: left-justified, blank-filled
    ID = "ID"  #: identifier/code: like AN, but validated against a fixed set or constant


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    start: int
    end: int
    kind: Kind
    required: bool = False
    sensitive: bool = False
    const: str | None = None
    note: str = ""

    @property
    def width(self) -> int:
        return self.end - self.start + 1

    @property
    def columns(self) -> tuple[int, int]:
        return (self.start, self.end)

    @property
    def span(self) -> slice:
        """The field's columns as a 0-based slice: ``line[f.span]`` is the raw value."""
        return slice(self.start - 1, self.end)

    def cut(self, line: str) -> str:
        return line[self.start - 1:self.end]

    def shown(self, raw: str) -> str:
        return mask(raw) if self.sensitive else raw

    def issue(self, code: IssueCode, reason: str, raw: str, *, line: int | None, record: str,
              expected: str | None = None) -> Issue:
        return Issue(code=code, reason=reason, line=line, record=record, field=self.name,
                     columns=self.columns, value=self.shown(raw), expected=expected,
                     found=self.shown(raw))


class FieldOverflow(ValueError):
    """A value does not fit its field when formatting (a programming error upstream)."""


def format_field(f: Field, value: object) -> str:
    """Render one value into exactly ``f.width`` characters."""
    if f.const is not None and (value is None or value == ""):
        value = f.const
    if f.kind is Kind.N:
        if value is None or value == "":
            return "0" * f.width
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise FieldOverflow(f"{f.name}: not a number: {value!r}")
        text = str(value)
        if not text.isdigit() or not text.isascii():
            raise FieldOverflow(f"{f.name}: not a non-negative number: {value!r}")
        if len(text) > f.width:
            raise FieldOverflow(f"{f.name}: {value!r} does not fit {f.width} digits")
        return text.rjust(f.width, "0")
    text = "" if value is None else str(value)
    if len(text) > f.width:
        raise FieldOverflow(f"{f.name}: {text!r} longer than {f.width}")
    return text.ljust(f.width)


def format_record(fields: tuple[Field, ...], values: Mapping[str, object], length: int,
                  filler: str = " ") -> str:
    """Render a record from a field table; gaps between fields are ``filler``."""
    out = [filler] * length
    for f in fields:
        text = format_field(f, values.get(f.name))
        out[f.start - 1:f.end] = text
    return "".join(out)


def check_numeric(f: Field, raw: str, *, line: int | None, record: str,
                  allow_blank: bool = False) -> Issue | None:
    """A numeric field must be all ASCII digits: never read a bad number as 0."""
    if raw.isdigit() and raw.isascii():
        return None
    if allow_blank and not raw.strip():
        return None
    return f.issue(IssueCode.NON_NUMERIC, f"{f.name} must be numeric", raw, line=line, record=record,
                   expected=f"{f.width} digits")
