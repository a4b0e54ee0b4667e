"""Machinery shared by the record modules: one field table drives parse, format and errors.

Each record module declares ``FIELDS`` (1-based, inclusive positions as NACHA prints
them), a frozen dataclass whose attribute names are the field names, and calls the
helpers here. Reserved and constant fields are in the table but not in the dataclass:
formatting fills them from ``Field.const`` or blanks.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import fields as dc_fields
from typing import Any, TypeVar

from formats.errors import FormatError, Issue, IssueCode
from formats.fixedwidth import Field, Kind, format_record

RECORD_LENGTH = 94

#: printable ASCII: NACHA's alphanumeric character set
_PRINTABLE = re.compile(r"[ -~]*\Z")
_UPPER_ALNUM = re.compile(r"[A-Z0-9]\Z")

T = TypeVar("T")


def field_issues(fields: tuple[Field, ...], line: str, *, lineno: int | None, record: str,
                 allow_special_characters: bool = False) -> list[Issue]:
    """Field-level checks from the table alone: constants, digits, charset, mandatory fields.

    A numeric field that is not all digits is always an error (never read as 0);
    a numeric field that is not ``required`` may be all blanks.
    """
    issues: list[Issue] = []
    if not allow_special_characters and _str_pattern(fields).fullmatch(line):
        # every digit and charset rule holds (checked in C); only mandatory text fields remain
        for f in fields:
            if f.required and f.kind is not Kind.N and f.const is None and not line[f.start - 1:f.end].strip():
                raw = line[f.start - 1:f.end]
                issues.append(f.issue(IssueCode.MISSING, f"{f.name} is mandatory", raw, line=lineno,
                                      record=record, expected="non-blank"))
        return issues
    for f in fields:
        raw = line[f.start - 1:f.end]
        if f.const is not None:
            if raw != f.const:
                issues.append(f.issue(IssueCode.BAD_CONSTANT, f"{f.name} must be {f.const!r}", raw,
                                      line=lineno, record=record, expected=f.const))
            continue
        if f.kind is Kind.N:
            if raw.isdigit() and raw.isascii():
                continue
            if not f.required and not raw.strip():
                continue
            issues.append(f.issue(IssueCode.NON_NUMERIC, f"{f.name} must be numeric", raw, line=lineno,
                                  record=record, expected=f"{f.width} digits"))
            continue
        if not allow_special_characters and not _PRINTABLE.match(raw):
            issues.append(f.issue(IssueCode.BAD_CHARSET, f"{f.name} contains characters outside the "
                                  "NACHA alphanumeric set", raw, line=lineno, record=record,
                                  expected="printable ASCII"))
            continue
        if f.required and not raw.strip():
            issues.append(f.issue(IssueCode.MISSING, f"{f.name} is mandatory", raw, line=lineno,
                                  record=record, expected="non-blank"))
    return issues


_STR_PATTERNS: dict[int, re.Pattern[str]] = {}
_PLANS: dict[type, tuple[tuple[str, int, int, int], ...]] = {}


def _str_pattern(fields: tuple[Field, ...]) -> re.Pattern[str]:
    """The str twin of :func:`digits_pattern`; keyed by identity (tables are module constants)."""
    pat = _STR_PATTERNS.get(id(fields))
    if pat is None:
        pat = re.compile(digits_pattern(fields, type_code=fields[0].const or "").pattern.decode()[:-3])
        _STR_PATTERNS[id(fields)] = pat
    return pat


def _plan(cls: type, fields: tuple[Field, ...], int_fields: frozenset[str]) -> tuple[tuple[str, int, int, int], ...]:
    plan = _PLANS.get(cls)
    if plan is None:
        by_name = {f.name: f for f in fields}
        plan = tuple((dcf.name, by_name[dcf.name].start - 1, by_name[dcf.name].end,
                      0 if dcf.name in int_fields else (1 if by_name[dcf.name].kind is Kind.N else 2))
                     for dcf in dc_fields(cls))
        _PLANS[cls] = plan
    return plan


def build(cls: type[T], fields: tuple[Field, ...], line: str, int_fields: frozenset[str]) -> T:
    """Typed record from a line whose fields already passed :func:`field_issues`.

    Alphanumeric values keep leading blanks (the immediate destination's leading
    blank is significant) and lose trailing ones, so formatting restores the line.
    """
    return builder(cls, fields, int_fields)(line)


_BUILDERS: dict[type, Callable[[str], Any]] = {}


def builder(cls: type[T], fields: tuple[Field, ...], int_fields: frozenset[str]) -> Callable[[str], T]:
    """:func:`build` for one class, looked up once: what a loop over a million records calls."""
    fn = _BUILDERS.get(cls)
    if fn is None:
        fn = _BUILDERS[cls] = _compile(cls, _plan(cls, fields, int_fields))
    return fn


def _compile(cls: type, plan: tuple[tuple[str, int, int, int], ...]) -> Callable[[str], Any]:
    """A builder of lazy records of ``cls``: the record keeps its line, a field is sliced and converted
    when it is read.

    Reading a million records is dominated by building them, and most consumers read a few
    fields of each, so the work moves to the reads (each a slice and a conversion generated
    from the field table). The lazy class is a subclass that compares, hashes, prints and
    pickles as ``cls`` with the same values (``build`` of any line equals ``cls(**fields)``), and
    ``dataclasses.replace`` of it is a ``cls``.
    """
    lazy = _LAZY.get(cls)
    if lazy is None:
        lazy = _LAZY[cls] = _lazy_class(cls, plan)
    new = object.__new__
    set_line = lazy.__dict__["_line"].__set__

    def build(line: str) -> Any:
        o: Any = new(lazy)
        set_line(o, line)
        return o

    return build


_LAZY: dict[type, type] = {}


def _lazy_class(cls: type, plan: tuple[tuple[str, int, int, int], ...]) -> type:
    env: dict[str, Any] = {}
    properties: dict[str, property] = {}
    for name, start, end, mode in plan:
        raw = f"self._line[{start}:{end}]"
        if mode == 0:
            body = f"r = {raw}\n return int(r) if r.strip() else 0"
        elif mode == 1:
            body = f"r = {raw}\n return r.strip() and r"
        else:
            body = f"return {raw}.rstrip()"
        exec(f"def {name}(self):\n {body}\n", env)  # source generated from the field table only
        properties[name] = property(env[name])
    return lazy_subclass(cls, ("_line",), properties)


def lazy_subclass(cls: type, slots: tuple[str, ...], properties: Mapping[str, property]) -> type:
    """A subclass of the frozen slotted dataclass ``cls`` whose fields are ``properties`` computed from
    ``slots``. It compares, hashes, prints and pickles as ``cls`` with the same values, and
    ``dataclasses.replace`` of it (or ``type(obj)(...)``) builds a ``cls``."""
    names = [f.name for f in dc_fields(cls)]
    compared = operator.attrgetter(*[f.name for f in dc_fields(cls) if f.compare])

    def __eq__(self: Any, other: object) -> bool:
        if isinstance(other, cls):
            return bool(compared(self) == compared(other))
        return NotImplemented

    def __reduce__(self: Any) -> tuple[type, tuple[Any, ...]]:
        return cls, tuple(getattr(self, name) for name in names)

    def __new__(_lazy: type, *args: Any, **kwargs: Any) -> Any:
        return cls(*args, **kwargs)

    ns: dict[str, Any] = {"__slots__": slots, "__qualname__": cls.__qualname__, "__module__": cls.__module__,
                          "__doc__": cls.__doc__, "__eq__": __eq__, "__hash__": cls.__hash__,
                          "__reduce__": __reduce__, "__new__": __new__, **properties}
    return type(cls.__name__, (cls,), ns)


def render(fields: tuple[Field, ...], rec: object) -> str:
    """Exactly 94 characters from a typed record (the field table decides positions)."""
    values: Mapping[str, object] = {f.name: getattr(rec, f.name) for f in fields
                                    if hasattr(rec, f.name)}
    line = format_record(fields, values, RECORD_LENGTH)
    for f in fields:
        if f.kind is Kind.N and not f.required and values.get(f.name) == "":
            line = line[:f.start - 1] + " " * f.width + line[f.end:]
    return line


def parse_record(cls: type[T], fields: tuple[Field, ...], line: str, int_fields: frozenset[str], *,
                 lineno: int | None, record: str, allow_special_characters: bool = False) -> T:
    """Strict parse of one record: raises :class:`FormatError` with every field issue."""
    if len(line) != RECORD_LENGTH:
        issue = Issue(code=IssueCode.RECORD_LENGTH, reason=f"{record} must be {RECORD_LENGTH} characters",
                      line=lineno, record=record, columns=(1, RECORD_LENGTH),
                      expected=str(RECORD_LENGTH), found=str(len(line)))
        raise FormatError(str(issue), [issue])
    issues = field_issues(fields, line, lineno=lineno, record=record,
                          allow_special_characters=allow_special_characters)
    if issues:
        raise FormatError(f"{record} is invalid: {issues[0]}", issues)
    return build(cls, fields, line, int_fields)


def field(fields: tuple[Field, ...], name: str) -> Field:
    for f in fields:
        if f.name == name:
            return f
    raise KeyError(name)


def is_upper_alnum(ch: str) -> bool:
    return bool(_UPPER_ALNUM.match(ch))


def digits_pattern(fields: tuple[Field, ...], *, type_code: str) -> re.Pattern[bytes]:
    """One bytes regex per record type that slices every field and checks digits in C.

    Numeric fields must be digits (``required=False`` ones may be blank), others must
    be printable ASCII; constants must match. The hot path of the validator uses this
    instead of a Python loop over fields; a non-match falls back to
    :func:`field_issues`, which says exactly which field is wrong.
    """
    parts: list[str] = []
    pos = 1
    for f in fields:
        if f.start != pos:
            raise ValueError(f"gap before {f.name}")
        if f.const is not None:
            parts.append(re.escape(f.const))
        elif f.kind is Kind.N:
            d = f"[0-9]{{{f.width}}}"
            parts.append(f"({d})" if f.required else f"({d}| {{{f.width}}})")
        else:
            parts.append(f"([ -~]{{{f.width}}})")
        pos = f.end + 1
    if pos != RECORD_LENGTH + 1:
        raise ValueError("table does not cover 94 columns")
    if not parts[0].startswith(re.escape(type_code)):
        raise ValueError("first field must be the record type constant")
    return re.compile(("".join(parts) + r"\r?").encode("ascii"))
