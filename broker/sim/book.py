"""The simulator's order book: bid, ask and displayed size around a theoretical price.

Model (every number is a BookParams default, documented in docs/market-model.md):
- Ticks: SPX and VIX options trade in 0.05 below 3.00 and 0.10 from 3.00; VIX futures 0.05.
- Stress widens every market: `scale = clip(sqrt(VIX / 15), 0.8, 3)`. Option values already
  grow with volatility, so a square root keeps spreads from growing with its square.
- SPX options: half-spread = scale x min(1% of the value x (1 + 0.25 |z|), 2.50 points),
  at least one tick, where z = ln(K/F) / (vol sqrt(T)) is the strike's distance from the
  forward in standard deviations: far strikes are relatively wider, expensive (deep in the
  money, long-dated) options are capped in points as market makers quote them.
  Every book is at least one tick wide (half-spread at least half a tick).
  A 45-day 16-delta put at VIX 15 is about 0.20-0.40 wide; the at-the-money about 1.00.
- VIX options: half-spread = scale x 3% of the value.
- VIX futures: one tick wide while scale x 0.025 is at most half a tick (VIX up to ~15),
  wider beyond: half-spread = scale x 0.025.
- The bid is rounded down and the ask up to the tick; an option worth less than a tick has
  a zero bid (no buyer) and a one-tick ask, as on the exchange.
- Displayed size on each side: `base_size / scale` contracts (at least 1): the venue fills at
  most that many per leg at one instant; the rest of an order waits for the next instant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from broker.sim.listings import Product

FloatArray = npt.NDArray[np.float64]

OPTION_TICK_BELOW_3 = 0.05
OPTION_TICK_ABOVE_3 = 0.10
FUTURE_TICK = 0.05
_ROUNDING = 1e-9


@dataclass(frozen=True, slots=True)
class BookParams:
    """Spreads and displayed sizes of the simulated book."""

    calm_vix: float = 15.0
    min_scale: float = 0.8
    max_scale: float = 3.0
    stress_power: float = 0.5
    spx_spread_pct: float = 0.01
    spx_wing_widening: float = 0.25
    spx_max_half_spread: float = 2.50
    vix_option_spread_pct: float = 0.03
    future_half_spread: float = 0.025
    spx_size: int = 50
    vix_option_size: int = 100
    future_size: int = 100


@dataclass(frozen=True, slots=True)
class Book:
    """Bid, ask and displayed size of several contracts (arrays of equal length)."""

    bid: FloatArray
    ask: FloatArray
    size: npt.NDArray[np.int64]


def stress_scale(vix: float, params: BookParams) -> float:
    """Return the spread multiplier for a VIX level."""
    ratio = max(vix, 0.0) / params.calm_vix
    scaled = float(ratio**params.stress_power)
    # np.clip, without its overhead: min(max(x, low), high), NaN (a NaN VIX) staying NaN
    low = scaled if scaled >= params.min_scale or scaled != scaled else params.min_scale
    return low if low <= params.max_scale or low != low else params.max_scale


def option_tick(price: npt.ArrayLike) -> FloatArray:
    """Return the option tick for prices: 0.05 below 3.00, else 0.10."""
    p = np.asarray(price, dtype=np.float64)
    return np.where(p < 3.0, OPTION_TICK_BELOW_3, OPTION_TICK_ABOVE_3)


def option_book(
    product: Product,
    theo: npt.ArrayLike,
    z: npt.ArrayLike,
    vix: float,
    params: BookParams | None = None,
) -> Book:
    """Return the book of options of one product from their values and moneyness z (in sd)."""
    p = params or BookParams()
    value = np.asarray(theo, dtype=np.float64)
    scale = stress_scale(vix, p)
    if product is Product.VIX_OPTION:
        half = scale * p.vix_option_spread_pct * value
        size = p.vix_option_size
    else:
        widening = 1.0 + p.spx_wing_widening * np.abs(np.nan_to_num(np.asarray(z, float)))
        half = scale * np.minimum(p.spx_spread_pct * value * widening, p.spx_max_half_spread)
        size = p.spx_size
    tick = option_tick(value)
    half = np.maximum(half, tick / 2)
    bid = np.maximum(np.floor((value - half) / tick + _ROUNDING) * tick, 0.0)
    ask = np.maximum(np.ceil((value + half) / tick - _ROUNDING) * tick, tick)
    bad = ~np.isfinite(value) | (value < 0)
    bid = np.where(bad, np.nan, np.round(bid, 2))
    ask = np.where(bad, np.nan, np.round(ask, 2))
    return Book(bid, ask, _sizes(size, scale, len(value)))


def future_book(price: npt.ArrayLike, vix: float, params: BookParams | None = None) -> Book:
    """Return the book of futures from their fair prices."""
    p = params or BookParams()
    value = np.asarray(price, dtype=np.float64)
    scale = stress_scale(vix, p)
    half = scale * p.future_half_spread
    if 2 * half <= FUTURE_TICK:  # a one-tick market around the fair value
        bid = np.floor(value / FUTURE_TICK + _ROUNDING) * FUTURE_TICK
        ask = bid + FUTURE_TICK
    else:
        bid = np.floor((value - half) / FUTURE_TICK + _ROUNDING) * FUTURE_TICK
        ask = np.ceil((value + half) / FUTURE_TICK - _ROUNDING) * FUTURE_TICK
    bad = ~np.isfinite(value) | (value <= 0)
    bid = np.where(bad, np.nan, np.round(bid, 2))
    ask = np.where(bad, np.nan, np.round(ask, 2))
    return Book(bid, ask, _sizes(p.future_size, scale, len(value)))


def _sizes(base: int, scale: float, n: int) -> npt.NDArray[np.int64]:
    return np.full(n, max(1, round(base / scale)), dtype=np.int64)
