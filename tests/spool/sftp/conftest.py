"""Fixtures for the SFTP stage tests: a real sshd and a programmable fault-injecting SFTP server."""

from tests.fixtures.sftp_faults import _fault_server, sftp_faults
from tests.fixtures.sshd import sshd_server

__all__ = ["_fault_server", "sftp_faults", "sshd_server"]
