"""Files shipped with spoolgate: the source tree's ``etc/`` and ``systemd/``, as package data.

``store/etc`` and ``store/systemd`` are links to the top-level folders, where operators
and packagers look; a wheel copies their content into the package. Everything is found
through :mod:`importlib.resources`, so a checkout and an installed copy behave the same.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

#: the shipped folders, by the name they have in the source tree
FOLDERS = ("etc", "systemd")


def files(folder: str = "etc") -> Traversable:
    if folder not in FOLDERS:
        raise KeyError(folder)
    return resources.files("store").joinpath(folder)


def listing() -> list[str]:
    """Every shipped file as ``FOLDER/RELATIVE/NAME``, sorted."""
    out: list[str] = []

    def walk(node: Traversable, prefix: str) -> None:
        for child in node.iterdir():
            name = f"{prefix}/{child.name}"
            if child.is_dir():
                walk(child, name)
            elif not child.name.startswith("."):
                out.append(name)

    for folder in FOLDERS:
        walk(files(folder), folder)
    return sorted(out)


def find(name: str) -> Traversable:
    """A shipped file or folder: ``etc/ack.xsl``, ``systemd/spoolgate.service`` or a bare ``ack.xsl``."""
    head, _, rest = name.strip("/").partition("/")
    if head in FOLDERS:
        node = files(head)
        for part in filter(None, rest.split("/")):
            node = node.joinpath(part)
        if node.is_file() or node.is_dir():
            return node
        raise FileNotFoundError(name)
    matches = [n for n in listing() if n.rsplit("/", 1)[-1] == name.strip("/")]
    if len(matches) != 1:
        raise FileNotFoundError(name if not matches else f"{name} is ambiguous: {', '.join(matches)}")
    return find(matches[0])
