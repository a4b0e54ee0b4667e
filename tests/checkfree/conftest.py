"""Fixtures for the CheckFree channel tests: real gpg, a real sshd and the SFTP fault server."""

from tests.fixtures.gpg import _session_pgp_homes, gpg_keys, our_pgp, partner_pgp, pgp_home_factory
from tests.fixtures.sftp_faults import _fault_server, sftp_faults
from tests.fixtures.sshd import sshd_server

__all__ = ["_fault_server", "_session_pgp_homes", "gpg_keys", "our_pgp", "partner_pgp", "pgp_home_factory",
           "sftp_faults",
           "sshd_server"]
