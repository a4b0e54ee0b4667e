"""Benchmark baseline (a): read the file and slice every record into its fields, nothing else.

Plain Python slicing driven by the same field tables the parser uses; no
validation, no conversion. ``python bench/nacha/baseline.py FILE [--text]``
(binary by default, the faster variant; ``--text`` decodes lines as latin-1 first).
"""

from __future__ import annotations

import sys

from formats.nacha.records import (
    addenda_05,
    addenda_98,
    addenda_99,
    batch_control,
    batch_header,
    entry_detail,
    file_control,
    file_header,
)

MODULES = {"1": file_header, "5": batch_header, "6": entry_detail, "8": batch_control, "9": file_control}
ADDENDA = {"05": addenda_05, "98": addenda_98, "99": addenda_99}


def tables(as_bytes: bool) -> tuple[dict, dict]:
    def t(mod):  # type: ignore[no-untyped-def]
        return tuple((f.name, f.start - 1, f.end) for f in mod.FIELDS)

    k = (lambda s: ord(s)) if as_bytes else (lambda s: s)
    return ({k(c): t(m) for c, m in MODULES.items()},
            {(c.encode() if as_bytes else c): t(m) for c, m in ADDENDA.items()})


def main() -> int:
    path = sys.argv[1]
    text = "--text" in sys.argv
    by_type, addenda = tables(not text)
    records = 0
    fields = 0
    with open(path, encoding="latin-1") if text else open(path, "rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            table = by_type.get(line[0]) if line[0] not in (55, "7") else addenda.get(line[1:3])
            if table is None:
                continue
            rec = {name: line[s:e] for name, s, e in table}
            records += 1
            fields += len(rec)
    print(records, fields)
    return 0


if __name__ == "__main__":
    sys.exit(main())
