"""What banks really send: compressed files, dishonored/contested returns with blank dates."""

from __future__ import annotations

import bz2
import gzip
import io
import zipfile

import pytest

from formats.nacha import AchReader, ValidationPolicy, validate
from tests.formats.nacha.builders import sample_file

HEAD = (b"101 091400606 6910001341810170306A094101FIRST BANK & TRUST     ASF APPLICATION SUPERVI        \n"
        b"5200CoinLion                            123456789 WEBTRANSFER        000101   1091000010000001\n"
        b"626091400606123456789        0000012354MjMxNDAwMjAtOGQPaul Jones            S 1091000017611242\n")
TAIL = (b"82000000020009140060000000012354000000000000 123456789                         091000010000001\n"
        b"9000001000001000000020009140060000000012354000000000000" + b" " * 39 + b"\n")
#: R68 dishonored return, return settlement date (54-56) blank
DISHONORED = b"799R68091000010000001      09100001   091000010000009   01" + b" " * 21 + b"091000017611242\n"
#: R73 contested return, date original entry returned (22-27) and settlement dates blank
CONTESTED = (b"799R73" + b"091000010000001" + b" " * 6 + b"09100001" + b" " * 3 + b"091000010000009" + b" " * 3
             + b"01" + b"091000010000008" + b" " * 3 + b"69" + b" " + b"091000017611242\n")


def _zip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("returns.ach", data)
    return buf.getvalue()


@pytest.mark.parametrize(("pack", "what"), [(gzip.compress, "gzip-compressed"), (bz2.compress, "bzip2-compressed"),
                                            (_zip, "zip archive")])
def test_compressed_file_is_named_not_read_as_records(pack, what: str) -> None:
    result = validate(io.BytesIO(pack(sample_file(0))))
    assert not result.ok
    assert [e.code for e in result.errors] == ["compressed"]
    assert result.errors[0].reason == f"{what}: decompress first"
    assert "longer than 94" not in str(result.errors)


@pytest.mark.parametrize("addenda", [DISHONORED, CONTESTED], ids=["dishonored", "contested"])
def test_blank_return_dates_warn_under_bank_returns_and_fail_under_strict(addenda: bytes) -> None:
    data = HEAD + addenda + TAIL
    assert len(addenda) == 95
    strict = AchReader(io.BytesIO(data), ValidationPolicy.named("strict"))
    list(strict.entries())
    assert {e.code for e in strict.errors} == {"blank_date"}
    assert all(e.line == 4 and e.record and e.record.startswith("Addenda99") for e in strict.errors)

    tolerant = AchReader(io.BytesIO(data), ValidationPolicy.named("bank-returns"))
    ((_, entry),) = list(tolerant.entries())
    assert tolerant.ok, [str(e) for e in tolerant.errors]
    assert "blank_date" in [w.code for w in tolerant.warnings]
    assert entry.return_result is not None and entry.return_result.code == addenda[3:6].decode()


def test_filled_dates_need_no_tolerance() -> None:
    good = b"799R68091000010000001      09100001   091000010000009123" + b"01" + b" " * 21 + b"091000017611242\n"
    reader = AchReader(io.BytesIO(HEAD + good + TAIL), ValidationPolicy.named("strict"))
    list(reader.entries())
    assert reader.ok and "blank_date" not in [w.code for w in reader.warnings]
