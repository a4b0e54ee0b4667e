"""Message templates: Jinja2 files shipped in ``etc/templates``, package data of ``daemon``.

``$SPOOLGATE_TEMPLATES`` names a folder whose files replace the shipped ones by name
(operators edit copies there, never the installed package).

The first line of a rendered template is the subject, the rest the body.
Autoescaping is off: these are plain-text e-mails, never HTML.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined, nodes
from jinja2.exceptions import UndefinedError
from jinja2.runtime import new_context

#: where the shipped templates live inside the ``daemon`` package
PACKAGE_PATH = "etc/templates"


def _env() -> Environment:
    loaders: list[BaseLoader] = [PackageLoader("store", PACKAGE_PATH)]
    if os.environ.get("SPOOLGATE_TEMPLATES"):
        loaders.insert(0, FileSystemLoader(os.environ["SPOOLGATE_TEMPLATES"]))
    return Environment(loader=ChoiceLoader(loaders), autoescape=False,
                       undefined=StrictUndefined, keep_trailing_newline=True)


def names() -> list[str]:
    """The shipped templates, by the name :func:`render` takes."""
    return sorted(n.removesuffix(".txt.j2") for n in PackageLoader("store", PACKAGE_PATH).list_templates()
                  if n.endswith(".txt.j2"))


def render(name: str, **values: Any) -> tuple[str, str]:
    text = _env().get_template(f"{name}.txt.j2").render(**values)
    subject, _, body = text.partition("\n")
    return subject.strip(), body.lstrip("\n")


def renderer(name: str) -> Callable[..., tuple[str, str]]:
    """``render`` with the template compiled once (jobs that send many messages of one kind).

    A template of text and plain ``{{ name }}`` outputs only (the shipped ones) renders as a join
    of its parts, a third of Jinja's cost per message (a million per recurring-payments run);
    anything else goes through what ``Template.render`` does, with the globals flattened once
    (``render`` merges the chained globals into every call's context)."""
    template = _env().get_template(f"{name}.txt.j2")
    env, flat = template.environment, dict(template.globals)
    parts = _flat_parts(env, env.loader.get_source(env, f"{name}.txt.j2")[0]) if env.loader else None
    if parts is not None:
        return _join_renderer(parts, flat)

    def _render(**values: Any) -> tuple[str, str]:
        ctx = new_context(env, template.name, template.blocks, {**flat, **values}, True, flat, None)
        try:
            text = env.concat(template.root_render_func(ctx))
        except Exception:
            env.handle_exception()
        return _split(text)

    return _render


def flat_template(name: str) -> tuple[list[tuple[bool, str]], dict[str, Any]] | None:
    """A template of text and plain ``{{ name }}`` outputs only, as its parts (is a name, text or name)
    and its globals; None for anything else. What renders as ``str`` of each value joined, so a caller
    may join the parts elsewhere (``handlers.recurring.setbased`` does it in SQL)."""
    template = _env().get_template(f"{name}.txt.j2")
    env = template.environment
    parts = _flat_parts(env, env.loader.get_source(env, f"{name}.txt.j2")[0]) if env.loader else None
    return None if parts is None else (parts, dict(template.globals))


def _split(text: str) -> tuple[str, str]:
    subject, _, body = text.partition("\n")
    return subject.strip(), body.lstrip("\n")


def _flat_parts(env: Environment, source: str) -> list[tuple[bool, str]] | None:
    """(is a name, text or name) for each part, or None if the template has anything but text and names."""
    parts: list[tuple[bool, str]] = []
    for stmt in env.parse(source).body:
        if not isinstance(stmt, nodes.Output):
            return None
        for n in stmt.nodes:
            if isinstance(n, nodes.TemplateData):
                parts.append((False, n.data))
            elif isinstance(n, nodes.Name) and n.ctx == "load":
                parts.append((True, n.name))
            else:
                return None
    return parts


def _join_renderer(parts: list[tuple[bool, str]], globals_: dict[str, Any]) -> Callable[..., tuple[str, str]]:
    """What Jinja renders for text and names without autoescape: ``str`` of each value in turn."""

    def _render(**values: Any) -> tuple[str, str]:
        out = []
        for is_name, p in parts:
            if not is_name:
                out.append(p)
            elif p in values:
                out.append(str(values[p]))
            elif p in globals_:
                out.append(str(globals_[p]))
            else:
                raise UndefinedError(f"{p!r} is undefined")
        return _split("".join(out))

    return _render
