"""r_squared.py: rolling R2 of portfolio returns on SPX returns, and the R2 band."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from strategies.signals.r_squared import band_position, rolling_r_squared

returns = st.integers(-500, 500).map(lambda basis_points: basis_points / 10_000)


def sample_returns(n: int, seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    spx = rng.normal(0.0, 0.01, n)
    portfolio = -0.4 * spx + rng.normal(0.0, 0.006, n)
    return portfolio, spx


def test_hand_computed_window() -> None:
    # x deviations -1, 0, 1; y deviations -7/3, -1/3, 8/3: sxy = 5, sxx = 2, syy = 114/9
    r2 = rolling_r_squared([2.0, 4.0, 7.0], [1.0, 2.0, 3.0], window=3)
    assert np.isnan(r2[:2]).all()
    assert r2[2] == pytest.approx(75 / 76)


def test_equals_the_ols_coefficient_of_determination() -> None:
    portfolio, spx = sample_returns(60)
    slope, intercept = np.polyfit(spx, portfolio, 1)
    residuals = portfolio - (slope * spx + intercept)
    ols_r2 = 1.0 - (residuals**2).sum() / ((portfolio - portfolio.mean()) ** 2).sum()
    assert rolling_r_squared(portfolio, spx)[-1] == pytest.approx(ols_r2, rel=1e-9)


def test_matches_squared_pandas_rolling_correlation() -> None:
    portfolio, spx = sample_returns(300)
    expected = pd.Series(portfolio).rolling(60).corr(pd.Series(spx)) ** 2
    np.testing.assert_allclose(rolling_r_squared(portfolio, spx), expected, atol=1e-12)


def test_nan_until_a_full_window_of_observations() -> None:
    portfolio, spx = sample_returns(60)
    r2 = rolling_r_squared(portfolio, spx, window=60)
    assert np.isnan(r2[:59]).all() and np.isfinite(r2[59])
    assert np.isnan(rolling_r_squared(portfolio[:59], spx[:59])).all()
    assert rolling_r_squared([], []).shape == (0,)


def test_missing_pairs_are_skipped_not_zero_filled() -> None:
    portfolio, spx = sample_returns(130)
    holed_portfolio, holed_spx = portfolio.copy(), spx.copy()
    holed_portfolio[10] = math.nan
    holed_spx[100] = math.nan
    r2 = rolling_r_squared(holed_portfolio, holed_spx)
    assert np.isnan(r2[[10, 100]]).all()
    expected = rolling_r_squared(np.delete(portfolio, [10, 100]), np.delete(spx, [10, 100]))
    np.testing.assert_allclose(np.delete(r2, [10, 100]), expected, equal_nan=True)
    assert np.isnan(r2[59]) and np.isfinite(r2[60])  # the 60th complete pair is session 60


def test_constant_returns_give_nan_not_a_crash() -> None:
    portfolio, spx = sample_returns(80)
    assert np.isnan(rolling_r_squared(np.full(80, 0.001), spx)[59:]).all()
    assert np.isnan(rolling_r_squared(portfolio, np.full(80, 0.1))[59:]).all()
    assert np.isnan(rolling_r_squared(np.zeros(80), np.zeros(80))).all()


def test_mismatched_lengths_and_tiny_windows_are_refused() -> None:
    with pytest.raises(ValueError, match="portfolio_returns has 2 sessions but spx_returns has 3"):
        rolling_r_squared([0.1, 0.2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="window"):
        rolling_r_squared([0.1, 0.2], [0.1, 0.2], window=1)


@given(st.lists(st.tuples(returns, returns), min_size=0, max_size=40), st.integers(2, 10))
def test_r_squared_is_between_0_and_1(pairs: list[tuple[float, float]], window: int) -> None:
    portfolio = [p for p, _ in pairs]
    spx = [s for _, s in pairs]
    r2 = rolling_r_squared(portfolio, spx, window=window)
    finite = r2[np.isfinite(r2)]
    assert ((finite >= 0.0) & (finite <= 1.0)).all()
    assert np.isnan(r2[: window - 1]).all()


@given(
    st.lists(returns, min_size=20, max_size=40),
    st.floats(-0.01, 0.01),
    st.one_of(st.floats(-3.0, -0.5), st.floats(0.5, 3.0)),
)
def test_a_portfolio_linear_in_spx_has_r_squared_1(
    spx: list[float], intercept: float, beta: float
) -> None:
    window = 20
    assume(all(len(set(spx[i : i + window])) > 1 for i in range(len(spx) - window + 1)))
    portfolio = [intercept + beta * value for value in spx]
    r2 = rolling_r_squared(portfolio, spx, window=window)
    np.testing.assert_allclose(r2[window - 1 :], 1.0, atol=1e-9)


def test_independent_returns_have_low_r_squared() -> None:
    rng = np.random.default_rng(5)
    r2 = rolling_r_squared(rng.normal(size=600), rng.normal(size=600))
    assert np.nanmean(r2) < 0.05


@pytest.mark.parametrize(
    ("r2", "position"),
    [
        (0.70, "above"),
        (0.30, "below"),
        (0.50, "inside"),
        (0.45, "inside"),
        (0.65, "inside"),
        (math.nan, "unknown"),
        (None, "unknown"),
    ],
)
def test_band_position(r2: float | None, position: str) -> None:
    assert band_position(r2) == position


def test_band_position_with_a_custom_band() -> None:
    assert band_position(0.5, low=0.2, high=0.4) == "above"
    with pytest.raises(ValueError, match="low <= high"):
        band_position(0.5, low=0.7, high=0.4)
