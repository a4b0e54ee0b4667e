"""The ACH test environment (tests/ach/conftest.py) for the unit tests of the ACH jobs."""

from tests.ach.conftest import env

__all__ = ["env"]
