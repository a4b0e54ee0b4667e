"""COR, Notification of Change: zero-amount return/NOC entries, each with one addenda 98."""

from formats.nacha.sec._rule import SecRule

RULE = SecRule("COR", "Notification of Change", max_addenda_05=0, notification_of_change=True)
