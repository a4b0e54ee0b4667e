"""CDP record layouts loaded from a TOML data file, not from code.

CheckFree's record specification is not public, so every position lives in a
layout file (``layout_standin.toml`` ships with the package). The real
specification replaces it by pointing :func:`load_layout` at another file; the
code only relies on the logical field names listed in ``REQUIRED_NAMES``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from formats.fixedwidth import Field, Kind

STANDIN_LAYOUT = "layout_standin.toml"

FILE_TYPES: tuple[str, ...] = ("debit", "confirm", "transumm", "tranjrnl", "setlment", "returns")
INBOUND_TYPES: tuple[str, ...] = FILE_TYPES[1:]


class Role(StrEnum):
    HEADER = "header"
    BATCH = "batch"
    DETAIL = "detail"
    TRAILER = "trailer"


class FieldType(StrEnum):
    N = "N"
    X = "X"
    AMOUNT = "amount"
    DATE = "date"
    DATETIME = "datetime"


#: logical names the code reads; a replacement layout must provide them
REQUIRED_NAMES: Mapping[Role, frozenset[str]] = {
    Role.HEADER: frozenset({"record_type", "file_type", "system", "ftp_user", "created", "file_seq",
                            "client_id", "sender_id"}),
    Role.BATCH: frozenset({"record_type", "batch_no", "effective_date"}),
    Role.DETAIL: frozenset({"record_type", "transaction_id", "amount"}),
    Role.TRAILER: frozenset({"record_type", "record_count", "detail_count", "total_amount"}),
}
#: extra names per (role, file type)
REQUIRED_BY_TYPE: Mapping[tuple[Role, str], frozenset[str]] = {
    (Role.BATCH, "debit"): frozenset({"payee_number", "payee_short_name", "payee_name", "payee_address",
                                      "payee_city", "payee_state", "payee_zip"}),
    (Role.BATCH, "transumm"): frozenset({"summary_count", "summary_amount", "summary_status"}),
    (Role.DETAIL, "debit"): frozenset({"account_number", "reference", "payment_date", "routing_number",
                                       "bank_account", "account_type", "payer_name", "action_code"}),
    **{(Role.DETAIL, t): frozenset({"status", "reason_code", "confirmation_no", "status_date"})
       for t in INBOUND_TYPES},
    (Role.DETAIL, "returns"): frozenset({"status", "reason_code", "confirmation_no", "status_date",
                                         "corrected_data"}),
}
#: status meanings the readers interpret, per inbound type
REQUIRED_STATUS: Mapping[str, frozenset[str]] = {
    "confirm": frozenset({"accepted", "rejected"}),
    "tranjrnl": frozenset({"accepted", "error"}),
    "returns": frozenset({"return", "noc"}),
    "setlment": frozenset({"settled"}),
}


class LayoutError(ValueError):
    """The layout file itself is wrong: a configuration error, not a bad payment file."""


@dataclass(frozen=True, slots=True)
class RecordLayout:
    """One record kind for some file types: the field table plus the extras a Field lacks."""

    role: Role
    code: str
    types: frozenset[str]
    fields: tuple[Field, ...]
    field_types: Mapping[str, FieldType]
    values: Mapping[str, frozenset[str]] = field(default_factory=dict)
    truncate: frozenset[str] = frozenset()
    checks: Mapping[str, str] = field(default_factory=dict)

    def by_name(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)


@dataclass(frozen=True, slots=True)
class Layout:
    name: str
    record_length: int
    record_type: tuple[int, int]
    codes: Mapping[Role, str]
    file_type_codes: Mapping[str, str]
    records: tuple[RecordLayout, ...]
    status: Mapping[str, Mapping[str, frozenset[str]]]
    reasons: Mapping[str, str]
    source: str

    def record(self, role: Role, file_type: str | None) -> RecordLayout:
        """The table for ``role`` in ``file_type``; the ``*`` entry when none is specific."""
        fallback = None
        for rl in self.records:
            if rl.role is not role:
                continue
            if file_type is not None and file_type in rl.types:
                return rl
            if "*" in rl.types:
                fallback = rl
        if fallback is None:
            raise LayoutError(f"{self.source}: no {role} record for file type {file_type}")
        return fallback

    def role_of(self, code: str) -> Role | None:
        return next((r for r, c in self.codes.items() if c == code), None)

    def file_type_of(self, header_value: str) -> str | None:
        return next((t for t, v in self.file_type_codes.items() if v == header_value), None)

    def status_meaning(self, file_type: str, code: str) -> str | None:
        for meaning, codes in self.status.get(file_type, {}).items():
            if code in codes:
                return meaning
        return None


def load_layout(path: str | Path | None = None) -> Layout:
    """Load and check a layout file; ``None`` loads the shipped stand-in."""
    if path is None:
        ref = resources.files(__package__).joinpath(STANDIN_LAYOUT)
        text, source = ref.read_text(encoding="utf-8"), f"{__package__}/{STANDIN_LAYOUT}"
    else:
        try:
            text, source = Path(path).read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise LayoutError(f"{path}: cannot read layout: {exc.strerror}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LayoutError(f"{source}: not valid TOML: {exc}") from exc
    return _build(data, source)


_DEFAULT: Layout | None = None


def default_layout() -> Layout:
    """The shipped stand-in, loaded once."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_layout()
    return _DEFAULT


def _need(data: Mapping[str, Any], key: str, kind: type, source: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise LayoutError(f"{source}: {key!r} missing or not a {kind.__name__}")
    return value


def _build(data: Mapping[str, Any], source: str) -> Layout:
    reclen = _need(data, "record_length", int, source)
    rt = _need(data, "record_type", dict, source)
    rt_start = _need(rt, "start", int, source)
    rt_cols = (rt_start, rt_start + _need(rt, "len", int, source) - 1)
    roles = _need(data, "roles", dict, source)
    codes: dict[Role, str] = {}
    for role in Role:
        code = roles.get(role.value)
        width = rt_cols[1] - rt_cols[0] + 1
        if not isinstance(code, str) or len(code) != width:
            raise LayoutError(f"{source}: roles.{role.value} must be a {width}-character code")
        codes[role] = code
    ftypes = _need(data, "file_types", dict, source)
    missing_types = set(FILE_TYPES) - set(ftypes)
    if missing_types:
        raise LayoutError(f"{source}: file_types lacks {sorted(missing_types)}")
    status = {t: {m: frozenset(v) for m, v in _need(data, "status", dict, source).get(t, {}).items()}
              for t in INBOUND_TYPES}
    for t, meanings in REQUIRED_STATUS.items():
        lacking = meanings - set(status[t])
        if lacking:
            raise LayoutError(f"{source}: status.{t} lacks {sorted(lacking)}")
    reasons = {str(k): str(v) for k, v in data.get("reasons", {}).items()}
    records = tuple(_record(i, r, reclen, rt_cols, codes, source)
                    for i, r in enumerate(_need(data, "record", list, source)))
    layout = Layout(name=str(data.get("name", source)), record_length=reclen, record_type=rt_cols,
                    codes=codes, file_type_codes={t: str(ftypes[t]) for t in FILE_TYPES},
                    records=records, status=status, reasons=reasons, source=source)
    for role in Role:
        for ftype in FILE_TYPES:
            rl = layout.record(role, ftype)
            lacking = (REQUIRED_NAMES[role] | REQUIRED_BY_TYPE.get((role, ftype), frozenset())) - rl.names
            if lacking:
                raise LayoutError(f"{source}: {role} record for {ftype} lacks fields {sorted(lacking)}")
    return layout


def _record(index: int, r: Mapping[str, Any], reclen: int, rt_cols: tuple[int, int],
            codes: Mapping[Role, str], source: str) -> RecordLayout:
    where = f"{source}: record[{index}]"
    try:
        role = Role(str(r.get("role")))
    except ValueError:
        raise LayoutError(f"{where}: role must be one of {[x.value for x in Role]}") from None
    types = frozenset(_need(r, "types", list, where))
    unknown = types - set(FILE_TYPES) - {"*"}
    if unknown:
        raise LayoutError(f"{where}: unknown file types {sorted(unknown)}")
    fields: list[Field] = []
    ftypes: dict[str, FieldType] = {}
    values: dict[str, frozenset[str]] = {}
    truncate: set[str] = set()
    checks: dict[str, str] = {}
    used = [""] * (reclen + 1)
    for spec in _need(r, "fields", list, where):
        name = _need(spec, "name", str, where)
        start = _need(spec, "start", int, f"{where} {name}")
        end = start + _need(spec, "len", int, f"{where} {name}") - 1
        if start < 1 or end > reclen or end < start:
            raise LayoutError(f"{where} {name}: columns {start}-{end} outside 1-{reclen}")
        for col in range(start, end + 1):
            if used[col]:
                raise LayoutError(f"{where} {name}: column {col} already used by {used[col]}")
            used[col] = name
        try:
            ftype = FieldType(spec.get("type"))
        except ValueError:
            raise LayoutError(f"{where} {name}: type must be one of {[x.value for x in FieldType]}") from None
        const = spec.get("const")
        allowed = spec.get("values")
        kind = Kind.AN if ftype is FieldType.X else Kind.N
        if const is not None or allowed is not None:
            kind = Kind.ID
        fields.append(Field(name, start, end, kind, required=bool(spec.get("required", False)),
                            sensitive=bool(spec.get("sensitive", False)),
                            const=None if const is None else str(const)))
        ftypes[name] = ftype
        if allowed is not None:
            values[name] = frozenset(str(v) for v in allowed)
        if spec.get("truncate"):
            truncate.add(name)
        if "check" in spec:
            if spec["check"] != "aba":
                raise LayoutError(f"{where} {name}: unknown check {spec['check']!r}")
            checks[name] = "aba"
    rt_field = next((f for f in fields if f.name == "record_type"), None)
    if rt_field is None or rt_field.columns != rt_cols or rt_field.const != codes[role]:
        raise LayoutError(f"{where}: record_type must sit at {rt_cols} with const {codes[role]!r}")
    return RecordLayout(role=role, code=codes[role], types=types, fields=tuple(fields), field_types=ftypes,
                        values=values, truncate=frozenset(truncate), checks=checks)
