"""Fixtures for the transport stage tests: real gpg, sshd, SMTP and fault servers."""

from tests.fixtures.gpg import _session_pgp_homes, gpg_keys, our_pgp, partner_pgp, pgp_home_factory
from tests.fixtures.sftp_faults import _fault_server, sftp_faults
from tests.fixtures.smtp import _smtp_sink, smtp_server
from tests.fixtures.sshd import sshd_server
from tests.fixtures.tcpproxy import tcp_proxy

__all__ = ["_fault_server", "_session_pgp_homes", "_smtp_sink", "gpg_keys", "our_pgp", "partner_pgp",
           "pgp_home_factory",
           "sftp_faults", "smtp_server", "sshd_server", "tcp_proxy"]
