"""manage_condors: take profit, the exit DTE, the closing intent and unpriceable legs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import pytest
from snapshots import (
    EXPIRY,
    NOW,
    condor,
    leg_quotes_for,
    option_quote,
    snapshot,
    state,
    with_market,
    with_nan_greeks,
)

from broker.calendar import NY
from broker.contracts import OptionContract
from broker.market import OptionQuote
from broker.orders import Side
from broker.structures import Engine, Intent, IntentKind, Structure, StructureKind
from strategies.condor_exits import manage_condors
from strategies.decide import decide_entry, decide_management
from strategies.decision import Decision, Skip
from strategies.params import CondorParams, StrategyParams

PARAMS = CondorParams()
AT_31_DTE = datetime(2024, 3, 18, 11, 0, tzinfo=NY)  # EXPIRY is 2024-04-18
AT_22_DTE = datetime(2024, 3, 27, 11, 0, tzinfo=NY)
AT_21_DTE = datetime(2024, 3, 28, 11, 0, tzinfo=NY)

HALF = (5.0, 1.0, 4.5, 1.0)  # close debit 7.50: exactly 50 % of a 15.00 credit
LOSS = (20.0, 2.0, 8.0, 1.0)  # close debit 25.00: a loss


def manage(
    structures: Iterable[Structure],
    quotes: Iterable[OptionQuote],
    now: datetime = AT_31_DTE,
    params: CondorParams = PARAMS,
) -> Decision:
    return manage_condors(snapshot({}, [], quotes, now), state(structures), params, now)


def only_intent(decision: Decision) -> Intent:
    assert decision.skips == ()
    assert len(decision.intents) == 1
    return decision.intents[0]


# --------------------------------------------------------------------------------------------
# Take profit
# --------------------------------------------------------------------------------------------


def test_take_profit_exactly_at_50pct_of_credit() -> None:
    structure = condor(7)
    intent = only_intent(manage([structure], leg_quotes_for(structure, HALF)))
    assert intent.limit_price == 7.5
    assert intent.reason == (
        "close condor #7: take profit: buy back for 7.50 against a 15.00 credit, "
        "50% captured (target 50%)"
    )


def test_take_profit_beyond_50pct_of_credit() -> None:
    structure = condor(7)
    intent = only_intent(manage([structure], leg_quotes_for(structure, (4.0, 1.0, 4.0, 1.0))))
    assert intent.limit_price == 6.0
    assert "60% captured" in intent.reason


def test_no_take_profit_at_49pct_captured() -> None:
    structure = condor(7)
    quotes = leg_quotes_for(structure, (5.15, 1.0, 4.5, 1.0))  # close 7.65 = 51 % of 15
    assert manage([structure], quotes) == Decision()


def test_no_take_profit_at_a_loss_before_exit_dte() -> None:
    structure = condor(7)
    assert manage([structure], leg_quotes_for(structure, LOSS), AT_22_DTE) == Decision()


def test_take_profit_honours_the_param() -> None:
    structure = condor(7)
    quotes = leg_quotes_for(structure, (4.0, 1.0, 4.0, 1.0))  # 60 % captured
    params = CondorParams(take_profit_pct=0.65)
    assert manage([structure], quotes, params=params) == Decision()
    params = CondorParams(take_profit_pct=0.60)
    assert "target 60%" in only_intent(manage([structure], quotes, params=params)).reason


def test_debit_structure_is_never_closed_for_profit() -> None:
    # A structure opened for a debit has no credit to capture: only the exit DTE closes it.
    structure = condor(7, credit=-2.0)
    assert structure.entry_credit == 0.0
    quotes = leg_quotes_for(structure, (0.5, 1.0, 0.5, 1.0))  # close for a 1.00 credit
    assert manage([structure], quotes) == Decision()


def test_take_profit_at_50pct_with_penny_quotes() -> None:
    structure = condor(7)  # 15.00 credit
    bids_asks = ((3.95, 4.05), (0.45, 0.55), (4.5, 4.6), (0.5, 0.6))  # mids 4.00 .50 4.55 .55
    quotes = []
    for leg, (bid, ask) in zip(structure.legs, bids_asks, strict=True):
        assert isinstance(leg.contract, OptionContract)
        quotes.append(option_quote(leg.contract, bid, ask, 0.1))
    # 4.00 - 0.50 + 4.55 - 0.55 = 7.50, exactly half the credit.
    intent = only_intent(manage([structure], quotes))
    assert intent.reason.startswith("close condor #7: take profit")


# --------------------------------------------------------------------------------------------
# Exit DTE
# --------------------------------------------------------------------------------------------


def test_condor_closed_at_21_dte_even_at_a_loss() -> None:
    structure = condor(7)
    intent = only_intent(manage([structure], leg_quotes_for(structure, LOSS), AT_21_DTE))
    assert intent.limit_price == 25.0
    assert intent.reason == "close condor #7: 21 DTE reached the exit at 21 DTE"


def test_condor_not_closed_at_22_dte_without_profit() -> None:
    structure = condor(7)
    assert manage([structure], leg_quotes_for(structure, LOSS), AT_22_DTE) == Decision()


def test_condor_closed_at_22_dte_by_take_profit() -> None:
    structure = condor(7)
    intent = only_intent(manage([structure], leg_quotes_for(structure, HALF), AT_22_DTE))
    assert "take profit" in intent.reason


def test_exit_dte_wins_over_take_profit_in_the_reason() -> None:
    structure = condor(7)
    intent = only_intent(manage([structure], leg_quotes_for(structure, HALF), AT_21_DTE))
    assert intent.reason == "close condor #7: 21 DTE reached the exit at 21 DTE"


@pytest.mark.parametrize("dte", [0, 5, 20])
def test_condor_closed_below_21_dte(dte: int) -> None:
    structure = condor(7)
    now = datetime.combine(EXPIRY - timedelta(days=dte), NOW.time(), NY)
    intent = only_intent(manage([structure], leg_quotes_for(structure, LOSS), now))
    assert intent.reason == f"close condor #7: {dte} DTE reached the exit at 21 DTE"


def test_exit_dte_is_counted_in_new_york_days() -> None:
    # 23:30 New York on the 22-DTE day is already the 21-DTE day in UTC; no exit yet.
    structure = condor(7)
    now = datetime(2024, 3, 27, 23, 30, tzinfo=NY)
    assert manage([structure], leg_quotes_for(structure, LOSS), now) == Decision()


def test_exit_dte_param_is_honoured() -> None:
    structure = condor(7)
    params = CondorParams(exit_dte=35)
    intent = only_intent(manage([structure], leg_quotes_for(structure, LOSS), params=params))
    assert intent.reason == "close condor #7: 31 DTE reached the exit at 35 DTE"


# --------------------------------------------------------------------------------------------
# The closing intent
# --------------------------------------------------------------------------------------------


def test_closing_intent_reverses_legs_and_names_the_structure() -> None:
    structure = condor(7, quantity=3)
    intent = only_intent(manage([structure], leg_quotes_for(structure, HALF)))
    assert intent.kind is IntentKind.CLOSE
    assert intent.engine is Engine.CONDOR
    assert intent.structure_kind is StructureKind.IRON_CONDOR
    assert intent.structure_id == 7
    assert intent.quantity == 3
    assert intent.limit_price == 7.5
    assert [leg.contract for leg in intent.legs] == [leg.contract for leg in structure.legs]
    assert [leg.side for leg in intent.legs] == [Side.BUY, Side.SELL, Side.BUY, Side.SELL]
    assert [leg.ratio for leg in intent.legs] == [1, 1, 1, 1]


# --------------------------------------------------------------------------------------------
# Legs that cannot be priced
# --------------------------------------------------------------------------------------------


def only_skip(decision: Decision) -> Skip:
    assert decision.intents == ()
    assert len(decision.skips) == 1
    return decision.skips[0]


def test_missing_leg_quote_skips_with_retry() -> None:
    structure = condor(7)
    quotes = leg_quotes_for(structure, HALF)
    del quotes[1]  # the long put
    assert only_skip(manage([structure], quotes)) == Skip(
        "manage condor #7", "no quote for SPXW 2024-04-18 P 4700 (retry next cycle)"
    )


def test_missing_leg_quote_at_exit_dte_still_skips() -> None:
    structure = condor(7)
    quotes = leg_quotes_for(structure, LOSS)[:3]
    skip = only_skip(manage([structure], quotes, AT_21_DTE))
    assert skip.reason == "no quote for SPXW 2024-04-18 C 5300 (retry next cycle)"


def test_nan_greeks_leg_skips_with_retry() -> None:
    structure = condor(7)
    quotes = leg_quotes_for(structure, HALF)
    quotes[3] = with_nan_greeks(quotes[3])
    skip = only_skip(manage([structure], quotes))
    assert skip.reason == "greeks not finite for SPXW 2024-04-18 C 5300 (retry next cycle)"


def test_crossed_leg_skips_with_retry() -> None:
    structure = condor(7)
    quotes = leg_quotes_for(structure, HALF)
    quotes[0] = with_market(quotes[0], 5.5, 4.5)
    skip = only_skip(manage([structure], quotes))
    assert skip.reason == (
        "crossed market for SPXW 2024-04-18 P 4800 (bid 5.5 > ask 4.5) (retry next cycle)"
    )


def test_zero_ask_leg_skips_with_retry() -> None:
    structure = condor(7)
    quotes = leg_quotes_for(structure, HALF)
    quotes[2] = with_market(quotes[2], 0.0, 0.0)
    assert "retry" in only_skip(manage([structure], quotes)).reason


def test_two_bad_legs_are_both_reported() -> None:
    structure = condor(7)
    quotes = leg_quotes_for(structure, HALF)
    quotes[0] = with_nan_greeks(quotes[0])
    del quotes[1]
    assert only_skip(manage([structure], quotes)).reason == (
        "greeks not finite for SPXW 2024-04-18 P 4800; "
        "no quote for SPXW 2024-04-18 P 4700 (retry next cycle)"
    )


def test_zero_bid_leg_is_priced() -> None:
    structure = condor(7)
    quotes = leg_quotes_for(structure, HALF)
    quotes[1] = with_market(quotes[1], 0.0, 2.0)  # long put still at mid 1.00
    assert only_intent(manage([structure], quotes)).limit_price == 7.5


# --------------------------------------------------------------------------------------------
# Several condors
# --------------------------------------------------------------------------------------------


def test_several_condors_are_handled_independently() -> None:
    near_expiry = date(2024, 4, 8)  # 21 DTE at AT_31_DTE
    winner = condor(1, credit=15.0)
    flat = condor(2, credit=10.0)  # same legs: 7.50 to close is only 25 % of 10.00
    blind = condor(3, strikes=(4600.0, 4650.0, 5350.0, 5400.0))
    expiring = condor(4, quantity=5, expiry=near_expiry)
    hedge = condor(5, engine=Engine.VIX)  # not managed by the condor rules
    quotes = (
        leg_quotes_for(winner, HALF)
        + leg_quotes_for(blind, HALF)[:3]
        + leg_quotes_for(expiring, LOSS)
    )
    decision = manage([winner, flat, blind, expiring, hedge], quotes)
    assert [(i.structure_id, i.quantity, i.limit_price) for i in decision.intents] == [
        (1, 2, 7.5),
        (4, 5, 25.0),
    ]
    assert decision.intents[1].reason == "close condor #4: 21 DTE reached the exit at 21 DTE"
    assert decision.skips == (
        Skip("manage condor #3", "no quote for SPXW 2024-04-18 C 5400 (retry next cycle)"),
    )


def test_no_open_condors_decides_nothing() -> None:
    assert manage([], []) == Decision()


# --------------------------------------------------------------------------------------------
# The decision table
# --------------------------------------------------------------------------------------------


def test_decide_management_only_manages() -> None:
    structure = condor(7)
    now = AT_31_DTE
    snap = snapshot(None, None, leg_quotes_for(structure, HALF), now)
    decision = decide_management(snap, state([structure]), StrategyParams(), now)
    assert [i.kind for i in decision.intents] == [IntentKind.CLOSE]


def test_decide_entry_closes_first_then_opens() -> None:
    structure = condor(7, opened_at=NOW - timedelta(days=14))
    held = leg_quotes_for(structure, HALF)
    snap = snapshot(None, None, held, NOW)
    decision = decide_entry(snap, state([structure]), StrategyParams(), NOW)
    assert [(i.kind, i.structure_id) for i in decision.intents] == [
        (IntentKind.CLOSE, 7),
        (IntentKind.OPEN, None),
    ]
