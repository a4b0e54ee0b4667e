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
    """``render`` with the template compiled once (jobs that send many messages of one kind)."""
    template = _env().get_template(f"{name}.txt.j2")

    def _render(**values: Any) -> tuple[str, str]:
        subject, _, body = template.render(**values).partition("\n")
        return subject.strip(), body.lstrip("\n")

    return _render
