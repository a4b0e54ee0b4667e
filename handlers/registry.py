"""Where handler, job and config-section names resolve to code.

Each channel package declares, in its ``__init__``, plain dicts of names to
``"module:attribute"`` strings (``HANDLERS``, ``JOBS``, ``SECTIONS``), so a
new channel plugs in without editing a shared table and nothing heavy is
imported until used. ``SPOOLGATE_HANDLER_PACKAGES`` (comma-separated module
names) adds packages declared the same way: the tests register their own
handlers through it, in the test process and in every daemon it starts.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handlers.base import Handler
    from handlers.jobs import Job
    from store.config import Settings

CHANNEL_PACKAGES: tuple[str, ...] = (
    "handlers.core",
    "handlers.ach",
    "handlers.checkfree",
    "handlers.pbs",
    "handlers.bills",
    "handlers.refunds",
    "handlers.housekeeping",
    "handlers.ar",
    "handlers.recurring",
)


#: names further packages declaring ``HANDLERS``/``JOBS``/``SECTIONS``
EXTRA_PACKAGES_ENV = "SPOOLGATE_HANDLER_PACKAGES"


def _packages() -> tuple[str, ...]:
    extra = os.environ.get(EXTRA_PACKAGES_ENV, "")
    return CHANNEL_PACKAGES + tuple(p.strip() for p in extra.split(",") if p.strip())


@cache
def _declared(kind: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pkg in _packages():
        try:
            module = importlib.import_module(pkg)
        except ModuleNotFoundError as exc:
            if exc.name != pkg:
                raise
            continue
        out.update(getattr(module, kind, {}))
    return out


def _resolve(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def known_handlers() -> dict[str, str]:
    return dict(_declared("HANDLERS"))


def job_kinds() -> dict[str, str]:
    return dict(_declared("JOBS"))


def handler_class(name: str) -> type[Handler]:
    try:
        cls: type[Handler] = _resolve(_declared("HANDLERS")[name])
    except KeyError:
        raise KeyError(f"unknown handler {name!r}") from None
    return cls


def job_class(kind: str) -> type[Job]:
    try:
        cls: type[Job] = _resolve(_declared("JOBS")[kind])
    except KeyError:
        raise KeyError(f"unknown job kind {kind!r}") from None
    return cls


def section_model(name: str) -> Any | None:
    target = _declared("SECTIONS").get(name)
    return _resolve(target) if target else None


def section(settings: Settings, name: str) -> Any:
    """The channel section parsed by its model (cached on the settings object)."""
    cache_: dict[str, Any] = settings.__dict__.setdefault("_sections", {})
    if name not in cache_:
        model = section_model(name)
        data: Mapping[str, Any] = settings.section(name)
        cache_[name] = model.model_validate(dict(data)) if model is not None else dict(data)
    return cache_[name]


def validate_sections(settings: Settings) -> list[str]:
    from pydantic import ValidationError

    problems: list[str] = []
    for name, target in _declared("SECTIONS").items():
        model = _resolve(target)
        try:
            model.model_validate(dict(settings.section(name)))
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(x) for x in first["loc"])
            problems.append(f"{name}.{loc}: {first['msg']}")
    for cname, ch in settings.channels.items():
        for i, route in enumerate(ch.routes):
            if route.handler in _declared("HANDLERS"):
                handler = handler_class(route.handler)(settings, route.options)
                problems.extend(f"channels.{cname}.routes[{i}].options: {p}" for p in handler.check_options())
    for jname, job in settings.jobs.items():
        if job.kind in _declared("JOBS"):
            problems.extend(f"jobs.{jname}.options: {p}"
                            for p in job_class(job.kind)(settings, jname, job).check_options())
    return problems
