import io
import re
from datetime import date

import pytest

from formats.checkfree import (
    DebitBatch,
    LayoutError,
    default_layout,
    load_layout,
    read_file,
    write_debit,
)
from formats.checkfree.layout import STANDIN_LAYOUT, Role

from .helpers import debit_header, payment

STANDIN = default_layout()


def standin_text() -> str:
    from importlib import resources
    return resources.files("formats.checkfree").joinpath(STANDIN_LAYOUT).read_text()


def test_standin__every_type_has_all_roles():
    for ftype in ("debit", "confirm", "transumm", "tranjrnl", "setlment", "returns"):
        for role in Role:
            rl = STANDIN.record(role, ftype)
            assert rl.fields[0].name == "record_type"
            assert all(1 <= f.start <= f.end <= STANDIN.record_length for f in rl.fields)
    assert STANDIN.record(Role.DETAIL, "debit").by_name("action_code") is not None
    assert STANDIN.record(Role.DETAIL, "returns").by_name("action_code") is None


def test_alternative_layout_file__changes_positions_without_code(tmp_path):
    """A layout with 220-byte records and the amount moved: reader and writer follow the data."""
    text = standin_text().replace("record_length = 200", "record_length = 220")
    text = text.replace('{ name = "action_code", start = 144, len = 3',
                        '{ name = "action_code", start = 201, len = 3')
    path = tmp_path / "real.toml"
    path.write_text(text)
    layout = load_layout(path)
    out = io.BytesIO()
    write_debit(out, debit_header(), [DebitBatch(date(2024, 2, 1), [payment(1)])], layout=layout)
    ls = out.getvalue().decode().split("\r\n")[:-1]
    assert {len(x) for x in ls} == {220}
    assert ls[2][200:203] == "ADD"
    f = read_file(io.BytesIO(out.getvalue()), layout=layout)
    assert f.ok and [e for e in f.entries()] == [payment(1).to_detail()]
    assert not read_file(io.BytesIO(out.getvalue())).ok


@pytest.mark.parametrize("old, new, message", [
    ('{ name = "client_id", start = 63', '{ name = "client_id", start = 62', "already used"),
    ('{ name = "sender_id", start = 73, len = 10', '{ name = "sender_id", start = 195, len = 10', "outside"),
    ('{ name = "client_id",', '{ name = "client_key",', "lacks fields ['client_id']"),
    ('rejected = ["RJ"]', 'refused = ["RJ"]', "status.confirm lacks ['rejected']"),
    ('type = "amount", required = true }', 'type = "money", required = true }', "type must be one of"),
    ('record_length = 200', 'record_length = "200"', "'record_length' missing or not a int"),
    ('check = "aba"', 'check = "luhn"', "unknown check"),
    ('types = ["debit"]', 'types = ["credit"]', "unknown file types"),
    ('header = "0000"', 'header = "000"', "4-character code"),
    ('name = "standin-2.2"', 'name = "x" =', "not valid TOML"),
])
def test_bad_layout_files_refused(tmp_path, old, new, message):
    text = standin_text()
    assert old in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(LayoutError, match=re.escape(message)):
        load_layout(path)


def test_missing_layout_file(tmp_path):
    with pytest.raises(LayoutError, match="cannot read layout"):
        load_layout(tmp_path / "nope.toml")
