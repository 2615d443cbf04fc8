"""Vectorized closed-form European option pricing: Black-Scholes-Merton and Black-76.

Pure NumPy/SciPy, no I/O. Every function takes scalars or arrays that broadcast together and
returns float64 arrays of the broadcast shape.

Inputs
    spot, forward, strike   price units (index points for SPX)
    t                       time to expiry in years
    rate                    continuously compounded risk-free rate (0.05 = 5 %)
    div                     continuous dividend yield (0.015 = 1.5 %)
    vol                     annualized volatility as a decimal (0.15 = 15 %)
    is_call                 bool: True for a call, False for a put

Greeks (the conventions of QuantLib's BlackCalculator / AnalyticEuropeanEngine)
    delta   dPrice/dSpot per 1 unit of the underlying (Black-76: per 1 unit of the forward)
    gamma   d2Price/dSpot2 per unit^2 (Black-76: w.r.t. the forward)
    vega    dPrice/dVol per 1.00 of volatility (NOT per 1 %): divide by 100 for per vol point
    theta   dPrice/dCalendarTime per YEAR, with time to expiry decreasing (negative for a long
            option as time value decays): divide by 365 for per day

Edge cases
    t <= 0 or vol <= 0: the deterministic limit. Price is the discounted intrinsic value
        max(phi * (S e^{-qt} - K e^{-rt}), 0), delta is +/- e^{-qt} (Black-76: e^{-rt}) in the
        money and 0 otherwise, gamma = vega = 0. Theta is 0 once expired (t <= 0); with t > 0 and
        vol <= 0 it is the exact time derivative of that deterministic price
        (phi * (q S e^{-qt} - r K e^{-rt}) in the money, else 0), as QuantLib gives.
    spot/forward <= 0, strike <= 0 or a NaN input: NaN.

Implied volatility is solved on the out-of-the-money side (put-call parity) in Jaeckel's
normalized coordinates, by a Halley iteration safeguarded by a bracket with bisection fallback.
It returns NaN where no volatility reproduces the price: a price at or below the discounted
intrinsic value, at or above the upper bound (S e^{-qt} or F e^{-rt} for a call, K e^{-rt} for a
put), t <= 0, or a NaN input.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri

FloatArray = npt.NDArray[np.float64]

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_IV_MAX_ITER = 100
_IV_FTOL = 1e-14  # relative price error at which an implied volatility is accepted
_IV_STEP_TOL = 1e-13  # relative Halley/Newton step below which it is accepted


class PriceGreeks(NamedTuple):
    """Price and greeks of a batch of options (see the module docstring for units)."""

    price: FloatArray
    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray


# --------------------------------------------------------------------------------------------
# Pricing
# --------------------------------------------------------------------------------------------


def _as_f64(x: npt.ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def _phi(is_call: npt.ArrayLike) -> FloatArray:
    """Return +1.0 for calls and -1.0 for puts."""
    call = np.asarray(is_call, dtype=bool)
    return np.where(call, 1.0, -1.0)


def _kernel(
    spot: FloatArray,
    strike: FloatArray,
    t: FloatArray,
    rate: FloatArray,
    div: FloatArray | None,
    vol: FloatArray,
    phi: FloatArray,
    sqt: FloatArray,
    sig: FloatArray,
    greeks: bool,
) -> tuple[FloatArray, ...]:
    """Price (and greeks) for regular inputs: spot, strike, vol*sqrt(t) all > 0.

    ``div is None`` selects Black-76 (the dividend yield equals the rate: spot is the forward).
    """
    dr = np.exp(-rate * t)
    dq = dr if div is None else np.exp(-div * t)
    sq = spot * dq  # S e^{-qt}  (Black-76: F e^{-rt})
    kr = strike * dr  # K e^{-rt}
    d1 = np.log(sq / kr)
    d1 = d1 / sig
    d1 += 0.5 * sig
    n1 = ndtr(phi * d1)
    n2 = ndtr(phi * (d1 - sig))
    a = sq * n1
    b = kr * n2
    price = phi * (a - b)
    if not greeks:
        return (price,)
    pdf = d1 * d1
    pdf *= -0.5
    np.exp(pdf, out=pdf)
    pdf *= _INV_SQRT_2PI
    vega = sq * pdf
    vega *= sqt
    delta = phi * n1
    delta *= dq
    gamma = pdf * dq
    gamma /= spot * sig
    theta = vega * vol
    theta *= -0.5 / t
    if div is None:
        theta += rate * price
    else:
        theta += phi * (div * a - rate * b)
    return price, delta, gamma, vega, theta


def _degenerate(
    spot: FloatArray,
    strike: FloatArray,
    t: FloatArray,
    rate: FloatArray,
    div: FloatArray,
    phi: FloatArray,
    greeks: bool,
) -> tuple[FloatArray, ...]:
    """Deterministic limit for t <= 0 or vol <= 0 (1-D arrays of equal length)."""
    tp = np.maximum(t, 0.0)
    dq = np.exp(-div * tp)
    dr = np.exp(-rate * tp)
    sq = spot * dq
    kr = strike * dr
    fwd_intrinsic = phi * (sq - kr)
    itm = fwd_intrinsic > 0.0
    price = np.where(itm, fwd_intrinsic, 0.0)
    if not greeks:
        return (price,)
    zero = np.zeros_like(price)
    delta = np.where(itm, phi * dq, 0.0)
    theta = np.where(itm & (t > 0.0), phi * (div * sq - rate * kr), 0.0)
    return price, delta, zero, zero.copy(), theta


def _price_impl(
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    t: npt.ArrayLike,
    rate: npt.ArrayLike,
    div: npt.ArrayLike | None,
    vol: npt.ArrayLike,
    is_call: npt.ArrayLike,
    greeks: bool,
) -> tuple[FloatArray, ...]:
    s_ = _as_f64(spot)
    k_ = _as_f64(strike)
    t_ = _as_f64(t)
    r_ = _as_f64(rate)
    q_ = None if div is None else _as_f64(div)
    v_ = _as_f64(vol)
    phi = _phi(is_call)
    shapes = [a.shape for a in (s_, k_, t_, r_, v_, phi)]
    if q_ is not None:
        shapes.append(q_.shape)
    shape = np.broadcast_shapes(*shapes)
    with np.errstate(invalid="ignore"):
        sqt = np.sqrt(t_)
        sig = v_ * sqt
        regular = bool(np.all(s_ > 0.0)) and bool(np.all(k_ > 0.0)) and bool(np.all(sig > 0.0))
    if regular:
        out = _kernel(s_, k_, t_, r_, q_, v_, phi, sqt, sig, greeks)
    else:
        out = _irregular(s_, k_, t_, r_, q_, v_, phi, shape, greeks)
    return tuple(
        o if o.shape == shape else np.array(np.broadcast_to(o, shape), dtype=np.float64)
        for o in out
    )


def _irregular(
    spot: FloatArray,
    strike: FloatArray,
    t: FloatArray,
    rate: FloatArray,
    div: FloatArray | None,
    vol: FloatArray,
    phi: FloatArray,
    shape: tuple[int, ...],
    greeks: bool,
) -> tuple[FloatArray, ...]:
    """Slow path: split into regular, degenerate (t <= 0 or vol <= 0) and invalid elements."""
    q_in = rate if div is None else div
    s, k, tt, r, q, v, ph = (
        np.broadcast_to(a, shape).ravel() for a in (spot, strike, t, rate, q_in, vol, phi)
    )
    with np.errstate(invalid="ignore"):
        sqt = np.sqrt(tt)
        sig = v * sqt
        known = ~np.isnan(s + k + tt + r + q + v)
        positive = (s > 0.0) & (k > 0.0) & known
        reg = positive & (sig > 0.0)
        deg = positive & ~reg
    n_out = 5 if greeks else 1
    outs = [np.full(s.shape, np.nan) for _ in range(n_out)]
    if reg.any():
        res = _kernel(
            s[reg],
            k[reg],
            tt[reg],
            r[reg],
            None if div is None else q[reg],
            v[reg],
            ph[reg],
            sqt[reg],
            sig[reg],
            greeks,
        )
        for o, x in zip(outs, res, strict=True):
            o[reg] = x
    if deg.any():
        res = _degenerate(s[deg], k[deg], tt[deg], r[deg], q[deg], ph[deg], greeks)
        for o, x in zip(outs, res, strict=True):
            o[deg] = x
    return tuple(o.reshape(shape) for o in outs)


def bs_price(
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    t: npt.ArrayLike,
    rate: npt.ArrayLike,
    div: npt.ArrayLike,
    vol: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    """Price European options with Black-Scholes-Merton (continuous dividend yield `div`)."""
    return _price_impl(spot, strike, t, rate, div, vol, is_call, greeks=False)[0]


def bs_greeks(
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    t: npt.ArrayLike,
    rate: npt.ArrayLike,
    div: npt.ArrayLike,
    vol: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> PriceGreeks:
    """Return Black-Scholes-Merton price, delta, gamma, vega and theta in one pass."""
    return PriceGreeks(*_price_impl(spot, strike, t, rate, div, vol, is_call, greeks=True))


def black76_price(
    forward: npt.ArrayLike,
    strike: npt.ArrayLike,
    t: npt.ArrayLike,
    rate: npt.ArrayLike,
    vol: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    """Price European options on a forward/future with Black-76, discounted at `rate`."""
    return _price_impl(forward, strike, t, rate, None, vol, is_call, greeks=False)[0]


def black76_greeks(
    forward: npt.ArrayLike,
    strike: npt.ArrayLike,
    t: npt.ArrayLike,
    rate: npt.ArrayLike,
    vol: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> PriceGreeks:
    """Return Black-76 price and greeks in one pass (delta and gamma w.r.t. the forward)."""
    return PriceGreeks(*_price_impl(forward, strike, t, rate, None, vol, is_call, greeks=True))


# --------------------------------------------------------------------------------------------
# Implied volatility
# --------------------------------------------------------------------------------------------
#
# With x = ln(F/K), s = vol*sqrt(t) and the undiscounted price p, the normalized call price is
#     b(x, s) = p / sqrt(F K) = e^{x/2} N(x/s + s/2) - e^{-x/2} N(x/s - s/2),
# and the normalized put with x equals the normalized call with -x. Removing the intrinsic value
# (put-call parity) leaves the out-of-the-money option, i.e. always a call with x <= 0, whose
# price beta lies in (0, e^{x/2}). b is increasing in s, convex below s_c = sqrt(2|x|) and
# concave above, and ln b is concave everywhere: below the inflection point b(x, s_c) we iterate
# on ln b, above it on b itself, both starting at s_c.


def _normalized_call(
    x: FloatArray, s: FloatArray, ex: FloatArray, emx: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Return b(x, s) and db/ds for x <= 0, with ex = e^{x/2}, emx = e^{-x/2}."""
    xs = x / s
    h = 0.5 * s
    b = ex * ndtr(xs + h) - emx * ndtr(xs - h)
    db = xs * xs
    db += h * h
    db *= -0.5
    np.exp(db, out=db)
    db *= _INV_SQRT_2PI
    return b, db


def _solve_normalized(x: FloatArray, beta: FloatArray) -> FloatArray:
    """Solve b(x, s) = beta for s (1-D arrays; x <= 0 and 0 < beta < e^{x/2} assumed)."""
    n = x.size
    out = np.full(n, np.nan)
    if n == 0:
        return out
    ex = np.exp(0.5 * x)
    emx = 1.0 / ex
    x2 = x * x
    s = np.sqrt(-2.0 * x)
    # Inflection point s_c (0 at the money, where b is 2N(s/2)-1 and inverts exactly).
    atm = s == 0.0
    if atm.any():
        s[atm] = 2.0 * ndtri(0.5 + 0.5 * beta[atm])
        # 1 ulp away from 0 keeps x/s finite; Halley polishes the (already exact) guess.
        s[atm] = np.maximum(s[atm], 1e-300)
    bc, _ = _normalized_call(x, s, ex, emx)
    lower = (beta < bc) & ~atm  # root below the inflection point: iterate on ln b
    log_beta = np.log(beta)
    lo = np.zeros(n)
    hi = np.full(n, np.inf)
    idx = np.arange(n)
    for _ in range(_IV_MAX_ITER):
        b, db = _normalized_call(x, s, ex, emx)
        above = b > beta
        hi = np.where(above, np.minimum(hi, s), hi)
        lo = np.where(above, lo, np.maximum(lo, s))
        # h = b'' / b'
        h = x2 / (s * s * s) - 0.25 * s
        with np.errstate(divide="ignore", invalid="ignore"):
            # plain objective f = b - beta (f'' / f' = h) or log objective f = ln b - ln beta
            # (f' = b'/b, f'' / f' = h - f').
            fp = np.where(lower, db / b, db)
            f = np.where(lower, np.log(b) - log_beta, b - beta)
            curv = np.where(lower, h - fp, h)
            rel_err = np.where(lower, f, f / beta)
            newton = -f / fp
            den = 1.0 + 0.5 * newton * curv
            step = np.where(den > 0.5, newton / den, newton)
            s_new = s + step
        inside = (s_new > lo) & (s_new < hi)
        bisect = np.where(np.isfinite(hi), 0.5 * (lo + hi), 2.0 * s)
        s_new = np.where(inside, s_new, bisect)
        done_f = np.abs(rel_err) <= _IV_FTOL
        done_step = inside & (np.abs(step) <= _IV_STEP_TOL * s)
        done_br = (hi - lo) <= 4e-16 * s
        done = done_f | done_step | done_br
        if done.any():
            result = np.where(done_f, s, s_new)
            out[idx[done]] = result[done]
            keep = ~done
            if not keep.any():
                return out
            idx = idx[keep]
            x, x2, ex, emx = x[keep], x2[keep], ex[keep], emx[keep]
            beta, log_beta, lower = beta[keep], log_beta[keep], lower[keep]
            lo, hi, s_new = lo[keep], hi[keep], s_new[keep]
        s = s_new
    out[idx] = s  # not converged within the iteration budget: best bracketed estimate
    return out


def _implied_vol_impl(
    price: npt.ArrayLike,
    forward: FloatArray,
    strike: FloatArray,
    t: FloatArray,
    disc: FloatArray,
    is_call: npt.ArrayLike,
) -> FloatArray:
    p_ = _as_f64(price)
    phi = _phi(is_call)
    shape = np.broadcast_shapes(p_.shape, forward.shape, strike.shape, t.shape, disc.shape, phi.shape)
    p, f, k, tt, d, ph = (
        np.broadcast_to(a, shape).ravel() for a in (p_, forward, strike, t, disc, phi)
    )
    out = np.full(p.shape, np.nan)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ok = (tt > 0.0) & (f > 0.0) & (k > 0.0) & (d > 0.0) & np.isfinite(p) & np.isfinite(f)
        ok &= np.isfinite(k) & np.isfinite(tt)
        undiscounted = p / d
        intrinsic = np.maximum(ph * (f - k), 0.0)
        sqfk = np.sqrt(f * k)
        beta = (undiscounted - intrinsic) / sqfk
        x = -np.abs(np.log(f / k))
        ok &= (beta > 0.0) & (beta < np.exp(0.5 * x))
    if ok.any():
        s = _solve_normalized(x[ok], beta[ok])
        out[ok] = s / np.sqrt(tt[ok])
    return out.reshape(shape)


def implied_vol_bs(
    price: npt.ArrayLike,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    t: npt.ArrayLike,
    rate: npt.ArrayLike,
    div: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    """Return the Black-Scholes-Merton implied volatility of `price` (NaN where none fits)."""
    s_ = _as_f64(spot)
    t_ = _as_f64(t)
    r_ = _as_f64(rate)
    q_ = _as_f64(div)
    forward = s_ * np.exp((r_ - q_) * t_)
    return _implied_vol_impl(price, forward, _as_f64(strike), t_, np.exp(-r_ * t_), is_call)


def implied_vol_black76(
    price: npt.ArrayLike,
    forward: npt.ArrayLike,
    strike: npt.ArrayLike,
    t: npt.ArrayLike,
    rate: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    """Return the Black-76 implied volatility of `price` (NaN where none fits)."""
    t_ = _as_f64(t)
    disc = np.exp(-_as_f64(rate) * t_)
    return _implied_vol_impl(price, _as_f64(forward), _as_f64(strike), t_, disc, is_call)
