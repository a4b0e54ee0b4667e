"""Secrets come from systemd credentials ($CREDENTIALS_DIRECTORY), never from the TOML in production."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy.engine import make_url

from daemon.checks import secret_problems
from daemon.cli import EXIT_CONFIG, EXIT_OK, main
from handlers.checkfree.settings import passphrase
from store.config import load
from tests.fixtures.sshd import free_port
from tests.support import REPO, DaemonProcess, NotifySocket, archive_config, wait_for, write_config

SECRET = "pa:ss/w@rd 1"


def _credentials(tmp_path: Path, **secrets: str) -> Path:
    creds = tmp_path / "credentials"
    creds.mkdir(mode=0o700)
    for name, value in secrets.items():
        (creds / name).write_text(value + "\n")
        (creds / name).chmod(0o400)
    return creds


def test_credentials_directory_fills_every_secret(tmp_path, monkeypatch):
    creds = _credentials(tmp_path, database_password=SECRET, smtp_password="smtp-" + SECRET,
                         pgp_passphrase="pgp-" + SECRET)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    cfg = archive_config(tmp_path, "postgresql://spoolgate@db.internal/spoolgate",
                         smtp={"username": "spoolgate"})
    s = load(write_config(tmp_path / "c.toml", cfg))
    url = make_url(s.database_url)
    assert (url.username, url.password, url.host) == ("spoolgate", SECRET, "db.internal")
    assert s.smtp.password == "smtp-" + SECRET
    assert passphrase(s) == "pgp-" + SECRET
    assert SECRET not in repr(s) and "w%40rd" not in repr(s) and secret_problems(s) == []


def test_production_refuses_secrets_in_the_toml(tmp_path, sqlite_url, capsys):
    cfg = archive_config(tmp_path, "postgresql://spoolgate:hunter2@127.0.0.1:1/spoolgate", production=True,
                         smtp={"username": "spoolgate", "password": "hunter2"},
                         pgp={"passphrase": "hunter2"})
    path = write_config(tmp_path / "c.toml", cfg)
    assert main(["--config", str(path), "check-config"]) == EXIT_CONFIG
    err = capsys.readouterr().err
    for key in ("database_url", "smtp.password", "pgp.passphrase"):
        assert f"spoolgate: config error: {key}: a secret in the config file" in err, err
    assert "hunter2" not in err
    assert main(["--config", str(path), "run"]) == EXIT_CONFIG  # the daemon refuses too
    capsys.readouterr()
    # outside production the same file is only a developer's convenience
    cfg.update(production=False, database_url=sqlite_url)
    write_config(path, cfg)
    assert main(["--config", str(path), "check-config"]) == EXIT_OK


def test_shipped_unit_and_production_sample_use_credentials(tmp_path):
    unit = (REPO / "systemd/spoolgate.service").read_text()
    for name in ("database_password", "smtp_password", "pgp_passphrase"):
        assert f"LoadCredential={name}:/etc/spoolgate/credentials/{name}" in unit
    text = (REPO / "etc/spoolgate.production.toml").read_text().replace("/opt/spoolgate", str(REPO))
    (tmp_path / "prod.toml").write_text(text)
    settings = load(tmp_path / "prod.toml")
    assert settings.production and secret_problems(settings) == []


class _Auth:
    def __init__(self) -> None:
        self.logins: list[tuple[str, str]] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password.decode() == SECRET)


class _Inbox:
    def __init__(self) -> None:
        self.mails: list[bytes] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.mails.append(bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def auth_smtp():
    auth, inbox = _Auth(), _Inbox()
    port = free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=auth, auth_require_tls=False)
    ctl.start()
    yield port, auth, inbox
    ctl.stop()


def test_daemon_logs_in_with_the_smtp_password_credential(tmp_path, db_url, auth_smtp):
    port, auth, inbox = auth_smtp
    creds = _credentials(tmp_path, smtp_password=SECRET)
    cfg = archive_config(tmp_path, db_url, production=True,
                         smtp={"host": "127.0.0.1", "port": port, "username": "spoolgate",
                               "alert_recipients": ["ops@example.com"]},
                         channel={"alert_on_error": True})
    path = write_config(tmp_path / "c.toml", cfg)
    assert main(["--config", str(path), "init"]) == EXIT_OK
    sock = NotifySocket(tmp_path / "n.sock")
    d = DaemonProcess(path, notify=sock, env={"CREDENTIALS_DIRECTORY": str(creds)})
    try:
        d.wait_ready()
        (tmp_path / "spool/drop/in/bad.txt").write_bytes(b"FAIL\n")
        wait_for(lambda: inbox.mails, 30, what="the alert e-mail")
    finally:
        d.terminate()
        sock.close()
    assert auth.logins and set(auth.logins) == {("spoolgate", SECRET)}
    assert SECRET not in d.log()
