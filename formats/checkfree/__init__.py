"""CheckFree Direct Pay (CDP) files: names, records, reader, writer, validation.

The record layout is DATA, not code: positions, types and status codes are read
from ``layout_standin.toml`` (an INVENTED stand-in, PAYMENT-FORMATS.md §2.2,
because CheckFree's specification is not public). Load another layout file with
:func:`load_layout` and pass it as ``layout=`` to replace it without code
changes. See ``README.md`` in this folder.
"""

from formats.checkfree.batch_header import BatchHeader, BatchSummary, Payee
from formats.checkfree.detail import ACTION_ADD, Detail
from formats.checkfree.file_header import FileHeader
from formats.checkfree.file_trailer import FileTrailer
from formats.checkfree.inbound import (
    Confirmation,
    Entry,
    JournalEntry,
    JournalOutcome,
    ReturnEntry,
    ReturnKind,
    Settlement,
)
from formats.checkfree.layout import (
    FILE_TYPES,
    INBOUND_TYPES,
    Layout,
    LayoutError,
    default_layout,
    load_layout,
)
from formats.checkfree.names import BAD_NAME, BadFileName, CdpName, build_name, is_cdp_name, parse_name
from formats.checkfree.reader import Batch, CdpFile, CdpReader, read_file
from formats.checkfree.validate import Report, validate
from formats.checkfree.writer import Controls, DebitBatch, DebitHeader, DebitPayment, write_debit, write_file

__all__ = [
    "ACTION_ADD", "BAD_NAME", "FILE_TYPES", "INBOUND_TYPES", "BadFileName", "Batch", "BatchHeader",
    "BatchSummary", "CdpFile", "CdpName", "CdpReader", "Confirmation", "Controls", "DebitBatch",
    "DebitHeader", "DebitPayment", "Detail", "Entry", "FileHeader", "FileTrailer", "JournalEntry",
    "JournalOutcome", "Layout", "LayoutError", "Payee", "Report", "ReturnEntry", "ReturnKind", "Settlement",
    "build_name", "default_layout", "is_cdp_name", "load_layout", "parse_name", "read_file", "validate",
    "write_debit", "write_file",
]
