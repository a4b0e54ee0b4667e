"""Options shared by the purge jobs: days to keep and chunk size, under seed names or ours."""

from __future__ import annotations

from typing import Any

from handlers.base import unknown_options

MAX_CHUNK = 10_000


def pick(options: dict[str, Any], names: tuple[str, ...], default: Any) -> Any:
    return next((options[n] for n in names if n in options), default)


class PurgeOptions:
    """Mixin for jobs with ``older_than_days`` (seed ``Keep.*.for.x.days``) and ``chunk_size``."""

    days_names: tuple[str, ...] = ("older_than_days",)
    chunk_names: tuple[str, ...] = ("chunk_size", "purge.chunk.size")
    known: frozenset[str] = frozenset()

    options: dict[str, Any]

    @property
    def days(self) -> int:
        value = pick(self.options, self.days_names, None)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{self.days_names[0]} must be a whole number of days (0 or more), not {value!r}")
        return value

    @property
    def chunk(self) -> int:
        value = pick(self.options, self.chunk_names, 1000)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CHUNK:
            raise ValueError(f"chunk_size must be 1 to {MAX_CHUNK}, not {value!r}")
        return value

    def purge_problems(self) -> list[str]:
        allowed = set(self.days_names) | set(self.chunk_names) | set(self.known)
        problems = unknown_options(self.options, allowed)
        for prop in ("days", "chunk"):
            try:
                getattr(self, prop)
            except ValueError as exc:
                problems.append(str(exc))
        return problems
