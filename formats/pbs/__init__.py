"""Nets (formerly PBS) Betalingsservice formats: pure, bytes in, typed records out.

- :func:`read_delivery` / :class:`DeliveryReader`: 0602 payments and 0603 mandates,
  type taken from BS002; counts checked strictly, amounts only warned about.
- :func:`classify`, :func:`parse_receipt`: route files by content; PBCNET40/41 receipts.
- :mod:`.fik`: FI-card payment ids (modulus 10).
- :mod:`.writer`: 0602/0603 test-file builders; :mod:`.d0601`: 0601 write/read.
- :mod:`.invoice_xml`: the outbound XML invoice delivery template and its XSD.
"""

from formats.pbs.codes import MandateEventKind, PaymentKind
from formats.pbs.delivery import Delivery, DeliveryReader, Payment, Section, read_delivery
from formats.pbs.fields import GUIDE_EXAMPLES, STRICT, Policy
from formats.pbs.receipts import FileKind, Receipt, classify, parse_receipt
from formats.pbs.records.bs042_mandate import MandateEvent
from formats.pbs.records.bs042_slip_info import SlipInfo
from formats.pbs.validate import ValidationReport, validate

__all__ = [
    "GUIDE_EXAMPLES", "STRICT", "Delivery", "DeliveryReader", "FileKind", "MandateEvent",
    "MandateEventKind", "Payment", "PaymentKind", "Policy", "Receipt", "Section", "SlipInfo",
    "ValidationReport", "classify", "parse_receipt", "read_delivery", "validate",
]
