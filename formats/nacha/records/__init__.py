"""One module per NACHA record type, each driven by its ``FIELDS`` table.

Every module exposes ``FIELDS``, a frozen dataclass, ``check(line, ...)`` (all
issues of one line, never raises), ``parse(line)`` (strict, raises
:class:`~formats.errors.FormatError`), ``from_line`` (typed record from a line that
passed ``check``) and ``format(record)`` (exactly 94 characters).
"""
