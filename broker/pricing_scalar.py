"""Black-Scholes-Merton and Black-76 price and greeks of ONE option, in plain Python floats.

Why two pricers: ``broker.pricing`` works on NumPy arrays, where every ufunc call costs about a
microsecond of overhead whatever the size, some 70-130 us for one price-and-greeks evaluation.
That is nothing next to a chain of hundreds of strikes, but the simulator also values a held
book of a handful of contracts at every instant of a replay, where the overhead is nearly all of
the time. This module computes one option with ``math`` in a couple of microseconds; the
simulator uses it for small batches (``broker.sim.scalar_quotes``) and ``broker.pricing`` for
chains.

Same numbers, not merely close ones: every formula is evaluated in the order of operations of
``broker.pricing._kernel`` and ``_degenerate`` and with the same normal CDF
(``scipy.special.ndtr``, which costs 0.1 us on a float). ``math.erfc`` would be cheaper still,
but it differs from ndtr by an ulp or so (1.5e-14 relative below -10, up to 6e-11 below -30 where
the other erfc is the less accurate one), and out of the money a price is the difference of two
such terms, so those ulps become relative differences far above 1e-12 for cheap short-dated
options. Where NumPy's exp and log are the C library's (x86-64 without AVX-512) the results are
bitwise identical to ``broker.pricing``; elsewhere they agree to a few ulps.

Edge cases follow ``broker.pricing`` (see its docstring): t <= 0 or vol * sqrt(t) <= 1e-100
gives the deterministic limit, a non-positive spot/forward or strike or a NaN input gives NaN.
The rare inputs where ``math`` raises instead of returning inf or NaN (an exp overflowing, a
present value underflowing to 0) are handed to ``broker.pricing``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from broker import pricing

Greeks5 = tuple[float, float, float, float, float]  # price, delta, gamma, vega, theta

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_MIN_STDDEV = 1e-100  # as broker.pricing: vol * sqrt(t) at or below this is zero volatility
_NAN5: Greeks5 = (math.nan, math.nan, math.nan, math.nan, math.nan)


def bs_greeks_one(
    spot: float, strike: float, t: float, rate: float, div: float, vol: float, is_call: bool
) -> Greeks5:
    """Return Black-Scholes-Merton (price, delta, gamma, vega, theta) of one option."""
    return _greeks_one(spot, strike, t, rate, div, vol, is_call)


def black76_greeks_one(
    forward: float, strike: float, t: float, rate: float, vol: float, is_call: bool
) -> Greeks5:
    """Return Black-76 (price, delta, gamma, vega, theta) of one option on a forward."""
    return _greeks_one(forward, strike, t, rate, None, vol, is_call)


def norm_cdf(x: float) -> float:
    """Return the standard normal CDF at x: scipy's ndtr, the one the vector path uses."""
    return float(ndtr(x))


def _greeks_one(
    spot: float,
    strike: float,
    t: float,
    rate: float,
    div: float | None,
    vol: float,
    is_call: bool,
) -> Greeks5:
    """Split as broker.pricing does: regular, deterministic limit or invalid (NaN).

    ``div is None`` selects Black-76 (its dividend yield is the rate: spot is the forward).
    """
    phi = 1.0 if is_call else -1.0
    carry = rate if div is None else div
    sqt = math.sqrt(t) if t >= 0.0 else math.nan  # np.sqrt: NaN for t < 0
    sig = vol * sqt
    try:
        if spot > 0.0 and strike > 0.0 and sig > _MIN_STDDEV:
            return _kernel(spot, strike, t, rate, div, vol, phi, sqt, sig)
        known = not math.isnan(spot + strike + t + rate + carry + vol)
        if spot > 0.0 and strike > 0.0 and known:
            return _degenerate(spot, strike, t, rate, carry, phi)
    except (ArithmeticError, ValueError):  # overflow, division by or log of zero
        return _vector(spot, strike, t, rate, div, vol, is_call)
    return _NAN5


def _kernel(
    spot: float,
    strike: float,
    t: float,
    rate: float,
    div: float | None,
    vol: float,
    phi: float,
    sqt: float,
    sig: float,
) -> Greeks5:
    """Closed form for spot, strike and vol * sqrt(t) > 0 (broker.pricing._kernel, one option)."""
    dr = math.exp(-(rate * t))
    dq = dr if div is None else math.exp(-(div * t))
    sq = spot * dq  # S e^{-qt}  (Black-76: F e^{-rt})
    kr = strike * dr  # K e^{-rt}
    d1 = math.log(sq / kr) / sig + sig * 0.5
    n1 = norm_cdf(phi * d1)
    n2 = norm_cdf((d1 - sig) * phi)
    a = sq * n1
    b = kr * n2
    price = (a - b) * phi
    carry_theta = price * rate if div is None else (a * div - b * rate) * phi
    pdf = math.exp(d1 * d1 * -0.5) * _INV_SQRT_2PI
    vega = sq * pdf * sqt
    delta = phi * n1 * dq
    gamma = pdf * dq / spot / sig
    theta = carry_theta - vega * vol / t * 0.5
    return price, delta, gamma, vega, theta


def _degenerate(
    spot: float, strike: float, t: float, rate: float, div: float, phi: float
) -> Greeks5:
    """Deterministic limit for t <= 0 or zero vol (broker.pricing._degenerate, one option)."""
    tp = max(t, 0.0)
    dq = math.exp(-div * tp)
    dr = math.exp(-rate * tp)
    sq = spot * dq
    kr = strike * dr
    fwd_intrinsic = phi * (sq - kr)
    if not fwd_intrinsic > 0.0:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    theta = phi * (div * sq - rate * kr) if t > 0.0 else 0.0
    return fwd_intrinsic, phi * dq, 0.0, 0.0, theta


def _vector(
    spot: float,
    strike: float,
    t: float,
    rate: float,
    div: float | None,
    vol: float,
    is_call: bool,
) -> Greeks5:
    """Price through broker.pricing: for inputs where `math` raises and NumPy gives inf/NaN."""
    with np.errstate(all="ignore"):
        if div is None:
            g = pricing.black76_greeks([spot], [strike], [t], [rate], [vol], [is_call])
        else:
            g = pricing.bs_greeks([spot], [strike], [t], [rate], [div], [vol], [is_call])
    price, delta, gamma, vega, theta = (float(x[0]) for x in g)
    return price, delta, gamma, vega, theta
