"""``spoolgate share``: the shipped samples by name, one line and exit 1 for a name that is not shipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.cli import main
from store import share
from tests.support import REPO


def test_listing_names_every_file_of_etc_and_systemd() -> None:
    tree = sorted(str(p.relative_to(REPO)) for folder in ("etc", "systemd") for p in (REPO / folder).rglob("*")
                  if p.is_file() and not p.name.startswith("."))
    assert share.listing() == tree


def test_share_prints_a_path_or_the_content(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["share", "ack.xsl"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path.read_bytes() == (REPO / "etc" / "ack.xsl").read_bytes()
    assert main(["share", "--cat", "systemd/spoolgate.service"]) == 0
    assert capsys.readouterr().out == (REPO / "systemd" / "spoolgate.service").read_text()


def test_unknown_or_folder_names_are_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["share", "nope.toml"]) == 1
    err = capsys.readouterr().err
    assert err == "spoolgate: no shipped file nope.toml (spoolgate share lists them)\n"
    assert main(["share", "--cat", "etc/templates"]) == 1
    assert capsys.readouterr().err == "spoolgate: etc/templates is a folder\n"
