from __future__ import annotations

import dataclasses

import pytest

from formats.errors import FormatError
from formats.nacha import PRESETS, ValidationPolicy


def test_from_mapping_is_strict() -> None:
    p = ValidationPolicy.from_mapping({"custom_return_codes": True})
    assert p.custom_return_codes and p.relaxations() == ("custom_return_codes",)
    with pytest.raises(FormatError) as exc:
        ValidationPolicy.from_mapping({"allow_everything": True})
    assert exc.value.first is not None and exc.value.first.code == "policy_unknown_key"
    with pytest.raises(FormatError):
        ValidationPolicy.from_mapping({"custom_return_codes": "yes"})


def test_presets_are_frozen_and_named() -> None:
    assert PRESETS["default"] == ValidationPolicy() and PRESETS["strict"].relaxations() == ()
    assert PRESETS["bank-returns"].allow_missing_file_header
    with pytest.raises(dataclasses.FrozenInstanceError):
        PRESETS["default"].allow_missing_file_header = True  # type: ignore[misc]
    with pytest.raises(FormatError):
        ValidationPolicy.named("lenient")
