"""WEB, internet-initiated entries: the receiver's name is mandatory, one optional addenda 05."""

from formats.nacha.sec._rule import SecRule

RULE = SecRule("WEB", "Internet-Initiated/Mobile Entry", name_required=True)
