"""Setup files from the customer portal: JSON Lines, one create/update/cancel per line.

The format is documented by ``setups.schema.json`` (generated from
:mod:`formats.setups.records`, kept equal by a test). :func:`parse_setups` is
pure: it checks every line and returns the records with every problem found;
checks that need the database are the handler's.
"""

from formats.setups.pan import find_pan, luhn_ok
from formats.setups.reader import parse_setups
from formats.setups.records import (
    AccountRecord,
    CancelRecord,
    RecurringRecord,
    ReminderRecord,
    SetupRecord,
    json_schema,
)

SCHEMA_NAME = "setups.schema.json"

__all__ = ["SCHEMA_NAME", "AccountRecord", "CancelRecord", "RecurringRecord", "ReminderRecord",
           "SetupRecord", "find_pan", "json_schema", "luhn_ok", "parse_setups"]
