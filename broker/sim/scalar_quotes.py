"""The simulator's models for ONE contract at a time, in plain Python floats.

Why two paths: the vectorized models (``broker.sim.volatility``, ``broker.sim.vix_futures``,
``broker.sim.book``) cost about a microsecond of NumPy overhead per ufunc call whatever the
array size, 70-130 us per model. That is nothing next to a chain of hundreds of strikes, but a
replay values its held book (four SPX options, a few VIX options and futures) at every instant,
where the overhead was nearly all of the time. ``SimMarket`` prices batches of at most
``SCALAR_BATCH`` contracts through these functions and larger ones through the vector path.

Same numbers: each function evaluates its vector twin's formula in the same order of
operations, with NumPy's special cases spelled out (``x ** 2`` of an array is a square, NaN
propagates through ``np.maximum``/``np.minimum``, ``np.round`` multiplies by 100 and rounds
half to even), so the books round to the same ticks and, where NumPy's exp, log and pow are the
C library's, every number is bitwise identical (elsewhere a few ulps apart). Invalid inputs
give NaN as in the vector path; the rare ones where ``math`` raises instead of returning inf or
NaN (an overflow, the log of an underflowed ratio) are handed to the vector function, as a
1-element array like SimMarket's batches (on a 0-d array NumPy's ``** 2`` is pow, not a square).
"""

from __future__ import annotations

import math

import numpy as np

from broker.sim.book import (
    _ROUNDING,
    FUTURE_TICK,
    OPTION_TICK_ABOVE_3,
    OPTION_TICK_BELOW_3,
    BookParams,
    future_book,
    option_book,
    stress_scale,
)
from broker.sim.listings import Product
from broker.sim.vix_futures import YEAR_DAYS, TermStructureParams, vix_futures_prices
from broker.sim.volatility import (
    SpxSurface,
    VixOptionParams,
    h_one,
    ssvi_total_variance_one,
    vix_option_vol,
)

# Batches of at most this many contracts are priced here, larger ones as arrays. Measured
# (SimMarket._spx_quotes and _vix_quotes, quote objects included): ~11-14 us per option here
# against ~250 us plus ~6 us per option for the vector path, which catches up at 30-40 options;
# 16 keeps a margin (scalar ~175 us, vector ~280 us) and leaves chains, dozens to hundreds of
# strikes, to the vector path. Futures cost ~2 us each here and ~20-30 us per batch as arrays.
SCALAR_BATCH = 16

_BookSide = tuple[float, float, int]  # bid, ask, displayed size
_FLOAT_MAX = float(np.finfo(np.float64).max)


# --------------------------------------------------------------------------------------------
# Volatility and futures
# --------------------------------------------------------------------------------------------


def spx_vol_one(surface: SpxSurface, forward: float, strike: float, t: float) -> float:
    """Return ``surface.vol(forward, strike, t)`` for one option."""
    try:
        years = _nan_max(t, surface.params.min_years)
        if not _positive_finite(forward, strike):
            return math.nan
        k = math.log(strike / forward)
        atm = spx_atm_vol_one(surface, years)
        theta = atm * atm * years
        w = ssvi_total_variance_one(k, theta, surface.params.rho, surface.eta)
        return math.sqrt(w / years)
    except (ArithmeticError, ValueError):
        return float(surface.vol([forward], [strike], [t])[0])


def spx_atm_vol_one(surface: SpxSurface, years: float) -> float:
    """Return the surface's at-the-money vol at ``years`` (already floored at min_years)."""
    p = surface.params
    log_long = 2.0 * math.log(p.long_run_vol)
    return math.exp(0.5 * (log_long + surface.term_log_ratio * h_one(p.term_kappa * years)))


def vix_option_vol_one(
    vix: float, future: float, strike: float, t: float, params: VixOptionParams
) -> float:
    """Return ``vix_option_vol(vix, future, strike, t, params)`` for one option."""
    try:
        years = _nan_max(t, params.min_years)
        atm = _vix_atm_vol_one(vix, years, params)
        if not _positive_finite(future, strike):
            return math.nan
        k = math.log(strike / future)
        theta = atm * atm * years
        return math.sqrt(ssvi_total_variance_one(k, theta, params.rho, params.eta) / years)
    except (ArithmeticError, ValueError):
        with np.errstate(all="ignore"):
            return float(vix_option_vol(vix, [future], [strike], [t], params)[0])


def _vix_atm_vol_one(vix: float, years: float, params: VixOptionParams) -> float:
    """Return the at-the-money VIX option vol (broker.sim.volatility.vix_option_atm_vol)."""
    years = _nan_max(years, params.min_years)
    if not (math.isfinite(vix) and vix > 0.0):
        return math.nan
    level = params.atm_vol_ref * (vix / params.ref_vix) ** params.level_power
    days = years * YEAR_DAYS
    ratio = (params.ref_days + params.offset_days) / (days + params.offset_days)
    return _nan_min(level * array_power(ratio, params.term_power), params.max_atm_vol)


def vix_future_price_one(vix: float, t: float, params: TermStructureParams) -> float:
    """Return ``vix_futures_prices(vix, t, params)`` for one time to expiry."""
    try:
        years = _nan_max(t, 0.0)
        if not (math.isfinite(vix) and vix > 0.0):
            return math.nan
        log_theta = math.log(params.long_run)
        decay = math.exp(-params.kappa * years)
        premium = -params.premium * math.expm1(-years * (YEAR_DAYS / params.premium_days))
        return math.exp(log_theta + (math.log(vix) - log_theta) * decay + premium)
    except (ArithmeticError, ValueError):
        with np.errstate(all="ignore"):
            return float(vix_futures_prices(vix, [t], params)[0])


def moneyness_sd(strike: float, forward: float, vol: float, t: float) -> float:
    """Return the book's z = ln(K / F) / (vol sqrt(max(t, 1e-8))) (see broker.sim.market)."""
    try:
        return math.log(strike / forward) / (vol * math.sqrt(_nan_max(t, 1e-8)))
    except (ArithmeticError, ValueError):
        with np.errstate(all="ignore"):
            k, f, v, tt = (np.array([x]) for x in (strike, forward, vol, t))
            return float((np.log(k / f) / (v * np.sqrt(np.maximum(tt, 1e-8))))[0])


# --------------------------------------------------------------------------------------------
# Books
# --------------------------------------------------------------------------------------------


def option_book_one(
    product: Product, theo: float, z: float, vix: float, params: BookParams
) -> _BookSide:
    """Return (bid, ask, size) of one option: ``option_book`` for a single contract."""
    p = params
    scale = stress_scale(vix, p)
    base = p.vix_option_size if product is Product.VIX_OPTION else p.spx_size
    size = max(1, round(base / scale))  # a NaN scale raises here, as in option_book
    value = theo
    if not (math.isfinite(value) and value >= 0.0):
        return math.nan, math.nan, size
    # From here on nothing is NaN (value finite, scale within [min_scale, max_scale], z made
    # finite), so the builtin min and max are np.minimum and np.maximum.
    if product is Product.VIX_OPTION:
        half = scale * p.vix_option_spread_pct * value
    else:
        widening = 1.0 + p.spx_wing_widening * abs(_nan_to_num(z))
        half = scale * min(p.spx_spread_pct * value * widening, p.spx_max_half_spread)
    tick = OPTION_TICK_BELOW_3 if value < 3.0 else OPTION_TICK_ABOVE_3
    half = max(half, tick / 2)
    try:
        bid = max(math.floor((value - half) / tick + _ROUNDING) * tick, 0.0)
        ask = max(math.ceil((value + half) / tick - _ROUNDING) * tick, tick)
    except OverflowError:  # floor of inf: a value near the largest float
        book = option_book(product, [theo], [z], vix, p)
        return float(book.bid[0]), float(book.ask[0]), size
    return round_cents(bid), round_cents(ask), size


def future_book_one(price: float, vix: float, params: BookParams) -> _BookSide:
    """Return (bid, ask, size) of one future: ``future_book`` for a single contract."""
    p = params
    scale = stress_scale(vix, p)
    size = max(1, round(p.future_size / scale))
    value = price
    if not (math.isfinite(value) and value > 0.0):
        return math.nan, math.nan, size
    half = scale * p.future_half_spread  # finite: a NaN scale has raised above
    try:
        if 2 * half <= FUTURE_TICK:  # a one-tick market around the fair value
            bid = math.floor(value / FUTURE_TICK + _ROUNDING) * FUTURE_TICK
            ask = bid + FUTURE_TICK
        else:
            bid = math.floor((value - half) / FUTURE_TICK + _ROUNDING) * FUTURE_TICK
            ask = math.ceil((value + half) / FUTURE_TICK - _ROUNDING) * FUTURE_TICK
    except OverflowError:  # floor of inf: a price near the largest float
        book = future_book([price], vix, p)
        return float(book.bid[0]), float(book.ask[0]), size
    return round_cents(bid), round_cents(ask), size


# --------------------------------------------------------------------------------------------
# NumPy's semantics on floats
# --------------------------------------------------------------------------------------------


def round_cents(x: float) -> float:
    """Return ``np.round(x, 2)``: x * 100 rounded half to even, divided by 100 (sign kept)."""
    r = round(x * 100.0) / 100.0
    return r if r else math.copysign(0.0, x)


def array_power(base: float, exponent: float) -> float:
    """Return ``base ** exponent`` as NumPy computes it for an array base.

    NumPy replaces the C library's pow by a square, a square root or a reciprocal for those
    exponents, which can differ from pow in the last bit.
    """
    if exponent == 2.0:
        return base * base
    if exponent == 0.5:
        return math.sqrt(base)
    if exponent == -1.0:
        return 1.0 / base
    return math.pow(base, exponent)


def _nan_max(a: float, b: float) -> float:
    """Return ``np.maximum(a, b)``: NaN when either is NaN."""
    return a if a >= b or a != a else b


def _nan_min(a: float, b: float) -> float:
    """Return ``np.minimum(a, b)``: NaN when either is NaN."""
    return a if a <= b or a != a else b


def _nan_to_num(x: float) -> float:
    """Return ``np.nan_to_num(x)``: NaN as 0, infinities as the largest finite floats."""
    if math.isnan(x):
        return 0.0
    if math.isinf(x):
        return math.copysign(_FLOAT_MAX, x)
    return x


def _positive_finite(forward: float, strike: float) -> bool:
    return forward > 0.0 and strike > 0.0 and math.isfinite(forward) and math.isfinite(strike)
