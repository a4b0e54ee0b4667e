"""Round trips and mutations (hypothesis): write -> read -> write is identical, and no
mutation of a valid file raises anything but FormatError."""

from __future__ import annotations

import io
import itertools
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formats.errors import FormatError
from formats.nacha import PRESETS, dumps, parse, read, validate
from formats.nacha.writer import BatchSpec, Payment, write
from tests.formats.nacha.builders import SPEC, batch, routing, sample_file

TEXT = st.text(alphabet=string.ascii_uppercase + string.digits + " .-*&", min_size=1, max_size=22).filter(
    lambda s: s.strip(" 0"))


@st.composite
def payments(draw: st.DrawFn) -> list[tuple[BatchSpec, Payment]]:
    import random

    rng = random.Random(draw(st.integers(0, 2**32)))
    out = []
    for _ in range(draw(st.integers(1, 12))):
        sec = draw(st.sampled_from(["PPD", "CCD", "WEB", "TEL", "CTX"]))
        tx = draw(st.sampled_from([27, 37] if sec == "TEL" else [22, 27, 32, 37]))
        prenote = draw(st.booleans()) and sec in ("PPD", "CCD")
        name = draw(TEXT)[:16] if sec == "CTX" else draw(TEXT)
        n_add = draw(st.integers(0, 3)) if sec == "CTX" else (0 if sec == "TEL" else draw(st.integers(0, 1)))
        addenda = tuple(draw(TEXT) for _ in range(n_add))
        account = draw(st.text(alphabet=string.digits + "-", min_size=1, max_size=17).filter(str.strip))
        if prenote:
            p = Payment.prenote(tx, routing(rng), account, name)
        else:
            p = Payment(tx, routing(rng), account, draw(st.integers(0, 99_999_999_99)), name,
                        draw(st.text(alphabet=string.ascii_uppercase + string.digits, max_size=15)),
                        "S " if sec == "WEB" else "", addenda)
        out.append((batch(sec, day=draw(st.integers(1, 3))), p))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payments())
def test_write_read_write_identical(items) -> None:
    data = write(SPEC, items, next_sequence=itertools.count(1))
    report = validate(io.BytesIO(data))
    assert report.ok, [str(e) for e in report.errors]
    assert report.summary.entries == len(items)
    ach = parse(data)
    assert dumps(ach) == data
    assert parse(dumps(ach)) == ach
    ach2, issues = read(io.BytesIO(data))
    assert ach2 == ach and not issues


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(sample_file(draw(st.integers(0, 3))))
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(data) - 1))
        op = draw(st.integers(0, 3))
        if op == 0:
            data[i] = draw(st.integers(0, 255))
        elif op == 1:
            data[i] = draw(st.sampled_from(b"0123456789 A\r\n9"))
        elif op == 2:
            del data[i:i + draw(st.integers(1, 200))]
        else:
            data[i:i] = draw(st.binary(min_size=1, max_size=100))
    return bytes(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.sampled_from(sorted(PRESETS)))
def test_mutations_only_raise_format_error(data: bytes, policy_name: str) -> None:
    policy = PRESETS[policy_name]
    report = validate(io.BytesIO(data), policy)
    try:
        ach = parse(data, policy)
    except FormatError as exc:
        assert exc.issues and not report.ok
        assert all(i.code and i.reason for i in exc.issues)
    else:
        assert report.ok
        assert parse(dumps(ach), policy) == ach


def test_a_non_ascii_digit_in_the_addenda_sequence_is_a_format_error() -> None:
    """Found by the mutation test: ``'²'.isdigit()`` is true (the reader decodes bytes as Latin-1), and
    ``int('²001')`` raised ValueError out of the reader instead of an issue."""
    data = bytearray(sample_file(0))
    at = data.index(b"\n705") + 1
    data[at + 83] = 0xB2  # column 84: the addenda sequence number
    for name, policy in PRESETS.items():
        report = validate(io.BytesIO(bytes(data)), policy)
        try:
            parse(bytes(data), policy)
        except FormatError as exc:
            assert exc.issues and not report.ok, name
        else:
            raise AssertionError(f"{name}: a non-ASCII digit was read as a number")
