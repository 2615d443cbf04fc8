"""Which VIX contracts the layer picks: ladder months, the call expiry, block and backspread."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from vix_snapshots import (
    APR,
    CALL_EXPIRY,
    JUL,
    JUN,
    MAR,
    MAY,
    NOW,
    PARAMS,
    TODAY,
    futures,
    grid,
    vix_chain,
    vix_snapshot,
    weekdays,
    with_nan_greeks,
)

from broker.calendar import NY
from broker.orders import Side
from strategies.params import VixLayerParams
from strategies.vix_layer.selection import (
    BlockChoice,
    backspread_calls,
    block_call,
    call_expiry,
    ladder_futures,
    trading_days_to,
)

VIX = PARAMS.vix


def test_trading_days_count_the_sessions_after_today_up_to_expiry() -> None:
    assert trading_days_to(MAR, TODAY, weekdays(TODAY)) == 12
    assert trading_days_to(TODAY, TODAY, weekdays(TODAY)) == 0
    assert trading_days_to(date(2024, 3, 5), TODAY, weekdays(TODAY)) == 1


def test_trading_days_beyond_the_listed_sessions_are_weekdays() -> None:
    assert trading_days_to(MAR, TODAY, weekdays(TODAY, 3)) == 12


def test_trading_days_are_unknown_without_sessions() -> None:
    assert trading_days_to(MAR, TODAY, ()) is None


def test_ladder_months_2_to_4_skip_the_futures_inside_the_roll_window() -> None:
    on_monday = ladder_futures(vix_snapshot(), TODAY, VIX)
    assert not isinstance(on_monday, str)
    assert [f.contract.expiry for f in on_monday.values()] == [APR, MAY, JUN]
    thursday = datetime(2024, 3, 7, 10, 30, tzinfo=NY)  # March is 9 trading days away
    later = ladder_futures(vix_snapshot(at=thursday), thursday.date(), VIX)
    assert not isinstance(later, str)
    assert [f.contract.expiry for f in later.values()] == [MAY, JUN, JUL]


def test_too_few_futures_listed_is_a_reason_not_a_ladder() -> None:
    reason = ladder_futures(vix_snapshot(listed=futures((MAR, APR, MAY))), TODAY, VIX)
    assert reason == (
        "only 3 VIX futures listed beyond 10 trading days; the ladder wants months 2, 3, 4"
    )
    assert ladder_futures(vix_snapshot(listed=()), TODAY, VIX) == (
        "no VIX futures listed in the snapshot"
    )


def test_the_call_expiry_is_nearest_90_dte_within_60_to_120() -> None:
    chains = {e: vix_chain(e) for e in (APR, MAY, JUN)}
    assert call_expiry(vix_snapshot(chains=chains), TODAY, VIX) == MAY
    assert call_expiry(vix_snapshot(chains={APR: vix_chain(APR)}), TODAY, VIX) == (
        "no VIX option chain within 60-120 DTE (1 chains in the snapshot)"
    )


def test_the_block_buys_the_call_nearest_30_delta_inside_the_window() -> None:
    choice = block_call(vix_chain(), TODAY, VIX)
    assert isinstance(choice, BlockChoice)
    assert choice.quote.contract.strike == 23.0
    assert abs(choice.quote.greeks.delta - 0.30) < 0.02
    assert choice.describe(VIX) == "VIX 2024-05-22 C23 (79 DTE, delta 0.30)"


def test_a_low_delta_strike_is_clamped_up_to_22() -> None:
    choice = block_call(vix_chain(vol=0.4), TODAY, VIX)
    assert isinstance(choice, BlockChoice)
    assert choice.delta_strike < 22.0 and choice.quote.contract.strike == 22.0
    assert "clamped into 22-30" in choice.describe(VIX)


def test_a_high_delta_strike_is_clamped_down_to_30() -> None:
    choice = block_call(vix_chain(forward=30.0), TODAY, VIX)
    assert isinstance(choice, BlockChoice)
    assert choice.delta_strike > 30.0 and choice.quote.contract.strike == 30.0


def test_the_listed_strike_nearest_the_clamp_is_bought() -> None:
    chain = vix_chain(vol=0.4, strikes=(*grid(10, 20), 22.5, 25.0, 27.5))
    choice = block_call(chain, TODAY, VIX)
    assert isinstance(choice, BlockChoice) and choice.quote.contract.strike == 22.5


def test_no_strike_inside_22_to_30_is_a_skip() -> None:
    chain = vix_chain(strikes=(*grid(10, 21), *grid(32, 60)))
    assert block_call(chain, TODAY, VIX) == (
        "no usable VIX 2024-05-22 call strike inside 22-30 (nearest to 22 is 21)"
    )


def test_nan_greeks_leave_no_usable_call() -> None:
    assert block_call(with_nan_greeks(vix_chain()), TODAY, VIX) == (
        "no usable call quotes (sane market, finite greeks) in the VIX 2024-05-22 chain"
    )


def test_the_backspread_sells_at_the_money_and_buys_n_further_out() -> None:
    choice = backspread_calls(vix_chain(), 3, TODAY, VIX)
    assert not isinstance(choice, str)
    short, long = choice.legs
    assert short.side is Side.SELL and short.ratio == 1 and short.contract.strike == 17.0
    assert long.side is Side.BUY and long.ratio == 3
    assert long.contract.strike > short.contract.strike
    assert choice.long.greeks.delta == pytest.approx(0.25, abs=0.02)


def test_the_backspread_long_strike_is_strictly_above_the_short() -> None:
    # Only the money strike and lower ones: nothing to buy above the short.
    choice = backspread_calls(vix_chain(strikes=grid(10, 17)), 2, TODAY, VIX)
    assert choice == "no usable VIX 2024-05-22 call above the short C17 to buy"


def test_a_backspread_needs_at_least_one_long_call() -> None:
    assert backspread_calls(vix_chain(), 0, TODAY, VIX) == (
        "ratio 1:0 is not a backspread (N must be at least 1)"
    )


def test_a_custom_window_moves_the_block() -> None:
    params = VixLayerParams(call_strike_min=25.0, call_strike_max=28.0)
    choice = block_call(vix_chain(), TODAY, params)
    assert isinstance(choice, BlockChoice) and choice.quote.contract.strike == 25.0
    assert call_expiry(vix_snapshot(), NOW.date(), params) == CALL_EXPIRY
