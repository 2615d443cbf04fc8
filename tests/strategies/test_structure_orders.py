"""Closing and rolling a journaled structure at mid: the builder every engine and command shares."""

from __future__ import annotations

import math

import pytest
from snapshots import condor, leg_quotes_for, with_market

from broker.market import OptionQuote
from broker.orders import Side
from broker.structures import IntentKind, Structure
from strategies.structure_orders import close_intent, intent_at_mid
from strategies.vix_layer import orders as vix_orders

MIDS = (2.0, 0.5, 1.5, 0.25)  # short put, long put, short call, long call


def quotes_by_key(structure: Structure, mids: tuple[float, ...] = MIDS) -> dict[str, OptionQuote]:
    return {q.contract.key: q for q in leg_quotes_for(structure, mids)}


def test_close_reverses_every_leg_at_the_net_mid() -> None:
    structure = condor(quantity=3)
    intent = close_intent(structure, 3, quotes_by_key(structure), "close condor #1")
    assert not isinstance(intent, str)
    assert intent.kind is IntentKind.CLOSE and intent.structure_id == structure.id
    assert [leg.side for leg in intent.legs] == [Side.BUY, Side.SELL, Side.BUY, Side.SELL]
    assert [leg.contract for leg in intent.legs] == [leg.contract for leg in structure.legs]
    # buy back both shorts, sell both longs: a debit of 2.0 - 0.5 + 1.5 - 0.25
    assert intent.limit_price == pytest.approx(2.75)
    assert intent.reason == "close condor #1" and intent.quantity == 3


def test_close_never_asks_more_units_than_the_structure_holds() -> None:
    structure = condor(quantity=2)
    intent = close_intent(structure, 5, quotes_by_key(structure), "close")
    assert not isinstance(intent, str) and intent.quantity == 2


def test_an_unquoted_or_one_sided_leg_gives_the_reason_not_an_intent() -> None:
    structure = condor()
    quotes = quotes_by_key(structure)
    missing = dict(quotes)
    del missing[structure.legs[1].contract.key]
    why = close_intent(structure, 1, missing, "close")
    assert why == f"no quote for {structure.legs[1].contract.key}"
    one_sided = dict(quotes)
    key = structure.legs[0].contract.key
    one_sided[key] = with_market(quotes[key], math.nan, 2.1)
    assert isinstance(close_intent(structure, 1, one_sided, "close"), str)


def test_intent_at_mid_keeps_the_kind_and_the_given_legs() -> None:
    structure = condor()
    legs = tuple(leg.reversed() for leg in structure.legs[:2])
    intent = intent_at_mid(IntentKind.ROLL, structure, legs, 1, quotes_by_key(structure), "r")
    assert not isinstance(intent, str)
    assert intent.kind is IntentKind.ROLL and intent.legs == legs
    assert intent.limit_price == pytest.approx(2.0 - 0.5)


def test_the_vix_layer_says_an_unpriced_close_is_retried_next_cycle() -> None:
    structure = condor()
    quotes = quotes_by_key(structure)
    del quotes[structure.legs[0].contract.key]
    why = vix_orders.close_intent(structure, 1, quotes, "close")
    assert isinstance(why, str) and why.endswith("(retry next cycle)")
    assert close_intent(structure, 1, quotes, "close") == why.removesuffix(" (retry next cycle)")
