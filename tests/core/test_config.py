"""``check-config``: the start-up checks from the command line, exit 78 with one line per problem.

The settings model's tests are in ``tests/store/test_config.py``, the checks' in
``tests/daemon/test_validate.py``."""

from __future__ import annotations

from daemon.cli import EXIT_CONFIG, main
from tests.support import archive_config, write_config


def test_check_config_command_exit_code(tmp_path, capsys):
    cfg = archive_config(tmp_path, f"sqlite:///{tmp_path}/x.db")
    cfg["channels"]["drop"]["routes"] = [{"pattern": "*", "handler": "nope"}]
    path = write_config(tmp_path / "c.toml", cfg)
    assert main(["--config", str(path), "check-config"]) == EXIT_CONFIG
    assert "unknown handler 'nope'" in capsys.readouterr().err
    assert main(["--config", str(tmp_path / "missing.toml"), "check-config"]) == EXIT_CONFIG
