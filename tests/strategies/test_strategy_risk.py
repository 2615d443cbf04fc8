"""risk.py: order size, open count, daily loss limit, naked shorts and VIX calls, excess
liquidity, rolls, and the book after."""

from __future__ import annotations

import dataclasses
import math
from datetime import date, timedelta

import pytest
from snapshots import (
    NOW,
    close_intent,
    condor,
    condor_legs,
    margin,
    open_intent,
    option,
    portfolio,
    state,
    vix_call,
    vix_future,
)

from broker.contracts import Right
from broker.orders import Leg, Side
from broker.structures import Engine, Intent, IntentKind, Structure, StructureKind
from strategies.params import RiskLimits, StrategyParams
from strategies.risk import book_after, check_intent, naked_short_problem, vix_calls_problem

PARAMS = StrategyParams()
OK_MARGIN = margin(600_000.0)
OTHER_EXPIRY = date(2024, 5, 16)
P, C = Right.PUT, Right.CALL


def vertical(structure_id: int, legs: tuple[Leg, ...], quantity: int = 1) -> Structure:
    return Structure(
        structure_id,
        Engine.VIX,
        StructureKind.VERTICAL,
        legs,
        quantity,
        open_price=1.0,
        opened_at=NOW - timedelta(days=3),
    )


def book(n: int) -> list[Structure]:
    return [condor(i, opened_at=NOW - timedelta(days=i)) for i in range(1, n + 1)]


# --------------------------------------------------------------------------------------------
# Size
# --------------------------------------------------------------------------------------------


def test_quantity_at_the_per_order_limit_passes() -> None:
    assert check_intent(open_intent(quantity=50), state(), PARAMS, OK_MARGIN) is None


def test_quantity_over_max_contracts_per_order_is_refused() -> None:
    assert check_intent(open_intent(quantity=51), state(), PARAMS, OK_MARGIN) == (
        "51 contracts in one leg, the limit is 50"
    )


def test_ratio_counts_towards_max_contracts_per_order() -> None:
    legs = (Leg(option(4800.0, P), Side.BUY, 2), Leg(option(4700.0, P), Side.SELL, 1))
    intent = open_intent(legs, quantity=26, structure_kind=StructureKind.BACKSPREAD)
    assert check_intent(intent, state(), PARAMS, OK_MARGIN) == (
        "52 contracts in one leg, the limit is 50"
    )


def test_max_contracts_per_order_param_is_honoured() -> None:
    params = StrategyParams(risk=RiskLimits(max_contracts_per_order=3))
    assert check_intent(open_intent(quantity=3), state(), params, OK_MARGIN) is None
    assert check_intent(open_intent(quantity=4), state(), params, OK_MARGIN) == (
        "4 contracts in one leg, the limit is 3"
    )


@pytest.mark.parametrize("quantity", [0, -1])
def test_non_positive_quantity_is_refused(quantity: int) -> None:
    assert check_intent(open_intent(quantity=quantity), state(), PARAMS, OK_MARGIN) == (
        f"quantity {quantity} is not positive"
    )


def test_oversized_close_is_refused_too() -> None:
    structure = condor(1, quantity=60)
    intent = close_intent(structure)
    assert check_intent(intent, state([structure]), PARAMS, None) == (
        "60 contracts in one leg, the limit is 50"
    )


# --------------------------------------------------------------------------------------------
# Open count
# --------------------------------------------------------------------------------------------


def test_open_condor_at_max_open_is_refused() -> None:
    assert check_intent(open_intent(), state(book(3)), PARAMS, OK_MARGIN) == (
        "3 condors open, the limit is 3"
    )


def test_open_condor_below_max_open_passes() -> None:
    assert check_intent(open_intent(), state(book(2)), PARAMS, OK_MARGIN) is None


def test_close_at_max_open_passes() -> None:
    structures = book(3)
    intent = close_intent(structures[0])
    assert check_intent(intent, state(structures), PARAMS, OK_MARGIN) is None


def test_open_of_another_kind_at_max_open_condors_passes() -> None:
    legs = (Leg(option(5300.0, C), Side.BUY), Leg(option(5400.0, C), Side.SELL))
    intent = open_intent(legs, 1, structure_kind=StructureKind.VERTICAL, engine=Engine.VIX)
    assert check_intent(intent, state(book(3)), PARAMS, OK_MARGIN) is None


# --------------------------------------------------------------------------------------------
# Naked shorts
# --------------------------------------------------------------------------------------------


def test_full_condor_has_no_naked_short() -> None:
    assert naked_short_problem((), open_intent(quantity=5)) is None


def test_selling_a_put_alone_is_refused_as_naked() -> None:
    intent = open_intent((Leg(option(4800.0, P), Side.SELL),), 1)
    expected = (
        "would leave 1 SPXW 2024-04-18 P options net short (naked): "
        "every short option needs a long one of the same class, expiry and right"
    )
    assert naked_short_problem((), intent) == expected
    assert check_intent(intent, state(), PARAMS, OK_MARGIN) == expected


def test_short_spxw_put_is_not_covered_by_a_long_am_spx_put_of_the_same_date() -> None:
    am_long = vertical(8, (Leg(option(4700.0, P, trading_class="SPX"), Side.BUY),), 1)
    intent = open_intent((Leg(option(4800.0, P), Side.SELL),), 1)
    problem = naked_short_problem([am_long], intent)
    assert problem is not None and "1 SPXW 2024-04-18 P options net short" in problem


def test_short_put_covered_by_a_long_put_of_another_structure_passes() -> None:
    long_put = vertical(9, (Leg(option(4500.0, P), Side.BUY), Leg(option(4400.0, P), Side.BUY)), 1)
    intent = open_intent((Leg(option(4800.0, P), Side.SELL),), 2)
    assert naked_short_problem([long_put], intent) is None


def test_short_put_against_a_long_put_of_another_expiry_is_refused() -> None:
    long_put = vertical(9, (Leg(option(4500.0, P, OTHER_EXPIRY), Side.BUY),), 1)
    intent = open_intent((Leg(option(4800.0, P), Side.SELL),), 1)
    assert naked_short_problem([long_put], intent) == (
        "would leave 1 SPXW 2024-04-18 P options net short (naked): "
        "every short option needs a long one of the same class, expiry and right"
    )


def test_short_put_against_a_long_call_of_the_same_expiry_is_refused() -> None:
    intent = open_intent((Leg(option(4800.0, P), Side.SELL), Leg(option(5300.0, C), Side.BUY)), 1)
    assert "2024-04-18 P options net short" in (naked_short_problem((), intent) or "")


def test_condor_with_unequal_wing_ratio_leaves_net_short() -> None:
    legs = condor_legs()
    legs = (Leg(legs[0].contract, Side.SELL, 2), *legs[1:])
    intent = open_intent(legs, 3)
    assert naked_short_problem((), intent) == (
        "would leave 3 SPXW 2024-04-18 P options net short (naked): "
        "every short option needs a long one of the same class, expiry and right"
    )


def test_selling_a_future_is_refused() -> None:
    intent = open_intent(
        (Leg(vix_future(), Side.SELL),),
        2,
        structure_kind=StructureKind.FUTURES_RUNG,
        engine=Engine.VIX,
    )
    expected = "would leave 2 VX 2024-04-17 FUT short: short futures are not allowed"
    assert naked_short_problem((), intent) == expected
    assert check_intent(intent, state(), PARAMS, OK_MARGIN) == expected


def test_selling_a_held_future_down_to_flat_passes() -> None:
    rung = vertical(9, (Leg(vix_future(), Side.BUY),), 2)
    intent = open_intent(
        (Leg(vix_future(), Side.SELL),),
        2,
        kind=IntentKind.CLOSE,
        structure_kind=StructureKind.FUTURES_RUNG,
        engine=Engine.VIX,
    )
    assert naked_short_problem([rung], intent) is None


def test_long_future_of_another_month_does_not_cover_a_short_one() -> None:
    rung = vertical(9, (Leg(vix_future(date(2024, 5, 22)), Side.BUY),), 3)
    intent = open_intent((Leg(vix_future(), Side.SELL),), 1)
    assert naked_short_problem([rung], intent) == (
        "would leave 1 VX 2024-04-17 FUT short: short futures are not allowed"
    )


def test_closing_a_held_condor_leaves_no_naked_short() -> None:
    structures = book(2)
    assert naked_short_problem(structures, close_intent(structures[1])) is None


def test_book_already_naked_refuses_a_full_condor() -> None:
    naked = vertical(9, (Leg(option(5500.0, C, OTHER_EXPIRY), Side.SELL),), 1)
    assert naked_short_problem([naked], open_intent()) == (
        "would leave 1 SPXW 2024-05-16 C options net short (naked): "
        "every short option needs a long one of the same class, expiry and right"
    )


# --------------------------------------------------------------------------------------------
# Excess liquidity
# --------------------------------------------------------------------------------------------


def test_open_below_excess_liquidity_floor_is_refused() -> None:
    assert check_intent(open_intent(), state(), PARAMS, margin(299_999.0)) == (
        "excess liquidity after the trade $299,999 is below 30% of net liquidation ($300,000)"
    )


def test_open_exactly_at_excess_liquidity_floor_passes() -> None:
    assert check_intent(open_intent(), state(), PARAMS, margin(300_000.0)) is None


def test_floor_uses_the_what_if_net_liquidation() -> None:
    # The account says 1,000,000 but the what-if answer says 500,000: the floor is 150,000.
    assert check_intent(open_intent(), state(), PARAMS, margin(150_000.0, 500_000.0)) is None
    assert check_intent(open_intent(), state(), PARAMS, margin(149_000.0, 500_000.0)) == (
        "excess liquidity after the trade $149,000 is below 30% of net liquidation ($150,000)"
    )


def test_min_excess_liquidity_param_is_honoured() -> None:
    params = StrategyParams(risk=RiskLimits(min_excess_liquidity_pct=0.5))
    assert check_intent(open_intent(), state(), params, margin(499_000.0)) is not None
    assert check_intent(open_intent(), state(), params, margin(500_000.0)) is None


def test_open_without_what_if_margin_is_refused() -> None:
    assert check_intent(open_intent(), state(), PARAMS, None) == (
        "no what-if margin from the venue: cannot check excess liquidity"
    )


def test_close_without_margin_passes() -> None:
    structures = book(1)
    assert check_intent(close_intent(structures[0]), state(structures), PARAMS, None) is None


def test_close_with_low_excess_liquidity_passes() -> None:
    structures = book(1)
    intent = close_intent(structures[0])
    assert check_intent(intent, state(structures), PARAMS, margin(10_000.0)) is None


def test_first_failing_check_is_reported() -> None:
    # Too large, at max open, and without margin: the size is reported first.
    assert check_intent(open_intent(quantity=99), state(book(3)), PARAMS, None) == (
        "99 contracts in one leg, the limit is 50"
    )
    assert check_intent(open_intent(), state(book(3)), PARAMS, None) == (
        "3 condors open, the limit is 3"
    )


# --------------------------------------------------------------------------------------------
# The book after an intent
# --------------------------------------------------------------------------------------------


def test_book_after_sums_structures_and_the_intent() -> None:
    first = condor(1, quantity=2)
    second = condor(2, quantity=3, strikes=(4600.0, 4800.0, 5200.0, 5400.0))
    intent = open_intent(condor_legs((4700.0, 4750.0, 5250.0, 5300.0)), 4)
    assert dict(book_after([first, second], intent)) == {
        "SPXW 2024-04-18 P 4800": -5,
        "SPXW 2024-04-18 P 4700": 2 + 4,
        "SPXW 2024-04-18 C 5200": -5,
        "SPXW 2024-04-18 C 5300": 2 + 4,
        "SPXW 2024-04-18 P 4600": 3,
        "SPXW 2024-04-18 C 5400": 3,
        "SPXW 2024-04-18 P 4750": -4,
        "SPXW 2024-04-18 C 5250": -4,
    }


def test_book_after_a_full_close_is_flat() -> None:
    structure = condor(1, quantity=4)
    after = book_after([structure], close_intent(structure))
    assert set(after.values()) == {0}
    assert len(after) == 4


def test_book_after_counts_ratios() -> None:
    legs = (Leg(option(5300.0, C), Side.BUY, 2), Leg(option(5200.0, C), Side.SELL, 1))
    assert dict(book_after((), open_intent(legs, 3))) == {
        "SPXW 2024-04-18 C 5300": 6,
        "SPXW 2024-04-18 C 5200": -3,
    }


# --------------------------------------------------------------------------------------------
# The daily loss limit
# --------------------------------------------------------------------------------------------

LIMIT_HIT = (
    "daily loss limit: the day's P&L -$20,000 is at or below -2.0% of net liquidation "
    "(-$20,000): no new condor today"
)


def test_open_condor_at_the_daily_loss_limit_is_refused() -> None:
    assert check_intent(open_intent(), portfolio(day_pnl=-20_000.0), PARAMS, OK_MARGIN) == (
        LIMIT_HIT
    )


def test_open_condor_beyond_the_daily_loss_limit_is_refused() -> None:
    problem = check_intent(open_intent(), portfolio(day_pnl=-55_000.0), PARAMS, OK_MARGIN)
    assert problem is not None and problem.startswith("daily loss limit: the day's P&L -$55,000")


def test_open_condor_just_inside_the_daily_loss_limit_passes() -> None:
    assert check_intent(open_intent(), portfolio(day_pnl=-19_999.0), PARAMS, OK_MARGIN) is None


def test_a_gain_never_hits_the_daily_loss_limit() -> None:
    assert check_intent(open_intent(), portfolio(day_pnl=50_000.0), PARAMS, OK_MARGIN) is None


def test_daily_loss_limit_param_is_honoured() -> None:
    params = StrategyParams(risk=RiskLimits(daily_loss_limit_pct=0.05))
    assert check_intent(open_intent(), portfolio(day_pnl=-40_000.0), params, OK_MARGIN) is None
    assert check_intent(open_intent(), portfolio(day_pnl=-50_000.0), params, OK_MARGIN) == (
        "daily loss limit: the day's P&L -$50,000 is at or below -5.0% of net liquidation "
        "(-$50,000): no new condor today"
    )


def test_unknown_day_pnl_refuses_a_new_condor() -> None:
    problem = check_intent(open_intent(), portfolio(day_pnl=math.nan), PARAMS, OK_MARGIN)
    assert problem == (
        "the day's P&L is unknown (P&L nan, net liquidation $1,000,000): no new condor"
    )


def test_close_past_the_daily_loss_limit_passes() -> None:
    structures = book(1)
    intent = close_intent(structures[0])
    assert check_intent(intent, portfolio(structures, day_pnl=-90_000.0), PARAMS, None) is None


def test_roll_past_the_daily_loss_limit_passes() -> None:
    structures = book(1)
    intent = roll_intent(structures[0])
    assert check_intent(intent, portfolio(structures, day_pnl=-90_000.0), PARAMS, OK_MARGIN) is None


def test_vix_hedge_past_the_daily_loss_limit_passes() -> None:
    legs = (Leg(vix_call(22.0), Side.BUY),)
    intent = open_intent(legs, 5, structure_kind=StructureKind.CALL_BLOCK, engine=Engine.VIX)
    assert check_intent(intent, portfolio(day_pnl=-90_000.0), PARAMS, OK_MARGIN) is None


# --------------------------------------------------------------------------------------------
# Rolls: margin like an open, neither an open nor a close of a condor
# --------------------------------------------------------------------------------------------


def roll_intent(structure: Structure, quantity: int | None = None) -> Intent:
    """Roll the put side of a standard condor (4700/4800) down to 4600/4750."""
    new_put = (Leg(option(4750.0, P), Side.SELL), Leg(option(4600.0, P), Side.BUY))
    closing = (structure.legs[0].reversed(), structure.legs[1].reversed())
    return Intent(
        kind=IntentKind.ROLL,
        engine=Engine.CONDOR,
        structure_kind=StructureKind.IRON_CONDOR,
        legs=closing + new_put,
        quantity=structure.quantity if quantity is None else quantity,
        limit_price=-1.0,
        reason="test roll",
        structure_id=structure.id,
        result_legs=new_put + structure.legs[2:],
        carry_price=-7.0,
    )


def test_roll_without_what_if_margin_is_refused() -> None:
    structures = book(1)
    assert check_intent(roll_intent(structures[0]), state(structures), PARAMS, None) == (
        "no what-if margin from the venue: cannot check excess liquidity"
    )


def test_roll_below_the_excess_liquidity_floor_is_refused() -> None:
    structures = book(1)
    problem = check_intent(roll_intent(structures[0]), state(structures), PARAMS, margin(1.0))
    assert problem is not None and problem.startswith("excess liquidity after the trade $1 ")


def test_roll_at_max_open_condors_passes() -> None:
    structures = book(3)
    assert check_intent(roll_intent(structures[0]), state(structures), PARAMS, OK_MARGIN) is None


def test_roll_that_leaves_the_old_short_uncovered_is_refused() -> None:
    structure = book(1)[0]
    roll = roll_intent(structure)
    half = dataclasses.replace(roll, legs=(roll.legs[1], *roll.legs[2:]))  # keeps 4800 short
    assert check_intent(half, state([structure]), PARAMS, OK_MARGIN) == (
        "would leave 2 SPXW 2024-04-18 P options net short (naked): "
        "every short option needs a long one of the same class, expiry and right"
    )


def test_roll_larger_than_the_per_order_limit_is_refused() -> None:
    structure = condor(1, quantity=51)
    assert check_intent(roll_intent(structure), state([structure]), PARAMS, OK_MARGIN) == (
        "51 contracts in one leg, the limit is 50"
    )


# --------------------------------------------------------------------------------------------
# Never net short VIX calls
# --------------------------------------------------------------------------------------------

VIX_MAY = date(2024, 5, 22)


def backspread_legs(sold: int, bought: int, expiry: date = VIX_MAY) -> tuple[Leg, ...]:
    return (
        Leg(vix_call(20.0, expiry), Side.SELL, sold),
        Leg(vix_call(25.0, expiry), Side.BUY, bought),
    )


def backspread(structure_id: int, sold: int, bought: int, quantity: int = 1) -> Structure:
    return Structure(
        structure_id,
        Engine.VIX,
        StructureKind.BACKSPREAD,
        backspread_legs(sold, bought),
        quantity,
        open_price=-0.2,
        opened_at=NOW - timedelta(days=3),
    )


@pytest.mark.parametrize("bought", [1, 2, 3, 4])
def test_backspread_one_by_n_passes(bought: int) -> None:
    intent = open_intent(
        backspread_legs(1, bought), 3, structure_kind=StructureKind.BACKSPREAD, engine=Engine.VIX
    )
    assert vix_calls_problem((), intent, PARAMS.vix) is None
    assert check_intent(intent, state(), PARAMS, OK_MARGIN) is None


def test_ratio_spread_selling_more_calls_than_it_buys_is_refused() -> None:
    held = Structure(
        9, Engine.VIX, StructureKind.CALL_BLOCK, (Leg(vix_call(20.0), Side.BUY),), 10, 1.5, NOW
    )
    intent = open_intent(
        backspread_legs(2, 1), 1, structure_kind=StructureKind.BACKSPREAD, engine=Engine.VIX
    )
    # The held call block would cover it across the book: the structure itself is refused.
    assert check_intent(intent, state([held]), PARAMS, OK_MARGIN) == (
        "the backspread sells 1 more VIX 2024-05-22 calls than it buys per unit: "
        "the VIX layer is never net short calls"
    )


def test_closing_the_long_calls_under_a_short_call_is_refused() -> None:
    spread = backspread(5, 1, 2, quantity=2)
    sell_longs = open_intent(
        (Leg(vix_call(25.0), Side.SELL, 2),),
        2,
        kind=IntentKind.CLOSE,
        structure_kind=StructureKind.BACKSPREAD,
        engine=Engine.VIX,
    )
    assert check_intent(sell_longs, state([spread]), PARAMS, OK_MARGIN) == (
        "would leave the book net short 2 VIX 2024-05-22 calls: the VIX layer is never net "
        "short calls (a backspread buys at least as many calls as it sells)"
    )


def test_vix_calls_are_netted_per_expiry_across_trading_classes() -> None:
    weekly_long = Structure(
        9,
        Engine.VIX,
        StructureKind.CALL_BLOCK,
        (Leg(vix_call(22.0, trading_class="VIXW"), Side.BUY),),
        1,
        1.5,
        NOW,
    )
    short = open_intent(
        (Leg(vix_call(30.0), Side.SELL),),
        1,
        structure_kind=StructureKind.VERTICAL,
        engine=Engine.VIX,
    )
    june = open_intent(
        (Leg(vix_call(30.0, date(2024, 6, 18)), Side.SELL),),
        1,
        kind=IntentKind.CLOSE,
        engine=Engine.VIX,
    )
    assert (
        vix_calls_problem(
            [weekly_long], dataclasses.replace(short, kind=IntentKind.CLOSE), PARAMS.vix
        )
        is None
    )
    assert vix_calls_problem([weekly_long], june, PARAMS.vix) == (
        "would leave the book net short 1 VIX 2024-06-18 calls: the VIX layer is never net "
        "short calls (a backspread buys at least as many calls as it sells)"
    )


def test_roll_of_a_backspread_into_a_net_short_one_is_refused() -> None:
    spread = backspread(5, 1, 2)
    roll = Intent(
        kind=IntentKind.ROLL,
        engine=Engine.VIX,
        structure_kind=StructureKind.BACKSPREAD,
        legs=(Leg(vix_call(25.0), Side.SELL, 2), Leg(vix_call(25.0, date(2024, 6, 18)), Side.BUY)),
        quantity=1,
        limit_price=-0.5,
        reason="test",
        structure_id=5,
        result_legs=(
            Leg(vix_call(20.0), Side.SELL),
            Leg(vix_call(25.0, date(2024, 6, 18)), Side.BUY),
        ),
    )
    assert check_intent(roll, state([spread]), PARAMS, OK_MARGIN) == (
        "the backspread sells 1 more VIX 2024-05-22 calls than it buys per unit: "
        "the VIX layer is never net short calls"
    )


def test_spx_calls_are_not_counted_as_vix_calls() -> None:
    intent = open_intent((Leg(option(5200.0, C), Side.SELL),), 1)
    assert vix_calls_problem((), intent, PARAMS.vix) is None
