"""IAT batch layout: recognised only to be refused, so an IAT batch is never read with the PPD layout.

IAT batches (and IAT NOCs under SEC COR) put a foreign exchange indicator where the
PPD layout has the company name's continuation (columns 21-22).
"""

from formats.fixedwidth import Field, Kind

FOREIGN_EXCHANGE_INDICATOR = Field("foreign_exchange_indicator", 21, 22, Kind.ID)
_INDICATORS = frozenset({"FV", "VF", "FF"})


def is_iat_layout(batch_header_line: str) -> bool:
    return FOREIGN_EXCHANGE_INDICATOR.cut(batch_header_line) in _INDICATORS
