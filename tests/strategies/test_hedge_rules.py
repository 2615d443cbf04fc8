"""k from the R2 band, the backspread ratio from SPX crossovers, and the hedge budget."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies.hedge_rules import (
    adapt_hedge,
    budget_left,
    budget_limit,
    effective_k,
    effective_k_text,
    next_k,
    next_ratio,
)
from strategies.hedge_state import HedgeState, Signals
from strategies.params import HedgeParams, VixLayerParams

HEDGE = HedgeParams()
VIX = VixLayerParams()


def test_r2_above_the_band_raises_k_ten_percent() -> None:
    step = next_k(1.0, 0.70, HEDGE)
    assert step.k == pytest.approx(1.1)
    assert "R2 0.70 above the band 0.45-0.65" in step.reason and "k 1.100" in step.reason


def test_r2_below_the_band_lowers_k_ten_percent() -> None:
    k, reason = next_k(1.0, 0.30, HEDGE)
    assert k == pytest.approx(0.9)
    assert "below the band" in reason


@pytest.mark.parametrize("r2", [0.45, 0.55, 0.65, math.nan])
def test_r2_inside_the_band_or_unknown_keeps_k(r2: float) -> None:
    step = next_k(1.3, r2, HEDGE)
    assert step.k == 1.3
    assert ("unknown" in step.reason) is math.isnan(r2)


def test_k_is_clamped_at_its_maximum() -> None:
    assert next_k(1.95, 0.9, HEDGE).k == 2.0
    step = next_k(2.0, 0.9, HEDGE)
    assert step.k == 2.0 and "clamped into [0.5, 2]" in step.reason


def test_k_is_clamped_at_its_minimum() -> None:
    assert next_k(0.52, 0.1, HEDGE).k == 0.5
    assert next_k(0.5, 0.1, HEDGE).k == 0.5


def test_a_k_outside_its_bounds_is_clamped_even_inside_the_band() -> None:
    assert next_k(3.0, 0.55, HEDGE).k == 2.0
    assert next_k(0.1, math.nan, HEDGE).k == 0.5


@given(k=st.floats(0.01, 10.0), r2=st.floats(0.0, 1.0) | st.just(math.nan))
def test_k_always_lands_inside_its_bounds(k: float, r2: float) -> None:
    assert HEDGE.k_min <= next_k(k, r2, HEDGE).k <= HEDGE.k_max


def test_effective_k_scales_by_breadth_divergence_and_hedge_scale() -> None:
    calm = HedgeState(k=1.1, hedge_scale=1.0)
    assert effective_k(calm, HEDGE) == pytest.approx(1.1)
    assert effective_k_text(calm, HEDGE) == "k 1.100"
    diverging = HedgeState(k=1.1, hedge_scale=0.5, signals=Signals(breadth_divergence=True))
    assert effective_k(diverging, HEDGE) == pytest.approx(1.1 * 1.2 * 0.5)
    text = effective_k_text(diverging, HEDGE)
    assert text == "k 0.660 = 1.100 x 1.2 (breadth divergence) x 0.5 (hedge scale)"


def test_a_bearish_crossover_adds_a_long_call_up_to_1_to_4() -> None:
    assert next_ratio(2, -1, VIX).ratio == 3
    assert next_ratio(3, -1, VIX).ratio == 4
    step = next_ratio(4, -1, VIX)
    assert step.ratio == 4 and "maximum" in step.reason


def test_a_bullish_crossover_removes_a_long_call_down_to_the_base() -> None:
    ratio, reason = next_ratio(4, 1, VIX)
    assert ratio == 3 and "bullish" in reason
    assert next_ratio(3, 1, VIX).ratio == 2
    assert next_ratio(2, 1, VIX).ratio == 2


def test_a_ratio_of_1_is_never_lowered_nor_raised_by_a_bullish_crossover() -> None:
    low_base = VixLayerParams(backspread_base_ratio=1)
    assert next_ratio(1, 1, low_base).ratio == 1
    assert next_ratio(1, 1, VIX).ratio == 1  # below the base: a bullish step does not raise it
    assert next_ratio(1, -1, VIX).ratio == 2


def test_no_crossover_keeps_the_ratio() -> None:
    step = next_ratio(3, 0, VIX)
    assert step.ratio == 3 and step.reason == "no SPX MACD crossover -> ratio 1:3"


def test_budget_left_is_the_share_of_nlv_minus_the_years_cost() -> None:
    assert budget_limit(1_000_000.0, HEDGE) == pytest.approx(30_000.0)
    assert budget_left(1_000_000.0, 12_500.0, HEDGE) == pytest.approx(17_500.0)
    assert budget_left(1_000_000.0, 35_000.0, HEDGE) == pytest.approx(-5_000.0)
    assert budget_left(1_000_000.0, -2_000.0, HEDGE) == pytest.approx(32_000.0)  # credits


def test_adapt_steps_k_and_ratio_from_the_days_signals() -> None:
    state = HedgeState(k=1.0, ratio=2, signals=Signals(r2=0.8, spx_crossover=-1))
    adapted = adapt_hedge(state, HEDGE, VIX)
    assert adapted.state.k == pytest.approx(1.1) and adapted.state.ratio == 3
    assert len(adapted.reasons) == 2 and "bearish" in adapted.reasons[1]
    assert adapted.state.signals == state.signals
