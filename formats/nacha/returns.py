"""Returns (addenda 99) and notifications of change (addenda 98) as typed results.

The ACH channel applies these to the original payments by ``original_trace_number``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from formats.nacha.codes import describe_change, describe_return
from formats.nacha.records.addenda_98 import Addenda98
from formats.nacha.records.addenda_98_refused import Addenda98Refused
from formats.nacha.records.addenda_99 import Addenda99
from formats.nacha.records.addenda_99_contested import Addenda99Contested
from formats.nacha.records.addenda_99_dishonored import Addenda99Dishonored
from formats.nacha.rules import parse_yymmdd

ReturnKind = Literal["return", "dishonored", "contested"]


@dataclass(frozen=True, slots=True)
class ReturnResult:
    kind: ReturnKind
    code: str
    description: str
    original_trace_number: str
    original_rdfi_identification: str
    trace_number: str
    addenda_information: str = ""
    date_of_death: dt.date | None = None
    #: dishonored/contested: the trace and reason of the return being dishonored (e.g. "R01")
    return_trace_number: str = ""
    original_return_code: str = ""


@dataclass(frozen=True, slots=True)
class CorrectedData:
    """Corrected data of a NOC split by change code; fields the code does not carry are None."""

    raw: str
    account_number: str | None = None
    routing_number: str | None = None
    transaction_code: int | None = None
    individual_name: str | None = None
    individual_identification: str | None = None


@dataclass(frozen=True, slots=True)
class NocResult:
    code: str
    description: str
    original_trace_number: str
    original_rdfi_identification: str
    corrected: CorrectedData
    trace_number: str
    #: refused NOC (C61-C69): ``code`` is the refusal, ``refused_change_code`` the NOC refused
    refused: bool = False
    refused_change_code: str = ""
    trace_sequence_number: str = ""


def _tx(raw: str) -> int | None:
    raw = raw.strip()
    return int(raw) if len(raw) == 2 and raw.isdigit() and raw.isascii() else None


def split_corrected_data(change_code: str, raw: str) -> CorrectedData:
    """Split positions 36-64 by change code (Rules Appendix 5; whitespace split as moov does)."""
    parts = raw.split()
    if change_code == "C01":
        return CorrectedData(raw, account_number=raw[:17].strip())
    if change_code == "C02":
        return CorrectedData(raw, routing_number=raw[:9].strip())
    if change_code == "C03":
        account = parts[1] if len(parts) > 1 else raw[12:29].strip()
        return CorrectedData(raw, routing_number=raw[:9].strip(), account_number=account)
    if change_code == "C04":
        return CorrectedData(raw, individual_name=raw[:22].strip())
    if change_code == "C05":
        return CorrectedData(raw, transaction_code=_tx(raw[:2]))
    if change_code == "C06":
        if len(parts) >= 2:
            return CorrectedData(raw, account_number=parts[0], transaction_code=_tx(parts[-1]))
        return CorrectedData(raw, account_number=raw[:17].strip(), transaction_code=_tx(raw[20:22]))
    if change_code == "C07":
        rest = raw[9:].split()
        if len(rest) >= 2:
            return CorrectedData(raw, routing_number=raw[:9], account_number=rest[0],
                                 transaction_code=_tx(rest[-1]))
        return CorrectedData(raw, routing_number=raw[:9], account_number=raw[9:26].strip(),
                             transaction_code=_tx(raw[26:28]))
    if change_code == "C09":
        return CorrectedData(raw, individual_identification=raw[:22].strip())
    return CorrectedData(raw)


def return_result(a: Addenda99 | Addenda99Dishonored | Addenda99Contested) -> ReturnResult:
    if isinstance(a, Addenda99):
        return ReturnResult("return", a.return_reason_code, describe_return(a.return_reason_code),
                            a.original_trace_number, a.original_rdfi_identification, a.trace_number,
                            a.addenda_information, parse_yymmdd(a.date_of_death))
    if isinstance(a, Addenda99Dishonored):
        code = a.dishonored_return_reason_code
        return ReturnResult("dishonored", code, describe_return(code), a.original_trace_number,
                            a.original_rdfi_identification, a.trace_number, a.addenda_information,
                            return_trace_number=a.return_trace_number,
                            original_return_code="R" + a.return_reason_code)
    code = a.contested_return_code
    return ReturnResult("contested", code, describe_return(code), a.original_trace_number,
                        a.original_rdfi_identification, a.trace_number,
                        return_trace_number=a.return_trace_number,
                        original_return_code="R" + a.return_reason_code)


def noc_result(a: Addenda98 | Addenda98Refused) -> NocResult:
    if isinstance(a, Addenda98):
        return NocResult(a.change_code, describe_change(a.change_code), a.original_trace_number,
                         a.original_rdfi_identification,
                         split_corrected_data(a.change_code, a.corrected_data), a.trace_number)
    return NocResult(a.refused_change_code, describe_change(a.refused_change_code),
                     a.original_trace_number, a.original_rdfi_identification,
                     split_corrected_data(a.change_code, a.corrected_data), a.trace_number,
                     refused=True, refused_change_code=a.change_code,
                     trace_sequence_number=a.trace_sequence_number)
