"""broker.pricing_scalar gives the numbers of broker.pricing, one option at a time.

The vector path is the reference: prices and greeks must agree to 1e-12 relative (1e-12
absolute near zero) and be NaN exactly where it gives NaN, for ordinary and edge-case inputs
(expired, tiny t, zero or NaN vol, non-positive or NaN spot and strike, deep in or out of the
money, puts and calls).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from scipy.special import ndtr

from broker.pricing import PriceGreeks, black76_greeks, bs_greeks
from broker.pricing_scalar import black76_greeks_one, bs_greeks_one, norm_cdf

NAN = math.nan


def agree(scalar: float, vector: float) -> bool:
    """Return whether two results agree: both NaN, or within 1e-12 relative or absolute."""
    if math.isnan(vector) or math.isnan(scalar):
        return math.isnan(vector) and math.isnan(scalar)
    if scalar == vector:  # also equal infinities
        return True
    return abs(scalar - vector) <= 1e-12 * max(abs(scalar), abs(vector), 1.0)


def assert_agree(scalar: tuple[float, ...], vector: tuple[float, ...]) -> None:
    assert all(isinstance(x, float) for x in scalar)
    names = ("price", "delta", "gamma", "vega", "theta")
    for name, s, v in zip(names, scalar, vector, strict=True):
        assert agree(s, v), f"{name}: scalar {s!r} vs vector {v!r}"


def edgy(ordinary: st.SearchStrategy[float], *edges: float) -> st.SearchStrategy[float]:
    """Mostly ordinary values, sometimes one of the edge cases."""
    return st.one_of(ordinary, ordinary, ordinary, st.sampled_from(edges))


prices = edgy(st.floats(1e-3, 1e5), 0.0, -0.0, -1.0, NAN, 1e-300, 1e300, math.inf)
years = edgy(st.floats(0.0, 5.0), 0.0, -0.0, -0.5, 1e-12, 1e-300, 5e-324, NAN, math.inf)
vols = edgy(st.floats(0.0, 5.0), 0.0, -0.2, 1e-60, 1e-110, NAN, 50.0)
rates = edgy(st.floats(-0.1, 0.2), 0.0, NAN)


def vector(g: PriceGreeks) -> tuple[float, ...]:
    """Return the greeks of a 1-element (or 0-d) batch as floats."""
    return tuple(float(np.ravel(x)[0]) for x in g)


@given(prices, prices, years, rates, rates, vols, st.booleans())
@example(4500.0, 4500.0, 0.0, 0.02, 0.018, 0.2, True)  # expired at the money
@example(4500.0, 4300.0, 0.0, 0.02, 0.018, 0.2, True)  # expired in the money
@example(4500.0, 4300.0, 0.1, 0.02, 0.018, 0.0, False)  # zero vol
@example(4500.0, 4500.01, 1e-10, 0.02, 0.018, 0.2, True)  # tiny t, cheap and near the money
@example(4500.0, 9000.0, 0.05, 0.02, 0.018, 0.1, True)  # deep out of the money
@example(4500.0, 9000.0, 0.05, 0.02, 0.018, 0.1, False)  # deep in the money
@example(4500.0, 4400.0, 1.0, -1000.0, 0.0, 0.2, True)  # e^{-rt} overflows: vector fallback
@example(4500.0, 1e-300, 100.0, 10.0, 0.0, 0.2, True)  # K e^{-rt} underflows to 0
def test_bs_greeks_one_matches_the_vector_path(
    spot: float, strike: float, t: float, rate: float, div: float, vol: float, call: bool
) -> None:
    with np.errstate(all="ignore"):
        expected = vector(bs_greeks([spot], [strike], [t], [rate], [div], [vol], [call]))
    assert_agree(bs_greeks_one(spot, strike, t, rate, div, vol, call), expected)


@given(prices, prices, years, rates, vols, st.booleans())
@example(20.0, 25.0, 0.0, 0.02, 0.9, True)
@example(20.0, 15.0, 0.0, 0.02, 0.9, True)
@example(20.0, 15.0, 0.1, 0.02, NAN, False)
@example(20.0, 15.0, 0.1, 0.02, 0.0, False)
@example(20.0, 60.0, 1e-9, 0.02, 2.0, True)
@example(-20.0, 15.0, 0.1, 0.02, 0.9, True)
def test_black76_greeks_one_matches_the_vector_path(
    forward: float, strike: float, t: float, rate: float, vol: float, call: bool
) -> None:
    with np.errstate(all="ignore"):
        expected = vector(black76_greeks([forward], [strike], [t], [rate], [vol], [call]))
    assert_agree(black76_greeks_one(forward, strike, t, rate, vol, call), expected)


@pytest.mark.parametrize(
    "x", [-40.0, -38.5, -30.0, -20.0, -8.3, -1.0, -0.3, 0.0, 0.3, 1.0, 8.3, 38.0, NAN]
)
def test_norm_cdf_is_the_vector_paths_ndtr_far_into_the_tails(x: float) -> None:
    expected = float(ndtr(np.array([x]))[0])
    assert norm_cdf(x) == expected or (math.isnan(expected) and math.isnan(norm_cdf(x)))
    if math.isfinite(x):  # and agrees with the erfc formula to an ulp of 1
        assert abs(norm_cdf(x) - 0.5 * math.erfc(-x / math.sqrt(2.0))) <= 2.3e-16


def test_a_typical_short_put_is_bitwise_the_vector_result() -> None:
    # Same operations and the same ndtr: equal to the last bit where NumPy's exp and log are
    # the C library's; a few ulps elsewhere, hence the tolerance of the other tests.
    scalar = bs_greeks_one(2700.0, 2500.0, 45 / 365, 0.02, 0.018, 0.21, False)
    assert_agree(scalar, vector(bs_greeks(2700.0, 2500.0, 45 / 365, 0.02, 0.018, 0.21, False)))
    price, delta, gamma, vega, theta = scalar
    assert 10.0 < price < 30.0 and -0.3 < delta < 0.0 < gamma and vega > 0.0 > theta
