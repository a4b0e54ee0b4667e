"""``spoolgate pgp import`` fills the GnuPG home (mode 0700) the channel decrypts with."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from daemon.cli import EXIT_OK, EXIT_USAGE, main
from tests.support import write_config


def test_pgp_import_and_list(tmp_path: Path, gpg_keys, capsys):
    home = Path(tempfile.mkdtemp(prefix="sgh-", dir=gpg_keys.root)) / "gnupg"
    key = tmp_path / "partner.asc"
    key.write_bytes(gpg_keys.partner.public)
    conf = write_config(tmp_path / "c.toml", {"base_dir": str(tmp_path), "pgp": {"home": str(home)}})
    assert main(["--config", str(conf), "pgp", "import", str(key)]) == EXIT_OK
    assert f"imported {gpg_keys.partner.fingerprint}" in capsys.readouterr().out
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    assert main(["--config", str(conf), "pgp", "list"]) == EXIT_OK
    assert gpg_keys.partner.fingerprint in capsys.readouterr().out
    assert main(["--config", str(conf), "pgp", "import", str(tmp_path / "missing.asc")]) == EXIT_USAGE
