"""CCD, Corporate Credit or Debit: business accounts, one optional addenda 05."""

from formats.nacha.sec._rule import SecRule

RULE = SecRule("CCD", "Corporate Credit or Debit")
