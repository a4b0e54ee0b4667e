"""One module per Betalingsservice record type, each with its field table.

Positions are the 1-based, inclusive columns printed in the Nets guides
(PAYMENT-FORMATS.md §1.3-1.4). Every module offers ``FIELDS``, ``LAYOUT``,
a frozen record dataclass, ``parse(line, *, lineno, issues, policy)`` returning
the record or ``None`` (the issues say why) and ``format(record) -> str``.
"""
