"""Fixtures for the PGP stage tests: real gpg homes and keys."""

from tests.fixtures.gpg import _session_pgp_homes, gpg_keys, our_pgp, partner_pgp, pgp_home_factory

__all__ = ["_session_pgp_homes", "gpg_keys", "our_pgp", "partner_pgp", "pgp_home_factory"]
