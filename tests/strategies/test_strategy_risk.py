"""risk.py: order size, open count, naked shorts, excess liquidity, and the book after."""

from __future__ import annotations

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
    state,
    vix_future,
)

from broker.contracts import Right
from broker.orders import Leg, Side
from broker.structures import Engine, IntentKind, Structure, StructureKind
from strategies.params import RiskLimits, StrategyParams
from strategies.risk import book_after, check_intent, naked_short_problem

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
