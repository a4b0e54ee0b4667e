"""NACHA ACH files: streaming reader/validator, typed returns and NOCs, and a writer.

Pure code: bytes in, records out (and back); no database, no filesystem beyond the
stream handed in. The ACH channel builds on this API:

Policy
    :class:`ValidationPolicy` is a frozen dataclass of named relaxations (all off by
    default). ``ValidationPolicy.from_mapping(cfg)`` builds one from partner config
    (unknown keys are a :class:`~formats.errors.FormatError`); ``PRESETS`` holds named
    ones (``default``/``strict``, ``bank-returns``, ``missing-file-records``, ...).
    Pass it to every call; there is no global.

Reading (streaming, bounded memory)
    ``reader = AchReader(stream, policy)``; iterate ``reader`` for ``(line, record)``
    where record is a ``FileHeader``, ``BatchHeader``, :class:`Entry` (entry detail
    plus its addenda), ``BatchControl`` or ``FileControl``; or ``reader.entries()``
    for ``(batch_header, entry)``. After the loop ``reader.errors``,
    ``reader.warnings``, ``reader.summary`` are complete and
    ``reader.raise_if_errors()`` raises :class:`~formats.errors.FormatError` with
    every error. Apply entries as they come only if you can roll back when the file
    turns out invalid at the end (one transaction per file).

    ``read(stream, policy) -> (AchFile, issues)`` for small files (never raises for
    bad input); ``parse(data, policy) -> AchFile`` raises FormatError.

Validation
    ``validate(stream, policy) -> ValidationReport`` (``ok``, ``summary``,
    ``errors``, ``warnings``, ``to_dict()`` = the CLI's JSON). Errors are
    :class:`~formats.errors.Issue` with line, record, field, 1-based columns, value
    (account numbers masked), expected and found; ``Issue.code`` is stable.

Returns and NOCs
    ``entry.return_result`` -> :class:`ReturnResult` (kind ``return``/``dishonored``/
    ``contested``, code, description, original trace, date of death, original RDFI,
    addenda information); ``entry.noc_result`` -> :class:`NocResult` (change code,
    refused flag, original trace, :class:`CorrectedData` split by code). Code tables
    in :mod:`formats.nacha.codes`.

Writing
    ``AchWriter(out, FileSpec, next_sequence=counter)`` streams batches
    (``write_batch(BatchSpec, payments)`` returns the trace numbers); ``write(spec,
    [(BatchSpec, Payment), ...], next_sequence=...)`` groups in memory;
    ``Payment.prenote(...)`` builds zero-amount prenotes; ``dumps(AchFile)``
    renders a typed file unchanged. ``parse(write(x))`` round-trips exactly.
"""

from formats.nacha.codes import CHANGE_CODES, REFUSED_CHANGE_CODES, RETURN_CODES
from formats.nacha.model import AchFile, Batch, Entry
from formats.nacha.policy import PRESETS, ValidationPolicy
from formats.nacha.reader import AchReader, Summary, parse, read
from formats.nacha.returns import CorrectedData, NocResult, ReturnResult
from formats.nacha.validator import ValidationReport, validate
from formats.nacha.writer import AchWriter, BatchSpec, FileSpec, Payment, dumps, write

__all__ = [
    "CHANGE_CODES", "PRESETS", "REFUSED_CHANGE_CODES", "RETURN_CODES", "AchFile", "AchReader",
    "AchWriter", "Batch", "BatchSpec", "CorrectedData", "Entry", "FileSpec", "NocResult", "Payment",
    "ReturnResult", "Summary", "ValidationPolicy", "ValidationReport", "dumps", "parse", "read",
    "validate", "write",
]
