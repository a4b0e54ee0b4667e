"""Issue codes are one closed list whose values never change (reports, tests and operators match them)."""

from __future__ import annotations

import json
import re

from formats.errors import FormatError, Issue, IssueCode
from spool.pgp import PgpErrorCode


def test_values_are_the_strings_reports_always_carried() -> None:
    assert IssueCode.WRONG_LENGTH == "wrong_length"
    assert IssueCode.FORMAT_ERROR == "format_error"
    assert IssueCode.UNSAFE_NAME == "unsafe_name"
    assert IssueCode.REJECTED == "rejected"
    assert IssueCode.PGP_BAD_SIGNATURE == "pgp_bad_signature"
    assert IssueCode.MISSING_FILE_CONTROL == "missing_file_control"


def test_every_value_is_unique_and_snake_case_and_named_after_itself() -> None:
    assert len(IssueCode.__members__) == len(IssueCode)  # a repeated value would be a silent alias
    for name, member in IssueCode.__members__.items():
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", member.value), name
        assert name == member.value.upper()


def test_every_pgp_failure_has_its_code() -> None:
    """The CheckFree decrypt handler reports ``pgp_<PgpErrorCode>``."""
    for code in PgpErrorCode:
        assert IssueCode(f"pgp_{code}") == f"pgp_{code}"


def test_reports_carry_the_plain_string() -> None:
    err = FormatError.single(IssueCode.WRONG_LENGTH, "record is too long", line=3)
    assert err.first is not None
    assert json.loads(json.dumps(err.first.to_dict()))["code"] == "wrong_length"
    assert f"{IssueCode.WRONG_LENGTH}" == str(IssueCode.WRONG_LENGTH) == "wrong_length"


def test_a_code_read_back_from_a_report_is_the_member() -> None:
    assert IssueCode("wrong_length") is IssueCode.WRONG_LENGTH


def test_a_free_string_is_a_type_error() -> None:
    # warn_unused_ignores makes mypy fail here the day Issue accepts any str again
    issue = Issue(code="wrong_length", reason="r")  # type: ignore[arg-type]
    assert issue.code == IssueCode.WRONG_LENGTH
