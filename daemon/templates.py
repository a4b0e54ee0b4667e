"""Message templates: Jinja2 files in ``etc/templates`` (operators may edit them).

The first line of a rendered template is the subject, the rest the body.
Autoescaping is off: these are plain-text e-mails, never HTML.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "etc" / "templates"


def _env() -> Environment:
    folder = Path(os.environ.get("SPOOLGATE_TEMPLATES", DEFAULT_DIR))
    return Environment(loader=FileSystemLoader([str(folder), str(DEFAULT_DIR)]), autoescape=False,
                       undefined=StrictUndefined, keep_trailing_newline=True)


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
