"""Typed records read from a line are lazy but indistinguishable from records built from values."""

from __future__ import annotations

import copy
import dataclasses
import operator
import pickle

from formats.nacha.records import addenda_99, entry_detail
from formats.nacha.records.addenda_99 import Addenda99
from formats.nacha.records.entry_detail import EntryDetail

EAGER = EntryDetail(27, "09100001", "9", "12345", 123456, "091000010000001", " ID 7", "JOHN DOE", "", 1)
LINE = entry_detail.format(EAGER)


def test_lazy_record_equals_hashes_and_prints_as_the_eager_one() -> None:
    lazy = entry_detail.from_line(LINE)
    assert isinstance(lazy, EntryDetail)
    # both operand orders: the eager class's own __eq__ must not refuse the lazy one
    assert operator.eq(lazy, EAGER) and operator.eq(EAGER, lazy) and not operator.ne(EAGER, lazy)
    assert hash(lazy) == hash(EAGER) and repr(lazy) == repr(EAGER)
    assert (lazy.transaction_code, lazy.amount, lazy.individual_identification, lazy.rdfi_routing) == (
        27, 123456, " ID 7", "091000019")
    assert entry_detail.format(lazy) == LINE
    assert lazy != entry_detail.from_line(LINE.replace("123456", "123457"))


def test_lazy_record_is_frozen_and_copies_as_the_eager_one() -> None:
    lazy = entry_detail.from_line(LINE)
    try:
        lazy.amount = 1  # type: ignore[misc]
    except AttributeError:
        pass
    else:
        raise AssertionError("a typed record is frozen")
    for clone in (pickle.loads(pickle.dumps(lazy)), copy.deepcopy(lazy)):
        assert clone == EAGER and type(clone) is EntryDetail
    changed = dataclasses.replace(lazy, amount=5)
    assert type(changed) is EntryDetail and changed == dataclasses.replace(EAGER, amount=5)


def test_blank_optional_numbers() -> None:
    a = Addenda99("R14", "091000010000001", "09100001", "091000010000002", addenda_information="DECEASED")
    lazy = addenda_99.from_line(addenda_99.format(a))
    assert lazy == a and lazy.date_of_death == ""

