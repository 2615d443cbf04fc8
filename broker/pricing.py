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
    t <= 0 (expired; negative t counts as 0) or vol <= 0 (precisely vol * sqrt(t) <= 1e-100):
        the deterministic limit. Price is the discounted forward intrinsic value
        max(phi * (S e^{-qt} - K e^{-rt}), 0) (plain intrinsic once expired), delta is
        +/- e^{-qt} (Black-76: e^{-rt}) in the money and 0 otherwise, gamma = vega = 0. Theta is
        0 once expired; with t > 0 and zero vol it is the exact time derivative of that
        deterministic price (phi * (q S e^{-qt} - r K e^{-rt}) in the money, else 0), which is
        also what QuantLib returns. Never NaN or inf for finite inputs.
    spot/forward <= 0, strike <= 0 or a NaN input: NaN (element-wise; other elements unaffected).

Implied volatility: a number within vol_tol (IMPLIED_VOL_TOL = 1e-10) of the true vol, or NaN
    Solved in present-value terms, with the pricer's own P = S e^{-qt} (Black-76: F e^{-rt})
    and Q = K e^{-rt}: put-call parity removes the intrinsic value max(phi (P - Q), 0) exactly
    as the pricer adds it (the price is never undiscounted and no forward is rebuilt), so the
    out-of-the-money price that is solved for carries no rounding beyond the input price's.
    That problem is solved in Jaeckel's normalized coordinates ("Let's Be Rational", 2015): a
    rational initial guess, two third-order Householder steps, and, for the rare element not
    yet converged, a safeguarded Halley iteration with a bracket and bisection fallback, to
    about one ulp of the normalized price.
    NaN where
      * no volatility reproduces the price: a price at or below the intrinsic value or at or
        above the upper bound (P for a call, Q for a put), t <= 0, or a NaN/invalid input;
      * nothing is left to solve for: in the money, a time value within 4 ulps of max(P, Q);
        a price within 4 ulps of the upper bound; or a normalized time value
        price / sqrt(P Q) below the smallest normal double (~2.2e-308, where the normal CDF
        values it is made of have lost significant bits);
      * the price does not identify the vol to vol_tol. The price is known only to its own
        rounding, dp = 4 ulps of its largest term M, and that moves the vol by dp / vega:
            NaN if 4 * eps * M / vega > vol_tol       (eps = 2.2e-16, vega at the solution)
        with M = the price out of the money and M = max(P, Q) in the money. In the money the
        price is intrinsic value plus time value, and the intrinsic value is the difference of
        P and Q, each known to an ulp or so: any pricer's (and this solver's) rounding is on
        that scale, however small the price. For SPX at 4500 and vol_tol = 1e-10, an
        in-the-money option needs a vega of at least 4 * 2.2e-16 * 4500 / 1e-10 = 0.04 (per
        1.00 of vol); deep in-the-money options with less time value than that get NaN.
        Four ulps is a measured bound with margin: over 300,000 random in-the-money options
        priced by this module, by the textbook formula with erfc and by QuantLib's
        BlackCalculator, |iv - true vol| * vega never exceeded 2.7 ulps of M. Out of the money
        the rule assumes the price is accurate to a few ulps of itself, as this module's
        prices are far into the wings. A pricer whose normal CDF is accurate only in absolute
        terms (QuantLib's BlackCalculator: errors near 1e-16 of the forward, observed) gives
        wing prices far below 1e-10 of the forward that are much less accurate than that; the
        vol returned is then the exact vol of the price given, not of the one intended.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri

FloatArray = npt.NDArray[np.float64]

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_MIN_STDDEV = 1e-100  # vol * sqrt(t) at or below this is priced as zero volatility
IMPLIED_VOL_TOL = 1e-10  # default accuracy an implied vol must be identifiable to, else NaN


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
    shape: tuple[int, ...],
) -> tuple[FloatArray, ...]:
    """Price (and greeks) for regular inputs: spot, strike, vol*sqrt(t) all > 0.

    ``div is None`` selects Black-76 (the dividend yield equals the rate: spot is the forward).
    Works in a handful of preallocated buffers (in-place ufuncs) to keep memory traffic low.
    """
    dr = np.multiply(rate, t, out=np.empty(shape))
    np.negative(dr, out=dr)
    np.exp(dr, out=dr)  # e^{-rt}
    if div is None:
        dq = dr
    else:
        dq = np.multiply(div, t, out=np.empty(shape))
        np.negative(dq, out=dq)
        np.exp(dq, out=dq)  # e^{-qt}
    sq = np.multiply(spot, dq, out=np.empty(shape))  # S e^{-qt}  (Black-76: F e^{-rt})
    kr = np.multiply(strike, dr, out=np.empty(shape))  # K e^{-rt}
    d1 = np.divide(sq, kr, out=np.empty(shape))
    np.log(d1, out=d1)
    d1 /= sig
    w = np.multiply(sig, 0.5, out=np.empty(shape))
    d1 += w
    n1 = np.multiply(phi, d1, out=np.empty(shape))
    ndtr(n1, out=n1)  # N(phi d1)
    n2 = np.subtract(d1, sig, out=w)
    n2 *= phi
    ndtr(n2, out=n2)  # N(phi d2)
    a = np.multiply(sq, n1, out=np.empty(shape))  # S e^{-qt} N(phi d1)
    b = np.multiply(kr, n2, out=kr)  # K e^{-rt} N(phi d2)
    price = np.subtract(a, b, out=np.empty(shape))
    price *= phi
    if not greeks:
        return (price,)
    if div is None:  # carry part of theta: phi (q a - r b), i.e. r * price for Black-76
        theta = np.multiply(price, rate, out=b)
    else:
        a *= div
        b *= rate
        a -= b
        a *= phi
        theta = a
    pdf = np.multiply(d1, d1, out=d1)
    pdf *= -0.5
    np.exp(pdf, out=pdf)
    pdf *= _INV_SQRT_2PI  # n(d1)
    vega = np.multiply(sq, pdf, out=sq)
    vega *= sqt
    delta = np.multiply(phi, n1, out=n1)
    delta *= dq
    gamma = np.multiply(pdf, dq, out=pdf)
    gamma /= spot
    gamma /= sig
    decay = np.multiply(vega, vol, out=n2)
    decay /= t
    decay *= 0.5
    theta -= decay  # - S e^{-qt} n(d1) vol / (2 sqrt(t))
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
        regular = (
            bool(np.all(s_ > 0.0)) and bool(np.all(k_ > 0.0)) and bool(np.all(sig > _MIN_STDDEV))
        )
    if regular:
        with np.errstate(over="ignore", under="ignore"):
            out = _kernel(s_, k_, t_, r_, q_, v_, phi, sqt, sig, greeks, shape)
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
        reg = positive & (sig > _MIN_STDDEV)
        deg = positive & ~reg
    n_out = 5 if greeks else 1
    outs = [np.full(s.shape, np.nan) for _ in range(n_out)]
    if reg.any():
        with np.errstate(over="ignore", under="ignore"):
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
                (int(np.count_nonzero(reg)),),
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
# concave above.
#
# The solver follows P. Jaeckel, "Let's Be Rational" (Wilmott, 2015), vectorized: a rational
# cubic initial guess on four segments of beta, then two third-order Householder steps on a
# segment-specific objective (1/ln b on the lowest segment, ln(b_max - b) on the highest, b in
# between). Elements whose last step was not already negligible (extreme inputs) are finished by
# a safeguarded Halley iteration with a maintained bracket and bisection fallback.

_DBL_EPS = float(np.finfo(np.float64).eps)
_DBL_MIN = float(np.finfo(np.float64).tiny)
_DBL_MAX = float(np.finfo(np.float64).max)
_SQRT_DBL_MAX = math.sqrt(_DBL_MAX)
_RC_MIN = -(1.0 - math.sqrt(_DBL_EPS))  # rational cubic control parameter bounds
_RC_MAX = 2.0 / (_DBL_EPS * _DBL_EPS)
_SQRT_THREE = math.sqrt(3.0)
_SQRT_ONE_OVER_THREE = math.sqrt(1.0 / 3.0)
_TWO_PI = 2.0 * math.pi
_TWO_PI_OVER_SQRT_27 = 2.0 * math.pi / math.sqrt(27.0)
_PI_OVER_SIX = math.pi / 6.0
_SQRT_PI_OVER_TWO = math.sqrt(math.pi / 2.0)
_SQRT_TWO_PI = math.sqrt(2.0 * math.pi)
_BOUND_ULPS = 4.0  # prices this many ulps from a no-arbitrage bound give NaN
_LBR_STEP_TOL = 1e-6  # a final Householder step below this (relative) means full precision
_IV_MAX_ITER = 100  # fallback iteration budget
_IV_FTOL = _DBL_EPS  # relative price error at which the fallback iteration stops
_IV_STEP_TOL = 1e-13  # relative Halley step below which the fallback iteration stops
_IV_PRICE_ULPS = 4.0  # rounding of a price: this many ulps of its largest term (identifiability)

_PLAIN, _LOWER, _UPPER = 0, 1, 2  # Householder objectives


def _nbc(x: FloatArray, s: FloatArray, ex: FloatArray, emx: FloatArray) -> FloatArray:
    """Return the normalized call b(x, s) for x <= 0, s > 0, with ex = e^{x/2}, emx = e^{-x/2}."""
    xs = x / s
    h = 0.5 * s
    b: FloatArray = ex * ndtr(xs + h)
    b -= emx * ndtr(xs - h)
    return b


def _nvega(x: FloatArray, s: FloatArray) -> FloatArray:
    """Return db/ds of the normalized call."""
    xs = x / s
    v = xs * xs
    h = 0.5 * s
    v += h * h
    v *= -0.5
    np.exp(v, out=v)
    v *= _INV_SQRT_2PI
    return v


def _safeguarded(
    x: FloatArray, beta: FloatArray, s: FloatArray, ex: FloatArray, emx: FloatArray
) -> FloatArray:
    """Finish hard cases: Halley on ln b (below s_c) or b, kept inside a bisection bracket."""
    n = x.size
    out = np.full(n, np.nan)
    x2 = x * x
    s_c = np.sqrt(-2.0 * x)
    b_c = 0.5 * ex - emx * ndtr(-s_c)
    lower = beta < b_c  # root below the inflection point: iterate on ln b (concave)
    atm = s_c == 0.0
    start = np.where(atm, 2.0 * ndtri(0.5 + 0.5 * beta), s_c)
    # A usable start is positive and below 64: b(x, 64) equals b_max to double precision.
    s = np.where((s > 0.0) & (s < 64.0), s, np.maximum(start, 1e-300))
    log_beta = np.log(beta)
    lo = np.zeros(n)
    hi = np.full(n, np.inf)
    width1 = np.full(n, np.inf)  # bracket widths one and two iterations ago
    width2 = np.full(n, np.inf)
    idx = np.arange(n)
    for _ in range(_IV_MAX_ITER):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            b = _nbc(x, s, ex, emx)
            db = _nvega(x, s)
            above = b > beta
            hi = np.where(above, np.minimum(hi, s), hi)
            lo = np.where(above, lo, np.maximum(lo, s))
            h = x2 / (s * s * s) - 0.25 * s  # b''/b'
            fp = np.where(lower, db / b, db)
            f = np.where(lower, np.log(b) - log_beta, b - beta)
            curv = np.where(lower, h - fp, h)  # f''/f'
            rel_err = np.where(lower, f, f / beta)
            newton = -f / fp
            corr = 0.5 * newton * curv  # Halley's correction, used only while it is moderate
            step = np.where(np.abs(corr) < 0.5, newton / (1.0 + corr), newton)
            s_new = np.minimum(np.maximum(s + step, 0.25 * s), 4.0 * s)  # NaN stays NaN
            # Bisect when the step leaves the bracket or the bracket failed to halve in two
            # steps; geometrically while the bracket spans orders of magnitude.
            width = hi - lo
            bounded = width < np.inf
            bisect = ~((s_new > lo) & (s_new < hi)) | (bounded & (width > 0.5 * width2))
            mid = np.where(
                hi > 4.0 * lo,
                np.where(lo > 0.0, np.sqrt(lo * hi), 0.25 * hi),
                lo + 0.5 * width,
            )
            s_new = np.where(bisect, np.where(bounded, mid, 4.0 * s), s_new)
            width2, width1 = width1, width
            done_f = np.abs(rel_err) <= _IV_FTOL
            done = done_f | (~bisect & (np.abs(step) <= _IV_STEP_TOL * s))
            done |= width <= 4.0 * _DBL_EPS * s
        if done.any():
            out[idx[done]] = np.where(done_f, s, s_new)[done]
            keep = ~done
            if not keep.any():
                return out
            idx = idx[keep]
            x, x2, ex, emx = x[keep], x2[keep], ex[keep], emx[keep]
            beta, log_beta, lower = beta[keep], log_beta[keep], lower[keep]
            lo, hi, s_new = lo[keep], hi[keep], s_new[keep]
            width1, width2 = width1[keep], width2[keep]
        s = s_new
    out[idx] = s  # iteration budget exhausted: best bracketed estimate
    return out


def _rc_interp(
    x: FloatArray | float,
    x_l: FloatArray | float,
    x_r: FloatArray | float,
    y_l: FloatArray | float,
    y_r: FloatArray | float,
    d_l: FloatArray | float,
    d_r: FloatArray | float,
    r: FloatArray,
) -> FloatArray:
    """Interpolate with Delbourgo-Gregory's rational cubic (control parameter r; inf: linear)."""
    h = np.subtract(x_r, x_l)
    t = (x - x_l) / h
    omt = 1.0 - t
    t_omt = t * omt
    cubic = (
        y_r * (t * t * t)
        + (r * y_r - h * d_r) * (t * t_omt)
        + (r * y_l + h * d_l) * (t_omt * omt)
        + y_l * (omt * omt * omt)
    ) / (1.0 + (r - 3.0) * t_omt)
    return np.where(r >= _RC_MAX, y_r * t + y_l * omt, cubic)


def _rc_param(
    x_l: FloatArray | float,
    x_r: FloatArray | float,
    y_l: FloatArray | float,
    y_r: FloatArray | float,
    d_l: FloatArray | float,
    d_r: FloatArray | float,
    second: FloatArray | float,
    right_side: bool,
) -> FloatArray:
    """Return the control parameter fitting `second` at one end, kept shape-preserving.

    The data interpolated here are monotonic and convex or concave by construction, for which
    Delbourgo and Gregory's shape-preservation bound is max((d_l + d_r) / slope,
    |dd / (d_r - slope)|, |dd / (slope - d_l)|). NaN terms (0/0) are ignored; inf means linear.
    """
    h = np.subtract(x_r, x_l)
    slope = (y_r - y_l) / h
    dd = np.subtract(d_r, d_l)
    r_fit = (0.5 * h * second + dd) / ((d_r - slope) if right_side else (slope - d_l))
    r_mono = (d_r + d_l) / slope
    r_conv = np.fmax(np.abs(dd / (d_r - slope)), np.abs(dd / (slope - d_l)))
    return np.fmax(np.fmax(np.fmax(r_fit, r_mono), r_conv), _RC_MIN)


def _guess_lowest(x: FloatArray, beta: FloatArray, s_l: FloatArray, b_l: FloatArray) -> FloatArray:
    """Guess s on the lowest segment (beta < b(s_l)) through Jaeckel's lower map."""
    ax = -x
    z = _SQRT_ONE_OVER_THREE * ax / s_l
    y = z * z
    s2 = s_l * s_l
    cdf = ndtr(-z)
    e1 = np.exp(y + 0.125 * s2)
    cdf_over_pdf = cdf * (_SQRT_TWO_PI * np.exp(0.5 * y))
    fpp = (
        (_PI_OVER_SIX * y / (s2 * s_l))
        * cdf
        * (8.0 * _SQRT_THREE * s_l * ax + (3.0 * s2 * (s2 - 8.0) - 8.0 * x * x) * cdf_over_pdf)
        * (e1 * e1)
    )
    fp = _TWO_PI * y * (cdf * cdf) * e1
    f_l = _TWO_PI_OVER_SQRT_27 * ax * (cdf * cdf * cdf)
    r = _rc_param(0.0, b_l, 0.0, f_l, 1.0, fp, fpp, True)
    f = _rc_interp(beta, 0.0, b_l, 0.0, f_l, 1.0, fp, r)
    t = beta / b_l
    f = np.where(f > 0.0, f, (f_l * t + b_l * (1.0 - t)) * t)
    return np.abs(x / (_SQRT_THREE * ndtri(np.cbrt(f / (_TWO_PI_OVER_SQRT_27 * ax)))))


def _guess_middle(
    lower: bool,
    beta: FloatArray,
    s_c: FloatArray,
    b_c: FloatArray,
    v_c: FloatArray,
    s_o: FloatArray,
    b_o: FloatArray,
    v_o: FloatArray,
) -> FloatArray:
    """Guess s between s_o and s_c by rational cubic interpolation of the inverse of b."""
    d_o, d_c = 1.0 / v_o, 1.0 / v_c  # ds/db at both ends
    if lower:  # s_o = s_l < s_c
        r = _rc_param(b_o, b_c, s_o, s_c, d_o, d_c, 0.0, True)
        return _rc_interp(beta, b_o, b_c, s_o, s_c, d_o, d_c, r)
    r = _rc_param(b_c, b_o, s_c, s_o, d_c, d_o, 0.0, False)
    return _rc_interp(beta, b_c, b_o, s_c, s_o, d_c, d_o, r)


def _guess_highest(
    x: FloatArray, beta: FloatArray, s_h: FloatArray, b_h: FloatArray, b_max: FloatArray
) -> FloatArray:
    """Guess s on the highest segment (beta > b(s_h)) through Jaeckel's upper map."""
    f_h = ndtr(-0.5 * s_h)
    w = x / s_h
    w *= w
    fp = -0.5 * np.exp(0.5 * w)
    fpp = _SQRT_PI_OVER_TWO * np.exp(w + 0.125 * s_h * s_h) * w / s_h
    r = _rc_param(b_h, b_max, f_h, 0.0, fp, -0.5, fpp, False)
    f = _rc_interp(beta, b_h, b_max, f_h, 0.0, fp, -0.5, r)
    hh = b_max - b_h
    t = (beta - b_h) / hh
    f = np.where(
        (f > 0.0) & (np.abs(fpp) < _SQRT_DBL_MAX), f, (f_h * (1.0 - t) + 0.5 * hh * t) * (1.0 - t)
    )
    return -2.0 * ndtri(f)


def _householder(
    kind: int, x: FloatArray, beta: FloatArray, s: FloatArray, ex: FloatArray, n_iter: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Run `n_iter` third-order Householder steps from s.

    Return s, the last step and db/ds at the iterate before that step (once the step is
    negligible, that is db/ds at s to within a fraction of a percent).
    """
    emx = 1.0 / ex
    log_beta = np.log(beta) if kind == _LOWER else beta
    h = np.empty(s.size)
    ds = np.zeros(s.size)
    bp = np.zeros(s.size)
    for _ in range(n_iter):
        # In place where it is cheap: this loop is most of the solver's time.
        np.divide(x, s, out=h)
        half_s = 0.5 * s
        b = np.add(h, half_s)
        ndtr(b, out=b)
        b *= ex
        bp = np.subtract(h, half_s)
        ndtr(bp, out=bp)
        bp *= emx
        b -= bp  # b(x, s)
        np.multiply(h, h, out=bp)
        half_s *= half_s
        bp += half_s
        bp *= -0.5
        np.exp(bp, out=bp)
        bp *= _INV_SQRT_2PI  # b'(x, s)
        hs = h / s
        b_halley = h * hs
        b_halley -= 0.25 * s  # b''/b'
        hs *= hs
        hs *= 3.0
        b_hh3 = b_halley * b_halley
        b_hh3 -= hs
        b_hh3 -= 0.25  # b'''/b'
        if kind == _PLAIN:  # g = b - beta
            newton = np.subtract(beta, b, out=b)
            newton /= bp
            halley = b_halley
            hh3 = b_hh3
        elif kind == _LOWER:  # g = 1/ln(b) - 1/ln(beta)
            ln_b = np.log(b)
            bpob = np.divide(bp, b, out=b)
            inv_ln_b = 1.0 / ln_b
            newton = log_beta - ln_b
            newton *= ln_b
            newton /= log_beta
            newton /= bpob
            c = 1.0 + 2.0 * inv_ln_b
            c *= bpob
            halley = b_halley - c
            # hh3 = b_hh3 + 2 bpob^2 (1 + 3 inv_ln_b (1 + inv_ln_b)) - 3 b_halley c
            hh3 = 1.0 + inv_ln_b
            hh3 *= inv_ln_b
            hh3 *= 3.0
            hh3 += 1.0
            hh3 *= bpob
            hh3 *= bpob
            hh3 *= 2.0
            hh3 += b_hh3
            c *= b_halley
            c *= 3.0
            hh3 -= c
        else:  # g = ln(b_max - beta) - ln(b_max - b), b_max = ex
            bmb = np.subtract(ex, b, out=b)
            gp = bp / bmb
            newton = np.log((ex - beta) / bmb)
            newton /= gp
            np.negative(newton, out=newton)
            halley = b_halley + gp
            hh3 = 2.0 * gp + 3.0 * b_halley
            hh3 *= gp
            hh3 += b_hh3
        # ds = newton (1 + halley newton / 2) / (1 + newton (halley + hh3 newton / 6))
        ds = halley * newton
        ds *= 0.5
        ds += 1.0
        ds *= newton
        hh3 *= newton
        hh3 *= 1.0 / 6.0
        hh3 += halley
        hh3 *= newton
        hh3 += 1.0
        ds /= hh3
        np.maximum(ds, -0.5 * s, out=ds)
        s = s + ds
    return s, ds, bp


def _solve_normalized(
    x: FloatArray, beta: FloatArray, ex: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Solve b(x, s) = beta for s (1-D arrays; x <= 0, ex = e^{x/2} and 0 < beta < ex).

    Return s and db/ds there (at the last iterate, see _householder).
    """
    n = x.size
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        s_c = np.sqrt(-2.0 * x)
        b_c = 0.5 * ex - ndtr(-s_c) / ex  # x/s_c = -s_c/2, so N(x/s_c + s_c/2) = 1/2
        v_c = _INV_SQRT_2PI * ex
        lower = beta < b_c
        # The tangent at s_c reaches 0 at s_l (lower side) and b_max at s_h (upper side); they
        # split each side into an outer segment (mapped guess) and a middle one (interpolated).
        s_o = s_c + np.where(lower, -b_c, ex - b_c) / v_c
        b_o = _nbc(x, s_o, ex, 1.0 / ex)
        outer = np.where(lower, beta < b_o, beta > b_o)
        seg = np.where(
            lower,
            (~outer).view(np.int8),
            2 + outer.view(np.int8) + (outer & (beta > 0.5 * ex)).view(np.int8),
        )
        # Sort by segment once so that every segment and objective is a contiguous slice:
        # 0 lowest (objective 1/ln b), 1-2 middle and 3 highest (b), 4 highest (ln(b_max - b)).
        # Only the middle segments need the values at s_c and the slopes: gathered per slice.
        order = np.argsort(seg, kind="stable")
        bounds = np.concatenate(([0], np.cumsum(np.bincount(seg, minlength=5)))).tolist()
        x, beta, ex, s_o, b_o = (a[order] for a in (x, beta, ex, s_o, b_o))
        s = np.empty(n)
        sl = slice(bounds[0], bounds[1])
        if bounds[1] > bounds[0]:
            s[sl] = _guess_lowest(x[sl], beta[sl], s_o[sl], b_o[sl])
        for lo in (1, 2):  # between s_l and s_c (1), between s_c and s_h (2)
            sl = slice(bounds[lo], bounds[lo + 1])
            if bounds[lo + 1] > bounds[lo]:
                s[sl] = _guess_middle(
                    lo == 1,
                    beta[sl],
                    s_c[order[sl]],
                    b_c[order[sl]],
                    _INV_SQRT_2PI * ex[sl],
                    s_o[sl],
                    b_o[sl],
                    _nvega(x[sl], s_o[sl]),
                )
        sl = slice(bounds[3], bounds[5])
        if bounds[5] > bounds[3]:
            s[sl] = _guess_highest(x[sl], beta[sl], s_o[sl], b_o[sl], ex[sl])
        ds = np.empty(n)
        db = np.empty(n)
        for kind, lo, hi in ((_LOWER, 0, 1), (_PLAIN, 1, 4), (_UPPER, 4, 5)):
            sl = slice(bounds[lo], bounds[hi])
            if bounds[hi] > bounds[lo]:
                s[sl], ds[sl], db[sl] = _householder(kind, x[sl], beta[sl], s[sl], ex[sl], 2)
        good = (np.abs(ds) <= _LBR_STEP_TOL * s) & (s > 0.0) & (s < np.inf)
    if not good.all():
        i = np.flatnonzero(~good)
        s[i] = _safeguarded(x[i], beta[i], s[i], ex[i], 1.0 / ex[i])
        with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
            db[i] = _nvega(x[i], s[i])
    s_out = np.empty(n)
    s_out[order] = s
    db_out = np.empty(n)
    db_out[order] = db
    return s_out, db_out


def _implied_vol_impl(
    price: npt.ArrayLike,
    fwd_pv: FloatArray,
    strike_pv: FloatArray,
    t: FloatArray,
    is_call: npt.ArrayLike,
    vol_tol: float,
) -> FloatArray:
    """Solve for the vol given fwd_pv = S e^{-qt} (Black-76: F e^{-rt}) and strike_pv = K e^{-rt}.

    These are the pricer's own present values, so the intrinsic value removed here is the one
    the pricer added (module docstring).
    """
    if not vol_tol > 0.0:
        raise ValueError(f"vol_tol must be positive, got {vol_tol!r}")
    p_ = _as_f64(price)
    phi = _phi(is_call)
    shape = np.broadcast_shapes(p_.shape, fwd_pv.shape, strike_pv.shape, t.shape, phi.shape)
    p, fd, kd, tt, ph = (np.broadcast_to(a, shape).ravel() for a in (p_, fwd_pv, strike_pv, t, phi))
    out = np.full(p.shape, np.nan)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ok = (tt > 0.0) & (fd > 0.0) & (kd > 0.0) & np.isfinite(p + fd + kd + tt)
        intrinsic = ph * (fd - kd)
        itm = intrinsic > 0.0
        time_value = p - np.maximum(intrinsic, 0.0)
        # Nothing left to solve for: a time value within a few ulps of the larger of the two
        # terms of the intrinsic value, or a price within a few ulps of the upper bound
        # (fwd_pv for calls, strike_pv for puts).
        ok &= time_value > (_BOUND_ULPS * _DBL_EPS) * np.maximum(fd, kd) * itm
        ok &= p < (1.0 - _BOUND_ULPS * _DBL_EPS) * np.where(ph > 0.0, fd, kd)
        beta = time_value / np.sqrt(fd * kd)  # normalized out-of-the-money price
        x = -np.abs(np.log(fd / kd))
        ex = np.exp(0.5 * x)
        # A subnormal normalized price has lost significant bits (and so has b(x, s) near it).
        ok &= (beta >= _DBL_MIN) & (beta < ex)
    i = np.flatnonzero(ok)
    if i.size:
        xi, bi, exi = x[i], beta[i], ex[i]
        s, db = _solve_normalized(xi, bi, exi)
        # Identifiable: the price's own rounding, _IV_PRICE_ULPS ulps of its largest term (the
        # price out of the money, max(fwd_pv, strike_pv) in the money; normalized: beta and
        # e^{-x/2} = 1/ex), moves the vol by at most vol_tol:
        #     ulps * eps * scale / (db/ds) <= vol_tol * sqrt(t).
        scale = np.where(itm[i], 1.0 / exi, bi)
        with np.errstate(invalid="ignore", over="ignore", under="ignore"):
            sqrt_t = np.sqrt(tt[i])
            fits = vol_tol * sqrt_t * db >= (_IV_PRICE_ULPS * _DBL_EPS) * scale
        out[i] = np.where(fits, s / sqrt_t, np.nan)
    return out.reshape(shape)


def implied_vol_bs(
    price: npt.ArrayLike,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    t: npt.ArrayLike,
    rate: npt.ArrayLike,
    div: npt.ArrayLike,
    is_call: npt.ArrayLike,
    *,
    vol_tol: float = IMPLIED_VOL_TOL,
) -> FloatArray:
    """Return the Black-Scholes-Merton implied volatility of `price` (NaN where none fits).

    NaN also where the price does not pin the vol down to within `vol_tol` (module docstring).
    """
    t_ = _as_f64(t)
    with np.errstate(over="ignore", invalid="ignore"):
        fwd_pv = _as_f64(spot) * np.exp(-_as_f64(div) * t_)
        strike_pv = _as_f64(strike) * np.exp(-_as_f64(rate) * t_)
    return _implied_vol_impl(price, fwd_pv, strike_pv, t_, is_call, vol_tol)


def implied_vol_black76(
    price: npt.ArrayLike,
    forward: npt.ArrayLike,
    strike: npt.ArrayLike,
    t: npt.ArrayLike,
    rate: npt.ArrayLike,
    is_call: npt.ArrayLike,
    *,
    vol_tol: float = IMPLIED_VOL_TOL,
) -> FloatArray:
    """Return the Black-76 implied volatility of `price` (NaN where none fits).

    NaN also where the price does not pin the vol down to within `vol_tol` (module docstring).
    """
    t_ = _as_f64(t)
    with np.errstate(over="ignore", invalid="ignore"):
        disc = np.exp(-_as_f64(rate) * t_)
    return _implied_vol_impl(
        price, _as_f64(forward) * disc, _as_f64(strike) * disc, t_, is_call, vol_tol
    )
