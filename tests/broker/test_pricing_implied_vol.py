"""Tests for broker.pricing's implied volatility: the true vol to within 1e-10, or NaN.

The contract (module docstring of broker.pricing): a returned vol is within vol_tol of the vol
that produced the price; where the price cannot pin the vol down that well (its own rounding,
4 ulps of its largest term, divided by vega, exceeds vol_tol) the answer is NaN, never a wrong
number. The properties below check both halves over wide ranges: every number is right, and
every NaN is one the documented rule allows.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from broker.pricing import (
    IMPLIED_VOL_TOL,
    black76_greeks,
    black76_price,
    bs_greeks,
    bs_price,
    implied_vol_black76,
    implied_vol_bs,
)

EPS = float(np.finfo(np.float64).eps)
RULE_ULPS = 4.0  # the documented rounding of a price, in ulps of its largest term
# A price this small comes from normal CDF values near underflow, which no double-precision
# pricer computes to full relative precision: the "true vol" of such a price is not its vol.
TINY_PRICE = 1e-250

prop = settings(max_examples=300, deadline=None)

# Wide ranges: vols up to 500 %, ten years, negative rates, strikes 0.2-5 x spot.
spots = st.floats(1.0, 1e5)
moneyness = st.floats(0.2, 5.0)
times = st.floats(1e-3, 10.0)
rates = st.floats(-0.02, 0.1)
divs = st.floats(0.0, 0.1)
vols = st.floats(0.01, 5.0)
rights = st.booleans()


def _n_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def textbook_bs(s: float, k: float, t: float, r: float, q: float, v: float, call: bool) -> float:
    """Price with the textbook formula (d1 from ln(S/K) + (r - q + v^2/2) t), a second pricer."""
    sd = v * math.sqrt(t)
    d1 = (math.log(s / k) + (r - q + 0.5 * v * v) * t) / sd
    d2 = d1 - sd
    sq, kr = s * math.exp(-q * t), k * math.exp(-r * t)
    if call:
        return sq * _n_cdf(d1) - kr * _n_cdf(d2)
    return kr * _n_cdf(-d2) - sq * _n_cdf(-d1)


def check_true_vol_or_justified_nan(
    iv: float,
    vol: float,
    price: float,
    fwd_pv: float,
    strike_pv: float,
    vega: float,
    call: bool,
    reprice: float,
) -> None:
    """Assert the contract for one option priced at `vol` (reprice: our price at iv).

    fwd_pv = S e^{-qt} (F e^{-rt}), strike_pv = K e^{-rt}; vega is at the true vol.
    """
    larger = max(fwd_pv, strike_pv)
    intrinsic = max(fwd_pv - strike_pv, 0.0) if call else max(strike_pv - fwd_pv, 0.0)
    in_the_money = intrinsic > 0.0
    scale = larger if in_the_money else price  # M of the documented rule
    if math.isnan(iv):
        # Every NaN must be one the documented rule allows. A factor 2 of slack on the
        # identifiability test: it is evaluated at the solution, not at the true vol.
        time_value = price - intrinsic
        upper = fwd_pv if call else strike_pv
        assert (
            RULE_ULPS * EPS * scale > 0.5 * IMPLIED_VOL_TOL * vega
            or time_value <= 2.0 * RULE_ULPS * EPS * larger
            or price >= (1.0 - 2.0 * RULE_ULPS * EPS) * upper
            or time_value < 1e-300 * math.sqrt(fwd_pv * strike_pv)
        ), f"NaN for an identifiable vol {vol} (vega {vega}, price {price})"
        return
    assert iv > 0.0
    # It reprices the input to within the price's own rounding (a few ulps of its largest
    # term; measured: 2.2 ulps at most) ...
    assert abs(reprice - price) <= RULE_ULPS * EPS * larger
    # ... and, wherever the price is an accurate price of `vol`, it IS that vol.
    if price >= TINY_PRICE:
        assert abs(iv - vol) <= IMPLIED_VOL_TOL, f"wrong number: {iv} for {vol}"


# --------------------------------------------------------------------------------------------
# Never a wrong number, and no NaN the rule does not allow
# --------------------------------------------------------------------------------------------


@prop
@given(spots, moneyness, times, rates, divs, vols, rights, st.booleans())
def test_bs_implied_vol_is_the_true_vol_or_a_justified_nan(
    s, m, t, r, q, v, call, textbook
) -> None:
    k = s * m
    price = (
        textbook_bs(s, k, t, r, q, v, call) if textbook else float(bs_price(s, k, t, r, q, v, call))
    )
    iv = float(implied_vol_bs(price, s, k, t, r, q, call))
    vega = float(bs_greeks(s, k, t, r, q, v, call).vega)
    reprice = float(bs_price(s, k, t, r, q, iv, call))
    fwd_pv, strike_pv = s * math.exp(-q * t), k * math.exp(-r * t)
    check_true_vol_or_justified_nan(iv, v, price, fwd_pv, strike_pv, vega, call, reprice)


@prop
@given(spots, moneyness, times, rates, vols, rights)
def test_black76_implied_vol_is_the_true_vol_or_a_justified_nan(f, m, t, r, v, call) -> None:
    k = f * m
    price = float(black76_price(f, k, t, r, v, call))
    iv = float(implied_vol_black76(price, f, k, t, r, call))
    vega = float(black76_greeks(f, k, t, r, v, call).vega)
    reprice = float(black76_price(f, k, t, r, iv, call))
    disc = math.exp(-r * t)
    check_true_vol_or_justified_nan(iv, v, price, f * disc, k * disc, vega, call, reprice)


@prop
@given(
    st.floats(100.0, 10_000.0),
    st.floats(0.3, 0.999),
    st.floats(1.0 / 365.0, 0.5),
    st.floats(0.0, 0.08),
    st.floats(0.0, 0.05),
    st.floats(0.05, 1.0),
    rights,
)
def test_deep_in_the_money_gives_the_true_vol_or_a_justified_nan(s, m, t, r, q, v, call) -> None:
    # Where the old solver returned wrong numbers: time value near rounding level of the price.
    k = s * m if call else s / m
    price = float(bs_price(s, k, t, r, q, v, call))
    iv = float(implied_vol_bs(price, s, k, t, r, q, call))
    vega = float(bs_greeks(s, k, t, r, q, v, call).vega)
    reprice = float(bs_price(s, k, t, r, q, iv, call))
    fwd_pv, strike_pv = s * math.exp(-q * t), k * math.exp(-r * t)
    check_true_vol_or_justified_nan(iv, v, price, fwd_pv, strike_pv, vega, call, reprice)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(spots, moneyness, times, rates, divs, vols, rights), min_size=1, max_size=30)
)
def test_whole_arrays_give_the_true_vol_or_nan_elementwise(rows) -> None:
    s, m, t, r, q, v, call = (np.array(c) for c in zip(*rows, strict=True))
    k = s * m
    price = bs_price(s, k, t, r, q, v, call)
    iv = implied_vol_bs(price, s, k, t, r, q, call)
    assert iv.shape == price.shape
    for i in range(len(rows)):
        one = float(implied_vol_bs(price[i], s[i], k[i], t[i], r[i], q[i], bool(call[i])))
        assert iv[i] == pytest.approx(one, rel=1e-13, nan_ok=True)
    good = ~np.isnan(iv) & (price >= TINY_PRICE)
    assert np.all(np.abs(iv[good] - v[good]) <= IMPLIED_VOL_TOL)


@pytest.mark.parametrize("model", ["bs", "black76"])
def test_a_hundred_thousand_random_options_true_vol_or_justified_nan(model: str) -> None:
    # The property above, vectorized over a seeded sample far larger than hypothesis draws.
    rng = np.random.default_rng(20240611)
    n = 100_000
    s = np.exp(rng.uniform(math.log(1.0), math.log(1e5), n))
    k = s * np.exp(rng.uniform(math.log(0.2), math.log(5.0), n))
    t = np.exp(rng.uniform(math.log(1e-3), math.log(10.0), n))
    r = rng.uniform(-0.02, 0.1, n)
    v = np.exp(rng.uniform(math.log(0.01), math.log(5.0), n))
    call = rng.random(n) < 0.5
    if model == "bs":
        q = rng.uniform(0.0, 0.1, n)
        g = bs_greeks(s, k, t, r, q, v, call)
        iv = implied_vol_bs(g.price, s, k, t, r, q, call)
        reprice = bs_price(s, k, t, r, q, np.nan_to_num(iv, nan=0.2), call)
        fwd_pv = s * np.exp(-q * t)
    else:
        g = black76_greeks(s, k, t, r, v, call)
        iv = implied_vol_black76(g.price, s, k, t, r, call)
        reprice = black76_price(s, k, t, r, np.nan_to_num(iv, nan=0.2), call)
        fwd_pv = s * np.exp(-r * t)
    strike_pv = k * np.exp(-r * t)
    price, larger = g.price, np.maximum(fwd_pv, strike_pv)
    intrinsic = np.maximum(np.where(call, fwd_pv - strike_pv, strike_pv - fwd_pv), 0.0)
    scale = np.where(intrinsic > 0.0, larger, price)
    solved = ~np.isnan(iv)
    accurate = solved & (price >= TINY_PRICE)
    assert np.all(np.abs(iv[accurate] - v[accurate]) <= IMPLIED_VOL_TOL)
    assert np.all(np.abs(reprice - price)[solved] <= RULE_ULPS * EPS * larger[solved])
    with np.errstate(divide="ignore", invalid="ignore"):
        allowed = (
            (RULE_ULPS * EPS * scale > 0.5 * IMPLIED_VOL_TOL * g.vega)
            | (price - intrinsic <= 2.0 * RULE_ULPS * EPS * larger)
            | (price >= (1.0 - 2.0 * RULE_ULPS * EPS) * np.where(call, fwd_pv, strike_pv))
            | (price - intrinsic < 1e-300 * np.sqrt(fwd_pv * strike_pv))
        )
    assert np.all(allowed[~solved])
    assert accurate.sum() > n // 3  # and the sample is not mostly NaN


# --------------------------------------------------------------------------------------------
# Where the price pins the vol down, it comes back (SPX-like ranges, as in bench/pricing.py)
# --------------------------------------------------------------------------------------------

spx_spots = st.floats(10.0, 10_000.0)
spx_moneyness = st.floats(0.5, 2.0)
spx_times = st.floats(1.0 / 365.0, 3.0)
spx_vols = st.floats(0.05, 1.5)


@prop
@given(spx_spots, spx_moneyness, spx_times, st.floats(0.0, 0.08), divs, spx_vols, rights)
def test_bs_roundtrip_where_the_out_of_the_money_price_is_quoted(s, m, t, r, q, v, call) -> None:
    k = s * m
    price = float(bs_price(s, k, t, r, q, v, call))
    other = float(bs_price(s, k, t, r, q, v, not call))
    vega = float(bs_greeks(s, k, t, r, q, v, call).vega)
    assume(min(price, other) >= 0.05 and vega >= 1e-4 * s)
    iv = float(implied_vol_bs(price, s, k, t, r, q, call))
    assert abs(iv - v) <= IMPLIED_VOL_TOL


@prop
@given(spx_spots, spx_moneyness, spx_times, st.floats(0.0, 0.08), spx_vols, rights)
def test_black76_roundtrip_where_the_out_of_the_money_price_is_quoted(f, m, t, r, v, call) -> None:
    k = f * m
    price = float(black76_price(f, k, t, r, v, call))
    other = float(black76_price(f, k, t, r, v, not call))
    vega = float(black76_greeks(f, k, t, r, v, call).vega)
    assume(min(price, other) >= 0.05 and vega >= 1e-4 * f)
    iv = float(implied_vol_black76(price, f, k, t, r, call))
    assert abs(iv - v) <= IMPLIED_VOL_TOL


# --------------------------------------------------------------------------------------------
# No volatility fits: NaN
# --------------------------------------------------------------------------------------------


@prop
@given(spots, spx_moneyness, spx_times, rates, divs, st.floats(1e-6, 0.5), rights)
def test_prices_outside_the_no_arbitrage_bounds_give_nan(s, m, t, r, q, frac, call) -> None:
    k = s * m
    sq, kr = s * math.exp(-q * t), k * math.exp(-r * t)
    intrinsic = max(sq - kr, 0.0) if call else max(kr - sq, 0.0)
    upper = sq if call else kr
    prices = [intrinsic - frac * s, intrinsic, upper, upper * (1.0 + frac)]
    assert np.isnan(implied_vol_bs(prices, s, k, t, r, q, call)).all()
    f, disc = s * math.exp((r - q) * t), math.exp(-r * t)
    intrinsic76 = disc * (max(f - k, 0.0) if call else max(k - f, 0.0))
    upper76 = disc * (f if call else k)
    prices76 = [intrinsic76 - frac * s, intrinsic76, upper76, upper76 * (1.0 + frac)]
    assert np.isnan(implied_vol_black76(prices76, f, k, t, r, call)).all()


def test_zero_or_negative_time_gives_nan_for_any_price() -> None:
    # Documented: an expired option (t <= 0) has no implied vol, not even at its intrinsic.
    prices = [0.0, 1e-3, 10.0, 20.0, 50.0]
    for t in (0.0, -1e-9, -0.5):
        assert np.isnan(implied_vol_bs(prices, 100.0, 80.0, t, 0.05, 0.01, True)).all()
        assert np.isnan(implied_vol_black76(prices, 100.0, 120.0, t, 0.05, False)).all()


def test_invalid_inputs_give_nan_elementwise() -> None:
    args = (100.0, 100.0, 1.0, 0.05, 0.0, True)
    assert np.isnan(implied_vol_bs(np.nan, *args))
    assert np.isnan(implied_vol_bs(-1.0, *args))
    assert np.isnan(implied_vol_bs(np.inf, *args))
    assert np.isnan(implied_vol_bs(10.0, 100.0, 100.0, 1.0, 0.05, np.nan, True))
    assert np.isnan(implied_vol_bs(10.0, 100.0, -100.0, 1.0, 0.05, 0.0, True))
    assert np.isnan(implied_vol_black76(10.0, -100.0, 100.0, 1.0, 0.05, True))
    assert np.isnan(implied_vol_black76(10.0, 100.0, 100.0, np.inf, 0.05, True))
    # a valid element next to invalid ones is unaffected
    good = float(bs_price(100.0, 100.0, 1.0, 0.05, 0.0, 0.2, True))
    out = implied_vol_bs([good, np.nan, -1.0], *args)
    assert out[0] == pytest.approx(0.2, abs=1e-12) and np.isnan(out[1:]).all()


def test_subnormal_time_value_gives_nan() -> None:
    # An out-of-the-money price below the smallest normal double has lost significant bits.
    out = implied_vol_bs([1e-310, 5e-324], 100.0, 200.0, 0.1, 0.0, 0.0, True)
    assert np.isnan(out).all()


# --------------------------------------------------------------------------------------------
# Not identifiable to vol_tol: NaN; vol_tol trades accuracy for coverage
# --------------------------------------------------------------------------------------------


def test_deep_in_the_money_spx_option_gives_nan_not_a_wrong_number() -> None:
    # From the benchmark chain: a 7-day SPX call 25 % in the money (vol 29.4 % on the smile).
    # Its vega is 3.6e-9: one ulp of its 4500-point terms moves the vol by 3e-4. The old
    # solver returned a vol 5e-4 off here.
    s, k, t, r, q, v = 4500.0, 3380.4, 7.0 / 365.0, 0.05, 0.015, 0.29385556783087957
    price = float(bs_price(s, k, t, r, q, v, True))
    vega = float(bs_greeks(s, k, t, r, q, v, True).vega)
    assert RULE_ULPS * EPS * s / vega > 1e-3  # not identifiable even to 1e-3
    assert np.isnan(implied_vol_bs(price, s, k, t, r, q, True))
    assert np.isnan(implied_vol_bs(price, s, k, t, r, q, True, vol_tol=1e-3))
    iv = float(implied_vol_bs(price, s, k, t, r, q, True, vol_tol=1e-2))
    assert abs(iv - v) <= 1e-2


def test_vol_tol_trades_accuracy_for_coverage() -> None:
    # From the benchmark chain: a 7-day SPX put 8 % in the money (vol 12 % on the smile),
    # vega 0.002 per 1.00 of vol: its price pins the vol down to ~2e-9, not to 1e-10.
    s, k, t, r, q, v = 4500.0, 4880.7, 7.0 / 365.0, 0.05, 0.015, 0.11985755783569822
    price = float(bs_price(s, k, t, r, q, v, False))
    vega = float(bs_greeks(s, k, t, r, q, v, False).vega)
    uncertainty = RULE_ULPS * EPS * k * math.exp(-r * t) / vega
    assert 1e-9 < uncertainty < 1e-8
    assert np.isnan(implied_vol_bs(price, s, k, t, r, q, False))
    for tol in (1e-8, 1e-4):
        iv = float(implied_vol_bs(price, s, k, t, r, q, False, vol_tol=tol))
        assert abs(iv - v) <= tol
    forward = s * math.exp((r - q) * t)
    assert np.isnan(implied_vol_black76(price, forward, k, t, r, False))
    iv76 = float(implied_vol_black76(price, forward, k, t, r, False, vol_tol=1e-8))
    assert abs(iv76 - v) <= 1e-8


@pytest.mark.parametrize("tol", [0.0, -1e-10, math.nan])
def test_vol_tol_must_be_positive(tol: float) -> None:
    with pytest.raises(ValueError, match="vol_tol"):
        implied_vol_bs(10.0, 100.0, 100.0, 1.0, 0.05, 0.0, True, vol_tol=tol)
    with pytest.raises(ValueError, match="vol_tol"):
        implied_vol_black76(10.0, 100.0, 100.0, 1.0, 0.05, True, vol_tol=tol)


def test_near_the_upper_bound_the_vol_is_not_identifiable() -> None:
    # Vol 500 % over four years: the put is worth its discounted strike to 6 digits, and a
    # price ulp moves the vol by more than 1e-10.
    s, k, t, r = 1.0, 1.0, 4.0, 0.0625
    price = float(bs_price(s, k, t, r, 0.0, 5.0, False))
    assert price == pytest.approx(k * math.exp(-r * t), rel=1e-5)
    assert np.isnan(implied_vol_bs(price, s, k, t, r, 0.0, False))
    iv = float(implied_vol_bs(price, s, k, t, r, 0.0, False, vol_tol=1e-6))
    assert abs(iv - 5.0) <= 1e-6


# --------------------------------------------------------------------------------------------
# Extremes, shapes and the fallback iteration
# --------------------------------------------------------------------------------------------


def test_extremes_come_back_exactly_or_as_nan() -> None:
    # Deep OTM, tiny prices, very high vols, exactly at the money, deep ITM.
    s, t, r, q = 100.0, 0.5, 0.03, 0.01
    k = np.array([20.0, 50.0, 100.0 * math.exp((r - q) * t), 150.0, 400.0, 100.0, 100.0])
    v = np.array([1.5, 0.3, 0.2, 0.1, 2.0, 4.0, 0.01])
    for call in (True, False):
        price = bs_price(s, k, t, r, q, v, call)
        iv = implied_vol_bs(price, s, k, t, r, q, call)
        vega = bs_greeks(s, k, t, r, q, v, call).vega
        solved = ~np.isnan(iv)
        np.testing.assert_allclose(iv[solved], v[solved], rtol=0.0, atol=IMPLIED_VOL_TOL)
        # the out-of-the-money side always comes back (it carries the whole price)
        otm = (k > 100.0) if call else (k < 100.0)
        assert solved[otm].all()
        # the NaNs are the deep in-the-money ones whose vega is at rounding level
        assert np.all(vega[~solved] < RULE_ULPS * EPS * max(s, k.max()) / IMPLIED_VOL_TOL)


def test_shapes_and_broadcasting() -> None:
    iv = implied_vol_bs(np.full((2, 3), 10.0), 100.0, 100.0, 1.0, 0.05, 0.0, True)
    assert iv.shape == (2, 3) and iv.dtype == np.float64
    calls = implied_vol_black76(10.0, 100.0, 100.0, 1.0, 0.05, np.array([[True], [False]]))
    assert calls.shape == (2, 1)
    assert implied_vol_bs([], 100.0, 100.0, 1.0, 0.05, 0.0, True).shape == (0,)
    assert implied_vol_bs(10.0, 100.0, 100.0, 1.0, 0.05, 0.0, True).shape == ()


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
