"""The shipped sample configurations load and pass every check that does not need their machine."""

from __future__ import annotations

from daemon.validate import validate
from store.config import load
from tests.support import REPO


def test_example_config_is_valid(tmp_path):
    settings = load(REPO / "etc/spoolgate.example.toml", base_dir=str(tmp_path))
    assert validate(settings) == []


def test_production_sample_is_valid(tmp_path):
    # The sample refers to the installed checkout (/opt/spoolgate); point it at this one.
    text = (REPO / "etc/spoolgate.production.toml").read_text().replace("/opt/spoolgate", str(REPO))
    (tmp_path / "prod.toml").write_text(text)
    settings = load(tmp_path / "prod.toml")
    assert validate(settings, check_filesystem=False) == []
    assert set(settings.channels) == {"ach", "checkfree_ftp", "checkfree", "pbs", "bills", "refunds", "setups"}
