"""Tests for the SPX volatility surface (broker.sim.volatility) and VIX option vols."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtri

from broker.pricing import black76_price, bs_greeks, bs_price
from broker.sim.volatility import (
    ONE_MINUTE_YEARS,
    SurfaceParams,
    VixOptionParams,
    atm_vol,
    atm_vol_30d,
    skew_eta,
    spx_surface,
    spx_vol,
    ssvi_eta_bound,
    ssvi_total_variance,
    variance_swap_vol,
    vix_option_atm_vol,
    vix_option_vol,
    vol_at_delta,
)

T30 = 30.0 / 365.0
DAY = 1.0 / 365.0
RATE, DIV = 0.02, 0.018
prop = settings(max_examples=60, deadline=None)


def _forward(spot: float, t: float) -> float:
    return spot * math.exp((RATE - DIV) * t)


def _assert_calls_convex_and_decreasing(prices: np.ndarray, scale: float) -> None:
    tol = 1e-9 * scale
    assert np.all(np.diff(prices) <= tol), "call prices must not rise with the strike"
    butterflies = prices[:-2] - 2.0 * prices[1:-1] + prices[2:]
    assert np.all(butterflies >= -tol), f"negative butterfly {butterflies.min()}"


# --------------------------------------------------------------------------------------------
# SPX surface: validity
# --------------------------------------------------------------------------------------------


@prop
@given(
    vix=st.floats(5.0, 150.0),
    moneyness=st.floats(0.3, 3.0),
    t=st.floats(ONE_MINUTE_YEARS, 2.0),
)
def test_spx_vol_positive_and_finite_for_any_strike_and_expiry(
    vix: float, moneyness: float, t: float
) -> None:
    spot = 2700.0
    vol = spx_vol(vix, _forward(spot, t), moneyness * spot, t)
    assert vol.shape == ()
    assert np.isfinite(vol) and vol > 0.0


def test_arrays_broadcast_and_expiries_under_a_minute_price_as_a_minute() -> None:
    strikes = np.array([2000.0, 2700.0, 3500.0])
    t = np.array([[0.0], [-1.0], [ONE_MINUTE_YEARS], [0.5]])
    vol = spx_vol(14.0, 2700.0, strikes, t)
    assert vol.shape == (4, 3)
    np.testing.assert_array_equal(vol[0], vol[2])
    np.testing.assert_array_equal(vol[1], vol[2])
    assert np.all(np.isfinite(vol))


def test_invalid_inputs_give_nan_not_exceptions() -> None:
    vol = spx_vol(15.0, 2700.0, [0.0, -5.0, np.nan, 2700.0], 0.1)
    assert np.isnan(vol[:3]).all() and np.isfinite(vol[3])
    assert np.isnan(spx_vol(15.0, [0.0, np.nan], 2700.0, 0.1)).all()
    for bad_vix in (0.0, -3.0, math.nan, math.inf):
        assert np.isnan(spx_vol(bad_vix, 2700.0, [2600.0, 2700.0], 0.1)).all()
        assert math.isnan(atm_vol_30d(bad_vix))
        assert np.isnan(atm_vol(bad_vix, [0.1, 1.0])).all()
    assert np.isnan(spx_vol(15.0, 2700.0, 2700.0, math.nan))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rho": -1.0},
        {"rho": 1.2},
        {"long_run_vol": 0.0},
        {"term_kappa": 0.0},
        {"eta_ref": -1.0},
        {"eta_decay": -0.1},
        {"atm_ratio": 0.0},
        {"vix_days": 0.0},
        {"min_years": 0.0},
    ],
)
def test_surface_params_reject_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        SurfaceParams(**kwargs)


# --------------------------------------------------------------------------------------------
# SPX surface: the 30-day anchor and the term structure
# --------------------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(vix=st.floats(8.0, 95.0))
def test_thirty_day_variance_swap_reproduces_the_vix(vix: float) -> None:
    swap = variance_swap_vol(vix, T30)
    assert swap == pytest.approx(vix / 100.0, rel=1e-5)
    atm = atm_vol_30d(vix)
    assert spx_vol(vix, 2700.0, 2700.0, T30) == pytest.approx(atm, rel=1e-12)
    assert atm_vol(vix, T30) == pytest.approx(atm, rel=1e-12)


@pytest.mark.parametrize("vix", [12.0, 15.0, 20.0, 30.0, 50.0])
def test_thirty_day_atm_sits_below_the_vix_and_closer_in_stress(vix: float) -> None:
    ratio = atm_vol_30d(vix) / (vix / 100.0)
    assert 0.72 < ratio < 0.9
    assert atm_vol_30d(vix * 1.5) / (vix * 1.5 / 100.0) > ratio  # relatively flatter skew


def test_fixed_atm_ratio_replaces_the_variance_swap_anchor() -> None:
    params = SurfaceParams(atm_ratio=0.9)
    assert atm_vol_30d(20.0, params) == pytest.approx(0.18, rel=1e-12)
    assert spx_vol(20.0, 100.0, 100.0, T30, params) == pytest.approx(0.18, rel=1e-12)


def test_term_structure_slopes_up_when_calm_and_down_in_stress() -> None:
    t = np.array([1.0, 7.0, 30.0, 90.0, 182.0, 365.0, 730.0]) * DAY
    calm = atm_vol(11.0, t)
    stress = atm_vol(40.0, t)
    assert np.all(np.diff(calm) > 0.0)
    assert np.all(np.diff(stress) < 0.0)
    long_run = SurfaceParams().long_run_vol
    assert calm[-1] < long_run < stress[-1]  # both still on their way to 19 %
    assert abs(calm[-1] - long_run) < abs(calm[2] - long_run)
    assert abs(stress[-1] - long_run) < abs(stress[2] - long_run)


def test_flat_term_structure_when_the_30_day_level_is_the_long_run_level() -> None:
    params = SurfaceParams(atm_ratio=1.0, long_run_vol=0.2)
    vols = atm_vol(20.0, [DAY, T30, 1.0, 2.0], params)
    np.testing.assert_allclose(vols, 0.2, rtol=1e-12)


@pytest.mark.parametrize("vix", [9.0, 12.0, 20.0, 40.0, 80.0, 150.0])
def test_total_variance_grows_with_expiry_at_every_strike(vix: float) -> None:
    # no calendar arbitrage: w(k, t) non-decreasing in t at fixed log-moneyness
    t = np.geomspace(ONE_MINUTE_YEARS, 2.0, 400)[:, None]
    k = np.linspace(-1.2, 1.1, 47)[None, :]
    vol = spx_vol(vix, 1.0, np.exp(k), t)
    w = vol * vol * t
    assert np.all(np.diff(w, axis=0) >= -1e-15)


# --------------------------------------------------------------------------------------------
# SPX surface: skew
# --------------------------------------------------------------------------------------------


def _skew_25d(vix: float) -> float:
    return float(vol_at_delta(vix, T30, -0.25)) - atm_vol_30d(vix)


@pytest.mark.parametrize(("vix", "low", "high"), [(12, 3, 5), (15, 3, 5), (30, 7, 10), (40, 7, 10)])
def test_25_delta_put_skew_by_regime(vix: float, low: float, high: float) -> None:
    assert low < 100.0 * _skew_25d(vix) < high


def test_skew_in_vol_points_rises_with_the_vix() -> None:
    skews = [_skew_25d(v) for v in (10.0, 12.0, 15.0, 20.0, 30.0, 50.0, 80.0)]
    assert np.all(np.diff(skews) > 0.0)


def test_vol_at_delta_finds_the_strike_of_that_delta() -> None:
    surface = spx_surface(18.0)
    for days in (7.0, 30.0, 120.0):
        t = days * DAY
        for delta in (-0.25, -0.1, 0.25, 0.1):
            vol = float(surface.vol_at_delta(t, delta))
            # the strike (forward 1) whose delta at this vol is `delta`, and its surface vol
            d1 = float(ndtri(delta if delta > 0 else 1.0 + delta))
            sd = vol * math.sqrt(t)
            strike = math.exp(-(d1 - 0.5 * sd) * sd)
            assert (strike > 1.0) == (delta > 0)
            assert surface.vol(1.0, strike, t) == pytest.approx(vol, rel=1e-8)
    assert np.isnan(surface.vol_at_delta(T30, [0.0, 1.0, -1.0, 1.5])).all()


def test_calls_trade_below_atm_near_the_money_and_flatten_further_out() -> None:
    for vix in (12.0, 20.0, 40.0):
        atm = atm_vol_30d(vix)
        c25, c10, c5 = vol_at_delta(vix, T30, [0.25, 0.10, 0.05])
        assert c25 < atm
        assert abs(c10 - c25) < 0.5 * (atm - c25)
        assert abs(c5 - c10) < 0.5 * (atm - c25)
        # the call wing never falls below sqrt(1 - rho^2) x at-the-money
        strikes = np.linspace(1.0, 1.5, 200)
        floor = math.sqrt(1.0 - SurfaceParams().rho ** 2) * atm
        assert np.all(spx_vol(vix, 1.0, strikes, T30) >= floor * (1.0 - 1e-12))


def test_shorter_expiries_are_steeper_per_unit_of_log_strike() -> None:
    h = 1e-4
    slopes = []
    for days in (1.0, 7.0, 45.0, 120.0, 365.0):
        t = days * DAY
        up, down = spx_vol(15.0, 1.0, [math.exp(h), math.exp(-h)], t)
        slopes.append((up - down) / (2 * h))
    assert all(s < 0.0 for s in slopes)
    assert np.all(np.diff(np.abs(slopes)) < 0.0)


def test_eta_is_capped_at_the_ssvi_no_arbitrage_bound() -> None:
    params = SurfaceParams(eta_ref=5.0)
    assert skew_eta(5.0, params) == pytest.approx(ssvi_eta_bound(params.rho))
    assert skew_eta(10.0) > skew_eta(40.0)  # steeper relative skew when calm


# --------------------------------------------------------------------------------------------
# SPX surface: no butterfly arbitrage
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vix", [10.0, 15.0, 25.0, 40.0, 80.0])
@pytest.mark.parametrize("days", [1.0, 7.0, 45.0, 120.0])
def test_call_prices_convex_and_decreasing_on_the_brief_grid(vix: float, days: float) -> None:
    spot, t = 2700.0, days * DAY
    forward = _forward(spot, t)
    for strikes in (np.linspace(0.5, 1.5, 5) * spot, np.linspace(0.3, 3.0, 541) * spot):
        vol = spx_vol(vix, forward, strikes, t)
        prices = bs_price(spot, strikes, t, RATE, DIV, vol, True)
        _assert_calls_convex_and_decreasing(prices, spot)


@prop
@given(
    rho=st.floats(-0.95, 0.95),
    eta_share=st.floats(0.05, 1.0),
    theta=st.floats(1e-8, 3.0),
)
def test_ssvi_density_is_nonnegative_up_to_the_eta_bound(
    rho: float, eta_share: float, theta: float
) -> None:
    # Durrleman's condition g(k) >= 0 on the slice, from finite differences of w(k)
    eta = eta_share * ssvi_eta_bound(rho)
    sd = math.sqrt(theta)
    k = np.linspace(-30.0, 30.0, 3001) * sd
    h = 1e-3 * sd
    w = ssvi_total_variance(k, theta, rho, eta)
    w_up = ssvi_total_variance(k + h, theta, rho, eta)
    w_dn = ssvi_total_variance(k - h, theta, rho, eta)
    w1 = (w_up - w_dn) / (2 * h)
    w2 = (w_up - 2 * w + w_dn) / (h * h)
    g = (1 - k * w1 / (2 * w)) ** 2 - w1 * w1 / 4 * (1 / w + 0.25) + w2 / 2
    assert np.all(w > 0.0)
    assert g.min() > -1e-4


def test_surface_greeks_are_finite_for_a_real_chain() -> None:
    spot, t = 2650.0, 45 * DAY
    strikes = np.arange(1325.0, 3980.0, 5.0)
    vol = spx_vol(17.0, _forward(spot, t), strikes, t)
    g = bs_greeks(spot, strikes, t, RATE, DIV, vol, strikes > spot)
    for field in g:
        assert np.all(np.isfinite(field))


# --------------------------------------------------------------------------------------------
# VIX options: vol of vol
# --------------------------------------------------------------------------------------------


@prop
@given(
    vix=st.floats(5.0, 150.0),
    future=st.floats(8.0, 80.0),
    strike=st.floats(1.0, 200.0),
    t=st.floats(0.0, 1.0),
)
def test_vix_option_vol_positive_and_finite(
    vix: float, future: float, strike: float, t: float
) -> None:
    vol = vix_option_vol(vix, future, strike, t)
    assert np.isfinite(vol) and vol > 0.0


def test_vix_option_atm_vol_in_calm_markets_is_80_to_100_percent_for_short_expiries() -> None:
    for vix in (12.0, 15.0):
        assert 0.8 < vix_option_atm_vol(vix, 14 * DAY) < 1.0
        front = vix_option_atm_vol(vix, np.array([7.0, 14.0, 21.0, 30.0]) * DAY)
        assert np.all((front > 0.65) & (front < 1.15))
    assert vix_option_vol(13.0, 14.0, 14.0, 14 * DAY) == pytest.approx(
        vix_option_atm_vol(13.0, 14 * DAY), rel=1e-12
    )


def test_vix_option_vol_higher_when_vix_spikes() -> None:
    t = np.array([7.0, 30.0, 90.0]) * DAY
    calm = vix_option_atm_vol(12.0, t)
    spike = vix_option_atm_vol(37.0, t)
    assert np.all(spike > 1.5 * calm)
    assert spike[1] > 1.15  # a 30-day at-the-money VIX option in Feb 2018 territory
    levels = [float(vix_option_atm_vol(v, T30)) for v in (10.0, 15.0, 20.0, 30.0, 50.0, 80.0)]
    assert np.all(np.diff(levels) > 0.0)


@pytest.mark.parametrize("vix", [11.0, 20.0, 45.0])
def test_vix_option_vol_decreases_with_expiry_roughly_as_a_power(vix: float) -> None:
    t = np.array([0.0, 1.0, 7.0, 14.0, 30.0, 60.0, 120.0, 240.0]) * DAY
    atm = vix_option_atm_vol(vix, t)
    assert np.all(np.diff(atm) < 0.0)
    # beyond a few weeks the decay exponent is between 0.2 and 0.5
    exponent = -math.log(atm[-1] / atm[4]) / math.log(t[-1] / t[4])
    assert 0.2 < exponent < 0.5
    smile = vix_option_vol(vix, 18.0, np.array([15.0, 25.0]), t[1:, None])
    assert np.all(np.diff(smile, axis=0) < 0.0)


@pytest.mark.parametrize(("vix", "future"), [(12.0, 13.5), (20.0, 20.5), (37.0, 30.0)])
def test_vix_option_skew_is_positive(vix: float, future: float) -> None:
    strikes = np.arange(math.ceil(future), 81.0)
    vol = vix_option_vol(vix, future, strikes, T30)
    assert np.all(np.diff(vol) > 0.0)
    below = vix_option_vol(vix, future, future * 0.8, T30)
    assert below < vix_option_vol(vix, future, future, T30) < vol[-1]


@pytest.mark.parametrize("vix", [9.0, 13.0, 20.0, 37.0, 80.0])
@pytest.mark.parametrize("days", [0.0, 1.0, 7.0, 30.0, 90.0, 240.0])
@pytest.mark.parametrize("future_ratio", [0.7, 1.0, 1.3])
def test_vix_call_prices_convex_and_decreasing_from_10_to_80(
    vix: float, days: float, future_ratio: float
) -> None:
    future, t = vix * future_ratio, days * DAY
    strikes = np.arange(10.0, 81.0, 1.0)
    vol = vix_option_vol(vix, future, strikes, t)
    prices = black76_price(future, strikes, max(t, ONE_MINUTE_YEARS), RATE, vol, True)
    _assert_calls_convex_and_decreasing(prices, future)


def test_vix_option_invalid_inputs_give_nan() -> None:
    assert np.isnan(vix_option_vol(15.0, [0.0, np.nan, 16.0], [16.0, 16.0, -1.0], 0.1)).all()
    assert np.isnan(vix_option_vol(math.nan, 16.0, 16.0, 0.1))
    assert np.isnan(vix_option_atm_vol(0.0, [0.1, 0.2])).all()


@pytest.mark.parametrize(
    "kwargs", [{"eta": 2.0}, {"rho": 1.0}, {"atm_vol_ref": 0.0}, {"term_power": -0.1}]
)
def test_vix_option_params_reject_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        VixOptionParams(**kwargs)
