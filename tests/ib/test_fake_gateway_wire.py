"""The fake gateway's pure parts: framing, numbers, version offers, durations, symbols."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest
from fake_gateway.contracts import ContractRegistry, future_local_symbol, occ_symbol
from fake_gateway.historical import duration_days, end_instant
from fake_gateway.session import negotiate
from fake_gateway.wire import FieldReader, frame, num, split_payload, unpack_length
from hypothesis import given
from hypothesis import strategies as st

from broker.calendar import NY
from broker.contracts import SPX, FutureContract, OptionContract, Right


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
def test_numbers_survive_the_wire_to_ten_decimals(value: float) -> None:
    text = num(value)
    assert float(text) == pytest.approx(value, abs=1e-10, rel=1e-12)
    assert not text.endswith(".0") and "e" not in text


def test_non_finite_numbers_are_refused() -> None:
    with pytest.raises(ValueError):
        num(math.nan)


# Wire text is UTF-8: any character but NUL (the separator) and lone surrogates (not encodable).
WIRE_TEXT = st.text(
    alphabet=st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=8
)


@given(st.lists(WIRE_TEXT, min_size=1))
def test_frames_split_back_into_their_fields(fields: list[str]) -> None:
    framed = frame(fields)
    assert unpack_length(framed[:4]) == len(framed) - 4
    assert split_payload(framed[4:]) == fields


def test_reader_gives_ib_defaults_for_blanks_and_unset() -> None:
    reader = FieldReader(["", "1.7976931348623157E308", "2.5", "1", "x"])
    assert reader.integer(7) == 7
    assert math.isnan(reader.number())
    assert reader.number() == 2.5
    assert reader.boolean() is True
    reader.skip(1)
    assert reader.text() == "" and reader.remaining < 0


@pytest.mark.parametrize(
    ("offer", "server", "expected"),
    [
        ("v157..178", 176, 176),
        ("v157..176 +PACEAPI", 178, 176),
        ("v100", 176, 100),
        ("?", 176, 176),
    ],
)
def test_negotiated_version(offer: str, server: int, expected: int) -> None:
    assert negotiate(offer, server) == expected


@pytest.mark.parametrize(
    ("text", "days"), [("30 D", 30), ("2 W", 14), ("1 M", 31), ("1 Y", 365), ("3600 S", 1)]
)
def test_durations_in_calendar_days(text: str, days: int) -> None:
    assert duration_days(text) == days


def test_bad_duration_and_end_are_none() -> None:
    assert duration_days("30 days") is None
    assert end_instant("yesterday", datetime(2018, 3, 5, tzinfo=NY)) is None


def test_end_formats() -> None:
    now = datetime(2018, 3, 5, 10, tzinfo=NY)
    assert end_instant("", now) == now
    assert end_instant("20180301 04:00:00 UTC", now) == datetime(2018, 3, 1, 4, tzinfo=UTC)
    assert end_instant("20180301-04:00:00", now) == datetime(2018, 3, 1, 4, tzinfo=UTC)
    assert end_instant("20180301 04:00:00", now) == datetime(2018, 3, 1, 4, tzinfo=NY)
    whole_day = end_instant("20180301", now)
    assert whole_day is not None and whole_day.date() == date(2018, 3, 1)
    assert whole_day.hour == 23


def test_local_symbols() -> None:
    put = OptionContract("SPX", "SPXW", date(2018, 4, 20), 2712.5, Right.PUT)
    assert occ_symbol(put) == "SPXW  180420P02712500"
    assert future_local_symbol(FutureContract("VIX", "VX", date(2018, 12, 19))) == "VXZ8"


def test_con_ids_are_stable_and_reversible() -> None:
    first, second = ContractRegistry(), ContractRegistry()
    call = OptionContract("VIX", "VIX", date(2018, 4, 18), 20, Right.CALL)
    con_id = first.con_id(call)
    assert con_id == second.con_id(call)
    assert 100_000_000 <= con_id < 2**31
    assert first.lookup(con_id) == call
    assert first.con_id(SPX) == 416904
    assert second.lookup(123) is None
