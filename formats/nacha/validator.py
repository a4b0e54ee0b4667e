"""Validate a whole file in one streaming pass, without building records.

This is what ``spoolgate ach validate`` runs: memory stays flat however many
entries the file has, and every issue is collected (up to ``max_errors`` kept,
all counted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO

from formats.errors import Issue
from formats.nacha.policy import DEFAULT, ValidationPolicy
from formats.nacha.reader import AchReader, Summary


@dataclass(frozen=True, slots=True)
class ValidationReport:
    summary: Summary
    errors: tuple[Issue, ...]
    warnings: tuple[Issue, ...]
    error_count: int

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``spoolgate ach validate --json``."""
        s = self.summary

        def short(i: Issue) -> dict[str, Any]:
            return {"line": i.line, "record": i.record, "field": i.field,
                    "columns": list(i.columns) if i.columns else None, "reason": i.reason,
                    "value": i.value}

        return {"ok": self.ok, "batches": s.batches, "entries": s.entries, "addenda": s.addenda,
                "debit_total": s.debit_total, "credit_total": s.credit_total, "returns": s.returns,
                "nocs": s.nocs, "warnings": [short(w) for w in self.warnings],
                "errors": [short(e) for e in self.errors]}


def validate(stream: BinaryIO, policy: ValidationPolicy = DEFAULT, *, max_errors: int = 1000
             ) -> ValidationReport:
    reader = AchReader(stream, policy, typed=False, max_errors=max_errors).validate()
    return ValidationReport(reader.summary, tuple(reader.errors), tuple(reader.warnings), reader.error_count)
