"""What became of one file: the pipeline's answer, logged once and counted by the metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Outcome:
    file_id: int
    channel: str
    name: str
    state: str
    handler: str | None = None
    reason: str | None = None
    path: Path | None = None
    counts: dict[str, int] = field(default_factory=dict)
    duration_s: float = 0.0
    #: the error report's code (an ``IssueCode`` value) when the file went to error/
    code: str | None = None
