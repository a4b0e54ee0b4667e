"""Control arithmetic: a control field that disagrees names itself, its columns and the right value."""

from __future__ import annotations

from formats.nacha.records import batch_control, file_control
from formats.nacha.records.batch_control import BatchControl
from formats.nacha.records.file_control import FileControl
from formats.nacha.totals import BatchExpected, Totals, batch_control_issues, block_count, file_control_issues

HEADER = BatchExpected(225, "1234567890", "09100001", 3)
TOTALS = Totals(count=4, hash=12_345_678_901, debit=1500, credit=0)


def _batch_line(**change: object) -> str:
    values: dict[str, object] = dict(service_class_code=225, entry_addenda_count=4, entry_hash=2_345_678_901,
                                     total_debit_amount=1500, total_credit_amount=0,
                                     company_identification="1234567890", odfi_identification="09100001",
                                     batch_number=3)
    values.update(change)
    return batch_control.format(BatchControl(**values))  # type: ignore[arg-type]


def test_agreeing_batch_control_has_no_issues() -> None:
    assert batch_control_issues(_batch_line(), 7, TOTALS, HEADER, bad=()) == []


def test_each_disagreement_names_its_field() -> None:
    issues = batch_control_issues(_batch_line(entry_hash=1, total_debit_amount=1499, batch_number=4), 7,
                                  TOTALS, HEADER, bad=())
    assert [(i.code, i.field, i.columns, i.expected, i.line) for i in issues] == [
        ("control_mismatch", "entry_hash", (11, 20), "2345678901", 7),
        ("control_mismatch", "total_debit_amount", (21, 32), "1500", 7),
        ("control_mismatch", "batch_number", (88, 94), "3", 7),
    ]


def test_unsupported_batch_checks_the_count_only_and_bad_fields_are_skipped() -> None:
    line = _batch_line(entry_addenda_count=5, entry_hash=1)
    assert [i.field for i in batch_control_issues(line, 7, TOTALS, None, bad=())] == ["entry_addenda_count"]
    assert batch_control_issues(line, 7, TOTALS, None, bad={"entry_addenda_count"}) == []


def test_file_control() -> None:
    line = file_control.format(FileControl(batch_count=2, block_count=3, entry_addenda_count=8, entry_hash=5,
                                           total_debit_amount=10, total_credit_amount=20))
    totals = Totals(count=8, hash=10**10 + 5, debit=10, credit=20)
    assert file_control_issues(line, 30, batches=2, records=30, totals=totals, verifiable=True, bad=()) == []
    issues = file_control_issues(line, 30, batches=3, records=31, totals=Totals(8, 6, 11, 20), verifiable=True,
                                 bad=())
    assert [(i.field, i.expected) for i in issues] == [("batch_count", "3"), ("block_count", "4"),
                                                       ("entry_hash", "6"), ("total_debit_amount", "11")]
    assert [i.field for i in file_control_issues(line, 30, batches=2, records=30, totals=Totals(8, 6, 11, 20),
                                                 verifiable=False, bad=())] == []


def test_block_count_and_totals_add() -> None:
    assert [block_count(n) for n in (0, 1, 10, 11)] == [0, 1, 1, 2]
    t = Totals()
    t.add(TOTALS)
    t.add(TOTALS)
    assert t == Totals(8, 24_691_357_802, 3000, 0)
