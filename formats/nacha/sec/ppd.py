"""PPD, Prearranged Payment and Deposit: consumer credits and debits, one optional addenda 05."""

from formats.nacha.sec._rule import SecRule

RULE = SecRule("PPD", "Prearranged Payment and Deposit")
