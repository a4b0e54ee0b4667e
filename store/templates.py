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

from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined
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

    What ``Template.render`` does, with the globals flattened once: ``render`` merges the
    template's chained globals into every call's context, which costs four times the
    rendering of a short e-mail (a million of them in one recurring-payments run)."""
    template = _env().get_template(f"{name}.txt.j2")
    env, flat = template.environment, dict(template.globals)

    def _render(**values: Any) -> tuple[str, str]:
        ctx = new_context(env, template.name, template.blocks, {**flat, **values}, True, flat, None)
        try:
            text = env.concat(template.root_render_func(ctx))
        except Exception:
            env.handle_exception()
        subject, _, body = text.partition("\n")
        return subject.strip(), body.lstrip("\n")

    return _render
