"""Fixtures for the test servers' own tests (SMTP sink, TCP proxy). The PGP and SFTP stage tests
live beside their modules in tests/spool/pgp and tests/spool/sftp."""

from tests.fixtures.smtp import _smtp_sink, smtp_server
from tests.fixtures.tcpproxy import tcp_proxy

__all__ = ["_smtp_sink", "smtp_server", "tcp_proxy"]
