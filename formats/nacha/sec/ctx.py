"""CTX, Corporate Trade Exchange: up to 9,999 addenda 05 whose count is in the entry (55-58)."""

from formats.fixedwidth import Field, Kind
from formats.nacha.sec._rule import SecRule

#: CTX fields inside the entry detail's individual name (55-76)
ADDENDA_COUNT = Field("number_of_addenda_records", 55, 58, Kind.N, required=True)
RECEIVING_COMPANY = Field("receiving_company_name", 59, 74, Kind.AN)

RULE = SecRule("CTX", "Corporate Trade Exchange", max_addenda_05=9999, addenda_count=ADDENDA_COUNT)
