"""TEL, telephone-initiated entries: consumer debits only, no addenda, name mandatory."""

from formats.nacha.sec._rule import SecRule

RULE = SecRule("TEL", "Telephone-Initiated Entry", credits=False, max_addenda_05=0, name_required=True)
