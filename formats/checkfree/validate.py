"""One validation report per file, shaped for ``spoolgate cdp validate --json``."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import IO, Any

from formats.checkfree.layout import Layout, default_layout
from formats.checkfree.names import BadFileName, CdpName, parse_name
from formats.checkfree.reader import read_file
from formats.errors import Issue, Severity


@dataclass
class Report:
    ok: bool
    file_type: str | None
    records: int
    counts: dict[str, int]
    totals: dict[str, int | None]
    client_id: str | None
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "type": self.file_type, "records": self.records, "counts": self.counts,
                "totals": self.totals, "client_id": self.client_id,
                "warnings": [_issue(i) for i in self.warnings], "errors": [_issue(i) for i in self.errors]}


def _issue(i: Issue) -> dict[str, Any]:
    return {"line": i.line, "record": i.record, "field": i.field,
            "columns": list(i.columns) if i.columns else None, "reason": i.reason, "value": i.value,
            "code": i.code, "expected": i.expected, "found": i.found}


def validate(stream: IO[bytes], *, name: str | None = None, layout: Layout | None = None,
             expected_type: str | None = None) -> Report:
    """Read and check a file. A name that breaks the CheckFree rule is a warning here
    (the file may have been renamed for inspection); the router rejects it outright."""
    layout = layout or default_layout()
    cdp_name: CdpName | None = None
    name_issue: Issue | None = None
    if name is not None:
        try:
            cdp_name = parse_name(name, allow_pgp=False)
        except BadFileName as exc:
            first = exc.issues[0]
            name_issue = replace(first, severity=Severity.WARNING)
    f = read_file(stream, layout=layout, expected_type=expected_type, expected_name=cdp_name)
    warnings = ([name_issue] if name_issue else []) + f.issues.warnings
    errors = f.issues.errors
    counts = {role.value: f.counts.get(code, 0) for role, code in layout.codes.items()}
    totals: dict[str, int | None] = {"amount": f.total_amount,
                                     "trailer_amount": f.trailer.total_amount if f.trailer else None,
                                     "trailer_records": f.trailer.record_count if f.trailer else None,
                                     "trailer_details": f.trailer.detail_count if f.trailer else None}
    return Report(ok=not errors, file_type=f.file_type, records=f.records, counts=counts, totals=totals,
                  client_id=f.client_id, errors=errors, warnings=warnings)
