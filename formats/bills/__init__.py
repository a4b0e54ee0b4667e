"""Bill files: our own XML format (``bills.xsd``), a streaming hardened reader, a writer.

See ``bills.xsd`` for the format; :mod:`formats.bills.reader` applies the same
rules. :func:`secure_iterparse` is shared with the refund batch reader.
"""

from formats.bills.amounts import AmountError, format_cents, parse_cents
from formats.bills.reader import Bill, BillFileHeader, BillReader, LineItem, read_bills
from formats.bills.secure import DTD_REFUSED, secure_iterparse
from formats.bills.writer import bill_element, write_bills

XSD_NAME = "bills.xsd"

__all__ = ["DTD_REFUSED", "XSD_NAME", "AmountError", "Bill", "BillFileHeader", "BillReader", "LineItem",
           "bill_element", "format_cents", "parse_cents", "read_bills", "secure_iterparse", "write_bills"]
