"""Validation policy: a frozen, named set of relaxations, chosen per trading partner.

Never a global: the caller passes a policy to every read/validate call. Every
relaxation is off in ``default``; config names a preset or a mapping of booleans.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from formats.errors import FormatError, IssueCode


@dataclass(frozen=True, slots=True)
class ValidationPolicy:
    #: bank return/NOC files that start with a batch header (moov AllowMissingFileHeader)
    allow_missing_file_header: bool = False
    #: files that end without a file control record (moov AllowMissingFileControl)
    allow_missing_file_control: bool = False
    #: immediate destination that is not an ABA routing number (moov BypassDestinationValidation)
    bypass_destination_validation: bool = False
    #: immediate origin that is not a routing or 10-digit company number (moov BypassOriginValidation)
    bypass_origin_validation: bool = False
    #: return/change codes outside the NACHA tables, e.g. a processor's own (moov CustomReturnCodes)
    custom_return_codes: bool = False
    #: batch numbers need not ascend (moov AllowUnorderedBatchNumbers)
    allow_unordered_batch_numbers: bool = False
    #: RDFI routing check digits are not verified (moov AllowInvalidCheckDigit)
    allow_invalid_check_digit: bool = False
    #: trace numbers need not start with the ODFI nor ascend (moov CustomTraceNumbers)
    custom_trace_numbers: bool = False
    #: TEL/WEB entries may have a blank individual name (moov AllowEmptyIndividualName)
    allow_empty_individual_name: bool = False
    #: text fields may hold non-ASCII characters, read as UTF-8 (moov AllowSpecialCharacters)
    allow_special_characters: bool = False
    #: dishonored/contested returns (R61-R77) with blank date fields, as banks send them: a warning
    allow_blank_return_dates: bool = False

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> ValidationPolicy:
        """Policy from config; unknown keys and non-boolean values are errors, never ignored."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise FormatError.single(IssueCode.POLICY_UNKNOWN_KEY,
                                     f"unknown validation policy option(s): {', '.join(unknown)}",
                                     expected=", ".join(sorted(known)))
        for key, value in data.items():
            if not isinstance(value, bool):
                raise FormatError.single(IssueCode.POLICY_BAD_VALUE, f"policy option {key} must be true or false",
                                         field=key, found=repr(value))
        return cls(**data)  # type: ignore[arg-type]

    @classmethod
    def named(cls, name: str) -> ValidationPolicy:
        try:
            return PRESETS[name]
        except KeyError:
            raise FormatError.single(IssueCode.POLICY_UNKNOWN, f"unknown validation policy {name!r}",
                                     expected=", ".join(sorted(PRESETS))) from None

    def relaxations(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self) if getattr(self, f.name))


DEFAULT = ValidationPolicy()

#: built-in presets; a partner's config may name one of these or give its own mapping
PRESETS: Mapping[str, ValidationPolicy] = {
    "default": DEFAULT,
    "strict": DEFAULT,
    "bank-returns": replace(DEFAULT, allow_missing_file_header=True, allow_missing_file_control=True,
                            custom_return_codes=True, bypass_destination_validation=True,
                            bypass_origin_validation=True, allow_unordered_batch_numbers=True,
                            allow_blank_return_dates=True),
    "missing-file-records": replace(DEFAULT, allow_missing_file_header=True,
                                    allow_missing_file_control=True),
    "bypass-destination": replace(DEFAULT, bypass_destination_validation=True),
    "custom-trace-numbers": replace(DEFAULT, custom_trace_numbers=True),
    "invalid-check-digit": replace(DEFAULT, allow_invalid_check_digit=True),
    "empty-individual-name": replace(DEFAULT, allow_empty_individual_name=True),
    "special-characters": replace(DEFAULT, allow_special_characters=True),
}
