"""CTX, Corporate Trade Exchange: up to 9,999 addenda 05 whose count is in the entry (55-58)."""

from formats.nacha.sec._rule import SecRule

RULE = SecRule("CTX", "Corporate Trade Exchange", max_addenda_05=9999, counted_addenda=True)

#: columns of the CTX-specific fields inside the entry detail record
ADDENDA_COUNT_COLUMNS = (55, 58)
RECEIVING_COMPANY_COLUMNS = (59, 74)
