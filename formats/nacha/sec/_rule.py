"""The shape of one SEC code's rules."""

from __future__ import annotations

from dataclasses import dataclass

from formats.nacha.codes import CREDIT_CODES, DEBIT_CODES, RETURN_NOC_CODES


@dataclass(frozen=True, slots=True)
class SecRule:
    code: str
    title: str
    #: credit transaction codes allowed (x2/x3/x4 forward entries)
    credits: bool = True
    #: debit transaction codes allowed (x7/x8/x9 forward entries)
    debits: bool = True
    #: most addenda 05 records per entry (CTX reads the count from the entry)
    max_addenda_05: int = 1
    #: individual name (55-76) must not be blank or zeros
    name_required: bool = False
    #: entries must be automated returns/NOCs with a zero amount and one addenda 98 (COR)
    notification_of_change: bool = False
    #: the addenda count sits in the entry (55-58) and must match (CTX)
    counted_addenda: bool = False

    def allows(self, tx: int) -> bool:
        """Forward entries by direction; returns/NOCs (x1/x6) in any batch but COR rules."""
        if self.notification_of_change:
            return tx in RETURN_NOC_CODES
        if tx in RETURN_NOC_CODES:
            return True
        if tx in CREDIT_CODES:
            return self.credits
        return tx in DEBIT_CODES and self.debits
