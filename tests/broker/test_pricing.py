"""Tests for broker.pricing: closed-form BSM / Black-76 prices and greeks.

Implied volatility has its own module, test_pricing_implied_vol.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.pricing import (
    PriceGreeks,
    black76_greeks,
    black76_price,
    bs_greeks,
    bs_price,
)

# --------------------------------------------------------------------------------------------
# Independent scalar reference (math.erfc), written from the textbook formulas
# --------------------------------------------------------------------------------------------


def _n_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _n_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def ref_bs(s: float, k: float, t: float, r: float, q: float, v: float, call: bool) -> tuple:
    """Return (price, delta, gamma, vega, theta/year) of a European option, textbook BSM."""
    sq, kr = s * math.exp(-q * t), k * math.exp(-r * t)
    sd = v * math.sqrt(t)
    d1 = (math.log(s / k) + (r - q + 0.5 * v * v) * t) / sd
    d2 = d1 - sd
    if call:
        price = sq * _n_cdf(d1) - kr * _n_cdf(d2)
        delta = math.exp(-q * t) * _n_cdf(d1)
        carry = q * sq * _n_cdf(d1) - r * kr * _n_cdf(d2)
    else:
        price = kr * _n_cdf(-d2) - sq * _n_cdf(-d1)
        delta = -math.exp(-q * t) * _n_cdf(-d1)
        carry = r * kr * _n_cdf(-d2) - q * sq * _n_cdf(-d1)
    gamma = math.exp(-q * t) * _n_pdf(d1) / (s * sd)
    vega = sq * _n_pdf(d1) * math.sqrt(t)
    theta = -sq * _n_pdf(d1) * v / (2.0 * math.sqrt(t)) + carry
    return price, delta, gamma, vega, theta


# --------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------

spots = st.floats(10.0, 10_000.0)
moneyness = st.floats(0.5, 2.0)  # strike / spot
times = st.floats(1.0 / 365.0, 3.0)
vols = st.floats(0.05, 1.5)
rates = st.floats(0.0, 0.08)
divs = st.floats(0.0, 0.05)
rights = st.booleans()

prop = settings(max_examples=200, deadline=None)
EPS = float(np.finfo(np.float64).eps)


def close(a: float, b: float, rel: float, abs_: float) -> bool:
    return abs(a - b) <= rel * abs(b) + abs_


# --------------------------------------------------------------------------------------------
# Hand-checked values
# --------------------------------------------------------------------------------------------


def test_textbook_values_call_and_put() -> None:
    price = bs_price(100.0, 100.0, 1.0, 0.05, 0.0, 0.2, [True, False])
    assert price[0] == pytest.approx(10.450583572185565, rel=1e-13)
    assert price[1] == pytest.approx(5.573526022256971, rel=1e-13)


def test_greeks_match_quantlib_values() -> None:
    # QuantLib 1.44 BlackCalculator / AnalyticEuropeanEngine, S=K=100, t=1, r=5 %, q=0, vol 20 %.
    call = bs_greeks(100.0, 100.0, 1.0, 0.05, 0.0, 0.2, True)
    assert call.delta == pytest.approx(0.6368306511756194, rel=1e-13)
    assert call.gamma == pytest.approx(0.018762017345846885, rel=1e-13)
    assert call.vega == pytest.approx(37.524034691693785, rel=1e-13)  # per 1.00 of vol
    assert call.theta == pytest.approx(-6.4140275464382, rel=1e-13)  # per year
    put = bs_greeks(100.0, 100.0, 1.0, 0.05, 0.0, 0.2, False)
    assert put.price == pytest.approx(5.573526022256967, rel=1e-13)
    assert put.delta == pytest.approx(-0.3631693488243808, rel=1e-13)
    assert put.theta == pytest.approx(-1.657880423934623, rel=1e-13)


def test_hull_example_units() -> None:
    # Hull, Options Futures and Other Derivatives: S=49, K=50, r=5 %, vol 20 %, 20 weeks.
    g = bs_greeks(49.0, 50.0, 0.3846, 0.05, 0.0, 0.2, True)
    assert float(g.price) == pytest.approx(2.40, abs=0.005)
    assert float(g.delta) == pytest.approx(0.522, abs=0.001)
    assert float(g.gamma) == pytest.approx(0.066, abs=0.001)
    assert float(g.vega) == pytest.approx(12.1, abs=0.05)  # per 1.00 of vol, not per 1 %
    assert float(g.theta) == pytest.approx(-4.31, abs=0.01)  # per year, negative when long


def test_black76_value() -> None:
    # F = K = 100, t = 1, r = 5 %, vol 20 %: d1 = 0.1, d2 = -0.1.
    expected = math.exp(-0.05) * 100.0 * (_n_cdf(0.1) - _n_cdf(-0.1))
    assert black76_price(100.0, 100.0, 1.0, 0.05, 0.2, True) == pytest.approx(expected, rel=1e-14)
    assert black76_price(100.0, 100.0, 1.0, 0.05, 0.2, False) == pytest.approx(expected, rel=1e-14)


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------


@prop
@given(spots, moneyness, times, rates, divs, vols, rights)
def test_matches_independent_reference(s, m, t, r, q, v, call) -> None:
    k = s * m
    got = bs_greeks(s, k, t, r, q, v, call)
    want = ref_bs(s, k, t, r, q, v, call)
    floors = (1e-12 * s, 1e-12, 1e-12 / s, 1e-12 * s, 1e-12 * s / t)
    for g, w, floor in zip(got, want, floors, strict=True):
        assert close(float(g), w, 1e-9, floor)


@prop
@given(spots, moneyness, times, rates, divs, vols)
def test_put_call_parity_bs(s, m, t, r, q, v) -> None:
    k = s * m
    c, p = bs_price(s, k, t, r, q, v, [True, False])
    assert c - p == pytest.approx(s * math.exp(-q * t) - k * math.exp(-r * t), abs=1e-12 * (s + k))


@prop
@given(spots, moneyness, times, rates, vols)
def test_put_call_parity_black76(f, m, t, r, v) -> None:
    k = f * m
    c, p = black76_price(f, k, t, r, v, [True, False])
    assert c - p == pytest.approx(math.exp(-r * t) * (f - k), abs=1e-12 * (f + k))


def _fd_checks(price_fn, s, k, t, r, q, v, call) -> None:
    """Compare analytic greeks to central finite differences of the price.

    Bumps are scaled to the width of the distribution (spot: s * v * sqrt(t)), so that the
    truncation error is a fixed small fraction of the greek. Each tolerance is relative plus
    an absolute floor for the price's rounding (a few ulps of s + k) divided by the bump (and
    by its square for gamma): wherever a greek is not itself at rounding level, the relative
    part decides.
    """
    g = price_fn.greeks(s, k, t, r, q, v, call)
    price = float(g.price)
    noise = 8.0 * EPS * (s + k)  # rounding of one price evaluation, generously
    width = s * v * math.sqrt(t)
    hs = 1e-4 * width
    up = float(price_fn.price(s + hs, k, t, r, q, v, call))
    dn = float(price_fn.price(s - hs, k, t, r, q, v, call))
    assert close(float(g.delta), (up - dn) / (2 * hs), 1e-4, noise / hs)
    hg = 2e-3 * width  # a second difference needs a wider bump: rounding / h^2
    up = float(price_fn.price(s + hg, k, t, r, q, v, call))
    dn = float(price_fn.price(s - hg, k, t, r, q, v, call))
    gamma_fd = (up - 2.0 * price + dn) / (hg * hg)
    assert close(float(g.gamma), gamma_fd, 1e-4, 4.0 * noise / (hg * hg))
    hv = 1e-4 * v
    vega_fd = (
        float(price_fn.price(s, k, t, r, q, v + hv, call))
        - float(price_fn.price(s, k, t, r, q, v - hv, call))
    ) / (2 * hv)
    assert close(float(g.vega), vega_fd, 1e-4, noise / hv)
    ht = 1e-4 * t
    theta_fd = -(
        float(price_fn.price(s, k, t + ht, r, q, v, call))
        - float(price_fn.price(s, k, t - ht, r, q, v, call))
    ) / (2 * ht)
    assert close(float(g.theta), theta_fd, 1e-4, noise / ht)


class _BS:
    price = staticmethod(bs_price)
    greeks = staticmethod(bs_greeks)


class _B76:
    @staticmethod
    def price(f, k, t, r, _q, v, call):
        return black76_price(f, k, t, r, v, call)

    @staticmethod
    def greeks(f, k, t, r, _q, v, call):
        return black76_greeks(f, k, t, r, v, call)


@prop
@given(spots, moneyness, times, rates, divs, vols, rights)
def test_bs_greeks_match_finite_differences(s, m, t, r, q, v, call) -> None:
    _fd_checks(_BS, s, s * m, t, r, q, v, call)


@prop
@given(spots, moneyness, times, rates, vols, rights)
def test_black76_greeks_match_finite_differences(f, m, t, r, v, call) -> None:
    _fd_checks(_B76, f, f * m, t, r, 0.0, v, call)


@prop
@given(spots, moneyness, st.floats(1.0001, 1.2), times, rates, divs, vols)
def test_price_monotone_in_strike(s, m, bump, t, r, q, v) -> None:
    k1, k2 = s * m, s * m * bump
    c1, p1 = bs_price(s, k1, t, r, q, v, [True, False])
    c2, p2 = bs_price(s, k2, t, r, q, v, [True, False])
    tol = 1e-12 * (s + k2)
    assert c2 <= c1 + tol
    assert p2 >= p1 - tol
    c1, p1 = black76_price(s, k1, t, r, v, [True, False])
    c2, p2 = black76_price(s, k2, t, r, v, [True, False])
    assert c2 <= c1 + tol
    assert p2 >= p1 - tol


@prop
@given(spots, moneyness, times, rates, divs, vols, st.floats(1.0001, 1.5), rights)
def test_price_increasing_in_vol(s, m, t, r, q, v, bump, call) -> None:
    k = s * m
    tol = 1e-12 * (s + k)
    high_vol = min(v * bump, 3.0)
    assert bs_price(s, k, t, r, q, high_vol, call) >= bs_price(s, k, t, r, q, v, call) - tol
    assert black76_price(s, k, t, r, high_vol, call) >= black76_price(s, k, t, r, v, call) - tol


@prop
@given(spots, st.lists(moneyness, min_size=2, max_size=20), times, rates, divs, vols)
def test_strike_ladder_is_monotone_and_bounded(s, ms, t, r, q, v) -> None:
    # A whole vectorized ladder at once: calls fall and puts rise with the strike, and every
    # price lies between its discounted intrinsic value and its upper bound.
    k = s * np.sort(np.array(ms))
    call = bs_price(s, k, t, r, q, v, True)
    put = bs_price(s, k, t, r, q, v, False)
    tol = 1e-12 * (s + k[-1])
    assert np.all(np.diff(call) <= tol) and np.all(np.diff(put) >= -tol)
    sq, kr = s * math.exp(-q * t), k * math.exp(-r * t)
    assert np.all(call >= np.maximum(sq - kr, 0.0) - tol) and np.all(call <= sq + tol)
    assert np.all(put >= np.maximum(kr - sq, 0.0) - tol) and np.all(put <= kr + tol)


@prop
@given(spots, moneyness, times, rates, divs, vols, rights)
def test_black76_equals_bs_on_the_forward(s, m, t, r, q, v, call) -> None:
    # BS with dividend yield q on spot s is Black-76 on the forward f = s e^{(r-q)t}.
    k = s * m
    f = s * math.exp((r - q) * t)
    bs = bs_greeks(s, k, t, r, q, v, call)
    b76 = black76_greeks(f, k, t, r, v, call)
    tol = 1e-12 * (s + k)
    assert float(b76.price) == pytest.approx(float(bs.price), abs=tol)
    assert float(b76.vega) == pytest.approx(float(bs.vega), abs=tol, rel=1e-11)
    # dV/dF = dV/dS dS/dF and d2V/dF2 = d2V/dS2 (dS/dF)^2, with S = F e^{-(r-q)t}
    assert float(b76.delta) == pytest.approx(float(bs.delta) * s / f, abs=1e-13, rel=1e-11)
    assert float(b76.gamma) == pytest.approx(
        float(bs.gamma) * (s / f) ** 2, abs=1e-13 / s, rel=1e-10
    )
    # and Black-76 with the rate as its own dividend yield is BS on the forward as spot
    assert float(black76_price(f, k, t, r, v, call)) == pytest.approx(
        float(bs_price(f, k, t, r, r, v, call)), abs=tol
    )


@prop
@given(
    st.lists(st.tuples(spots, moneyness, times, rates, divs, vols, rights), min_size=1, max_size=30)
)
def test_vectorized_equals_elementwise(rows) -> None:
    s, m, t, r, q, v, call = (np.array(c) for c in zip(*rows, strict=True))
    k = s * m
    vec = bs_greeks(s, k, t, r, q, v, call)
    for i in range(len(rows)):
        one = bs_greeks(s[i], k[i], t[i], r[i], q[i], v[i], bool(call[i]))
        for a, b in zip(vec, one, strict=True):
            assert a[i] == pytest.approx(float(b), rel=1e-13, abs=1e-300)


# --------------------------------------------------------------------------------------------
# Edge cases, shapes, invalid inputs
# --------------------------------------------------------------------------------------------


def test_expired_and_zero_vol_are_discounted_intrinsic() -> None:
    # t = 0: intrinsic value; ITM delta +/-1, OTM 0; gamma = vega = theta = 0.
    g = bs_greeks(
        100.0, [90.0, 110.0, 90.0, 110.0], 0.0, 0.05, 0.02, 0.2, [True, True, False, False]
    )
    np.testing.assert_allclose(g.price, [10.0, 0.0, 0.0, 10.0])
    np.testing.assert_allclose(g.delta, [1.0, 0.0, 0.0, -1.0])
    assert not g.gamma.any() and not g.vega.any() and not g.theta.any()
    # vol = 0, t = 1: discounted forward intrinsic; delta = +/- e^{-qt} in the money.
    t, r, q = 1.0, 0.05, 0.02
    g = bs_greeks(100.0, [90.0, 120.0], t, r, q, 0.0, [True, False])
    sq, dq = 100.0 * math.exp(-q * t), math.exp(-q * t)
    np.testing.assert_allclose(g.price, [sq - 90 * math.exp(-r * t), 120 * math.exp(-r * t) - sq])
    np.testing.assert_allclose(g.delta, [dq, -dq])
    assert not g.gamma.any() and not g.vega.any()
    # theta of the deterministic price: d/dt of -(S e^{-qT} - K e^{-rT}) with T = t.
    np.testing.assert_allclose(g.theta[0], q * sq - r * 90 * math.exp(-r * t))
    # negative t is treated as expired
    assert float(bs_price(100.0, 90.0, -0.5, 0.05, 0.0, 0.2, True)) == pytest.approx(10.0)
    # Black-76 expired: intrinsic on the forward, delta +/- 1
    b = black76_greeks(100.0, 90.0, 0.0, 0.05, 0.2, True)
    assert (float(b.price), float(b.delta)) == (10.0, 1.0)


def test_invalid_inputs_propagate_nan() -> None:
    g = bs_greeks(
        [0.0, -1.0, 100.0, 100.0, np.nan, 100.0, 100.0],
        [100, 100, 0, -5, 100, 100, 100],
        [1, 1, 1, 1, 1, np.nan, 1],
        0.05,
        0.0,
        [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, np.nan],
        True,
    )
    for arr in g:
        assert np.isnan(arr).all()
    assert np.isnan(bs_price(100.0, 100.0, 1.0, np.nan, 0.0, 0.2, True))
    assert np.isnan(black76_price(100.0, 100.0, 1.0, 0.05, np.nan, True))
    # a valid element next to invalid ones is unaffected
    mixed = bs_price([100.0, -1.0], 100.0, 1.0, 0.05, 0.0, 0.2, True)
    assert mixed[0] == pytest.approx(10.450583572185565, rel=1e-13) and np.isnan(mixed[1])


def test_finite_for_extreme_finite_inputs() -> None:
    s = np.array([100.0, 100.0, 100.0, 100.0, 1e-3, 1e6])
    k = np.array([100.0, 1e-3, 1e6, 100.0, 100.0, 100.0])
    t = np.array([1e-300, 1.0, 1.0, 50.0, 1.0, 1.0])
    v = np.array([0.2, 1e-300, 5.0, 10.0, 0.2, 0.2])
    for call in (True, False):
        g = bs_greeks(s, k, t, 0.05, 0.02, v, call)
        for arr in g:
            assert np.isfinite(arr).all()
        b = black76_greeks(s, k, t, 0.05, v, call)
        for arr in b:
            assert np.isfinite(arr).all()


def test_zero_time_price_is_intrinsic_for_any_vol_and_rate() -> None:
    # Documented: once expired (t <= 0) the price is the plain intrinsic value, whatever the
    # vol, rate and dividend; Black-76 likewise on the forward.
    k = np.array([80.0, 100.0, 120.0])
    for t in (0.0, -0.25):
        for v in (0.0, 0.2, 3.0):
            np.testing.assert_array_equal(bs_price(100.0, k, t, 0.05, 0.02, v, True), [20, 0, 0])
            np.testing.assert_array_equal(bs_price(100.0, k, t, 0.05, 0.02, v, False), [0, 0, 20])
            np.testing.assert_array_equal(black76_price(100.0, k, t, 0.05, v, False), [0, 0, 20])


def test_shapes_and_broadcasting() -> None:
    out = bs_greeks(
        np.full((3, 1), 100.0), np.array([90.0, 100.0, 110.0, 120.0]), 1.0, 0.05, 0.0, 0.2, True
    )
    assert isinstance(out, PriceGreeks)
    for arr in out:
        assert arr.shape == (3, 4) and arr.dtype == np.float64
    scalar = bs_price(100.0, 100.0, 1.0, 0.05, 0.0, 0.2, True)
    assert scalar.shape == () and scalar.dtype == np.float64
    calls = bs_price(100.0, 100.0, 1.0, 0.05, 0.0, 0.2, np.array([[True], [False]]))
    assert calls.shape == (2, 1)
    assert bs_price([], 100.0, 1.0, 0.05, 0.0, 0.2, True).shape == (0,)
