"""Tests for broker.pricing: closed-form BSM / Black-76 prices, greeks and implied volatility."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from broker.pricing import (
    PriceGreeks,
    black76_greeks,
    black76_price,
    bs_greeks,
    bs_price,
    implied_vol_black76,
    implied_vol_bs,
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
    """Compare analytic greeks to central differences of the price (and of delta for gamma)."""
    g = price_fn.greeks(s, k, t, r, q, v, call)
    hs = 1e-4 * s * v * math.sqrt(t)  # spot bump scaled to the width of the distribution
    up, dn = (
        price_fn.price(s + hs, k, t, r, q, v, call),
        price_fn.price(s - hs, k, t, r, q, v, call),
    )
    delta_fd = (up - dn) / (2 * hs)
    assert close(float(g.delta), float(delta_fd), 1e-4, 1e-7)
    d_up = price_fn.greeks(s + hs, k, t, r, q, v, call).delta
    d_dn = price_fn.greeks(s - hs, k, t, r, q, v, call).delta
    gamma_fd = (d_up - d_dn) / (2 * hs)
    assert close(float(g.gamma), float(gamma_fd), 1e-4, 1e-7 / s)
    hv = 1e-4 * v
    vega_fd = (
        price_fn.price(s, k, t, r, q, v + hv, call) - price_fn.price(s, k, t, r, q, v - hv, call)
    ) / (2 * hv)
    assert close(float(g.vega), float(vega_fd), 1e-4, 1e-7 * s)
    ht = 1e-4 * t
    theta_fd = -(
        price_fn.price(s, k, t + ht, r, q, v, call) - price_fn.price(s, k, t - ht, r, q, v, call)
    ) / (2 * ht)
    assert close(float(g.theta), float(theta_fd), 1e-4, 1e-7 * s / t)


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


@prop
@given(spots, moneyness, times, rates, divs, vols, st.floats(1.0001, 1.5), rights)
def test_price_increasing_in_vol(s, m, t, r, q, v, bump, call) -> None:
    k = s * m
    low = bs_price(s, k, t, r, q, v, call)
    high = bs_price(s, k, t, r, q, min(v * bump, 3.0), call)
    assert high >= low - 1e-12 * (s + k)


@prop
@given(spots, moneyness, times, rates, divs, vols, rights)
def test_black76_equals_bs_on_the_forward(s, m, t, r, q, v, call) -> None:
    k = s * m
    f = s * math.exp((r - q) * t)
    bs = bs_greeks(s, k, t, r, q, v, call)
    b76 = black76_greeks(f, k, t, r, v, call)
    tol = 1e-12 * (s + k)
    assert float(b76.price) == pytest.approx(float(bs.price), abs=tol)
    assert float(b76.vega) == pytest.approx(float(bs.vega), abs=tol, rel=1e-11)
    # dV/dF = dV/dS * dS/dF with S = F e^{-(r-q)t}
    assert float(b76.delta) == pytest.approx(float(bs.delta) * s / f, abs=1e-13, rel=1e-11)


def _iv_case(s, k, t, r, q, v, call) -> tuple[float, float]:
    """Return (price, OTM-equivalent price) from the reference pricer."""
    price = ref_bs(s, k, t, r, q, v, call)[0]
    other = ref_bs(s, k, t, r, q, v, not call)[0]
    return price, min(price, other)


@prop
@given(spots, moneyness, times, rates, divs, vols, rights)
def test_implied_vol_bs_roundtrip(s, m, t, r, q, v, call) -> None:
    k = s * m
    price, otm = _iv_case(s, k, t, r, q, v, call)
    vega = ref_bs(s, k, t, r, q, v, call)[3]
    # Only where the price pins the vol down: time value >= 0.05 and a non-negligible vega.
    assume(price >= 0.05 and otm >= 0.05 and vega >= 1e-4 * s)
    iv = float(implied_vol_bs(price, s, k, t, r, q, call))
    assert abs(iv - v) <= 1e-10
    assert abs(float(bs_price(s, k, t, r, q, iv, call)) - price) <= 1e-10 * price


@prop
@given(spots, moneyness, times, rates, vols, rights)
def test_implied_vol_black76_roundtrip(f, m, t, r, v, call) -> None:
    k = f * m
    price = float(black76_price(f, k, t, r, v, call))
    other = float(black76_price(f, k, t, r, v, not call))
    vega = float(black76_greeks(f, k, t, r, v, call).vega)
    assume(price >= 0.05 and min(price, other) >= 0.05 and vega >= 1e-4 * f)
    iv = float(implied_vol_black76(price, f, k, t, r, call))
    assert abs(iv - v) <= 1e-10
    assert abs(float(black76_price(f, k, t, r, iv, call)) - price) <= 1e-10 * price


@prop
@given(spots, moneyness, times, rates, divs, st.floats(1e-6, 0.5), rights)
def test_implied_vol_nan_outside_bounds(s, m, t, r, q, frac, call) -> None:
    k = s * m
    sq, kr = s * math.exp(-q * t), k * math.exp(-r * t)
    intrinsic = max(sq - kr, 0.0) if call else max(kr - sq, 0.0)
    upper = sq if call else kr
    below = intrinsic - frac * s
    above = upper * (1.0 + frac)
    out = implied_vol_bs([below, above, intrinsic, upper], s, k, t, r, q, call)
    assert np.isnan(out).all()
    f = s * math.exp((r - q) * t)
    out76 = implied_vol_black76([below, above], f, k, t, r, call)
    assert np.isnan(out76).all()


@prop
@given(
    st.lists(st.tuples(spots, moneyness, times, rates, divs, vols, rights), min_size=1, max_size=30)
)
def test_vectorized_equals_elementwise(rows) -> None:
    s, m, t, r, q, v, call = (np.array(c) for c in zip(*rows, strict=True))
    k = s * m
    vec = bs_greeks(s, k, t, r, q, v, call)
    price = vec.price
    iv_vec = implied_vol_bs(price, s, k, t, r, q, call)
    for i in range(len(rows)):
        one = bs_greeks(s[i], k[i], t[i], r[i], q[i], v[i], bool(call[i]))
        for a, b in zip(vec, one, strict=True):
            assert a[i] == pytest.approx(float(b), rel=1e-13, abs=1e-300)
        iv_one = implied_vol_bs(price[i], s[i], k[i], t[i], r[i], q[i], bool(call[i]))
        assert iv_vec[i] == pytest.approx(float(iv_one), rel=1e-13, nan_ok=True)


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


def test_implied_vol_invalid_inputs() -> None:
    args = (100.0, 100.0, 1.0, 0.05, 0.0, True)
    assert np.isnan(implied_vol_bs(np.nan, *args))
    assert np.isnan(implied_vol_bs(-1.0, *args))
    assert np.isnan(implied_vol_bs(10.0, 100.0, 100.0, 0.0, 0.05, 0.0, True))  # expired
    assert np.isnan(implied_vol_bs(10.0, 100.0, 100.0, 1.0, 0.05, np.nan, True))
    assert np.isnan(implied_vol_black76(10.0, -100.0, 100.0, 1.0, 0.05, True))


def test_implied_vol_extremes() -> None:
    # deep OTM, tiny prices, very high vols and exactly at the money all come back
    s, t, r, q = 100.0, 0.5, 0.03, 0.01
    k = np.array([20.0, 50.0, 100.0 * math.exp((r - q) * t), 150.0, 400.0, 100.0, 100.0])
    v = np.array([1.5, 0.3, 0.2, 0.1, 2.0, 4.0, 0.01])
    for call in (True, False):
        price = bs_price(s, k, t, r, q, v, call)
        iv = implied_vol_bs(price, s, k, t, r, q, call)
        back = bs_price(s, k, t, r, q, iv, call)
        otm = price < 0.5 * s  # high-vol ITM puts at K=400 are at the discounted strike bound
        np.testing.assert_allclose(back[otm], price[otm], rtol=1e-10)


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
    iv = implied_vol_bs(np.full((2, 3), 10.0), 100.0, 100.0, 1.0, 0.05, 0.0, True)
    assert iv.shape == (2, 3)
    assert implied_vol_bs([], 100.0, 100.0, 1.0, 0.05, 0.0, True).shape == (0,)


@prop
@given(
    st.floats(1.0, 1e5),
    st.floats(0.2, 5.0),
    st.floats(1e-3, 10.0),
    st.floats(-0.02, 0.1),
    st.floats(0.0, 0.1),
    st.floats(0.01, 5.0),
    rights,
)
def test_implied_vol_reprices_over_wide_ranges(s, m, t, r, q, v, call) -> None:
    # Wherever a vol comes back, it reproduces the price's time value (beyond the narrow
    # ranges of the roundtrip test: vols up to 500 %, ten years, negative rates).
    k = s * m
    price = float(bs_price(s, k, t, r, q, v, call))
    intrinsic = max(s * math.exp(-q * t) - k * math.exp(-r * t), 0.0)
    if not call:
        intrinsic = max(k * math.exp(-r * t) - s * math.exp(-q * t), 0.0)
    iv = float(implied_vol_bs(price, s, k, t, r, q, call))
    if math.isnan(iv):
        # only where the time value is lost in rounding or the price sits at a bound
        assert price - intrinsic <= 1e-9 * (s + k) or price >= 0.999999 * max(s, k)
        return
    assert iv > 0.0
    back = float(bs_price(s, k, t, r, q, iv, call))
    assert abs(back - price) <= 1e-9 * max(price - intrinsic, 1e-12 * (s + k)) + 1e-12 * (s + k)


def test_fallback_solver_converges_from_poor_starts() -> None:
    # The safeguarded iteration finishes whatever the main path leaves (extreme inputs); it
    # must converge from any starting point, including NaN and absurd ones.
    from broker.pricing import _nbc, _safeguarded

    rng = np.random.default_rng(7)
    n = 3000
    x = -np.abs(rng.normal(0.0, 1.0, n)) * rng.choice([0.0, 1e-6, 0.01, 1.0, 3.0], n)
    s = np.exp(rng.uniform(math.log(1e-3), math.log(8.0), n))
    ex = np.exp(0.5 * x)
    beta = _nbc(x, s, ex, 1.0 / ex)
    keep = (beta > 1e-300) & (beta < ex * (1.0 - 1e-12))
    x, s, beta, ex = x[keep], s[keep], beta[keep], ex[keep]
    for start in (np.full(x.size, np.nan), s * rng.uniform(0.1, 10.0, x.size), 1e-8, 50.0, 1e100):
        got = _safeguarded(x, beta, np.broadcast_to(start, x.shape).copy(), ex, 1.0 / ex)
        np.testing.assert_allclose(got, s, rtol=1e-10)
