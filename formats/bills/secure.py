"""A hardened, streaming lxml ``iterparse`` for the XML files we accept (bills, refunds).

Inbound XML comes from other systems and must never make us read local files
(XXE), fetch URLs, or expand entities until memory runs out (billion laughs).
Our formats need no DTD at all, so any DOCTYPE is refused outright, before a
single element is handed to the caller. Syntax errors become a :class:`FormatError`
with the line and column libxml2 reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from lxml import etree

from formats.errors import FormatError, Issue, IssueCode

DTD_REFUSED = "DOCTYPE and entity declarations are not allowed (XXE / entity expansion refused)"


def secure_iterparse(stream: IO[bytes], *, events: tuple[str, ...] = ("start", "end"),
                     what: str = "XML file") -> Iterator[tuple[str, etree._Element]]:
    """Yield ``(event, element)`` like ``iterparse``; raise FormatError on DTDs and bad XML.

    The caller clears elements it has finished with; ``huge_tree`` stays off so a
    single text node cannot exceed libxml2's 10 MB limit.
    """
    etree.clear_error_log()
    ctx = etree.iterparse(stream, events=events, resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False, dtd_validation=False, remove_comments=True, remove_pis=True)
    checked = False
    try:
        for event, elem in ctx:
            if not checked:
                checked = True
                docinfo = elem.getroottree().docinfo
                if docinfo.doctype or docinfo.internalDTD is not None:
                    raise FormatError.single(IssueCode.DTD_REFUSED, DTD_REFUSED, line=getattr(elem, "sourceline", None),
                                             record=what, value=docinfo.doctype[:200])
            yield event, elem
    except etree.XMLSyntaxError as exc:
        raise syntax_error(exc, what) from None


def syntax_error(exc: etree.XMLSyntaxError, what: str) -> FormatError:
    line, column = exc.position if exc.position else (exc.lineno, exc.offset)
    msg = exc.msg or str(exc)
    # Depending on parser options the exception may only say "no element found";
    # libxml2's log still holds the first real error with its position.
    errlog: Any = exc.error_log
    log: list[Any] = list(errlog) if errlog else []
    first = log[0] if log else None
    if not line and first is not None and first.line:
        line, column, msg = first.line, first.column, first.message
    if "Entity" in msg or "entity" in msg:
        code, reason = IssueCode.ENTITY_REFUSED, f"{msg} (entities are not allowed)"
    else:
        code, reason = IssueCode.MALFORMED_XML, f"malformed XML: {msg}"
    issue = Issue(code=code, reason=reason, line=line or None, record=what,
                  columns=(column, column) if column else None)
    return FormatError(str(issue), [issue])
