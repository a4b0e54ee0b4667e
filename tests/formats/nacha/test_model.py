"""Entries the reader builds cheaply are the same entries as those built from values."""

from __future__ import annotations

import copy
import dataclasses
import operator
import pickle

from formats.nacha.model import Entry, entry_builder, new_entry
from formats.nacha.records import entry_detail
from formats.nacha.records.entry_detail import EntryDetail

EAGER = EntryDetail(27, "09100001", "9", "12345", 123456, "091000010000001", " ID 7", "JOHN DOE", "", 1)
LINE = entry_detail.format(EAGER)


def test_fast_path_entries_are_lazy_but_equal_to_eager_entries() -> None:
    eager = Entry(EAGER, (), 7)
    lazy = entry_builder()(LINE, 7)
    assert isinstance(lazy, Entry) and operator.eq(lazy, eager) and operator.eq(eager, lazy)
    assert hash(lazy) == hash(eager) and repr(lazy) == repr(eager)
    assert (lazy.amount, lazy.line, lazy.addenda, lazy.is_debit, lazy.return_result) == (123456, 7, (), True, None)
    assert lazy.noc_result is None and lazy.is_prenote is False
    for clone in (pickle.loads(pickle.dumps(lazy)), copy.deepcopy(lazy), dataclasses.replace(lazy)):
        assert type(clone) is Entry and clone == eager and clone.line == 7


def test_new_entry_is_entry() -> None:
    e = new_entry(EAGER, (), 3)
    assert type(e) is Entry and e == Entry(EAGER, (), 3) and e.line == 3
