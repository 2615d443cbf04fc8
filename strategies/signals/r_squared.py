"""Rolling R2 of portfolio returns on SPX returns and its position against the target band.

Rule (DESIGN.md section 2, "Second engine"): the rolling 60-day R2 of daily portfolio returns
against SPX returns is kept between 0.45 and 0.65: above the band k is raised 10% at the next
rebalance, below it lowered 10%. R2 here is that of the ordinary least squares regression of
portfolio returns on SPX returns with an intercept, which equals the squared Pearson correlation.

Missing pairs are skipped, not zero-filled: a session where either return is NaN is dropped, the
window is the last `window` sessions that have both returns, and the value is NaN at a session
with a missing pair and until `window` complete pairs exist. A window in which either series is
constant has no defined R2 and gives NaN.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from strategies.signals.macd import FloatArray, as_float_array

BandPosition = Literal["above", "below", "inside", "unknown"]


def _window_r_squared(x: FloatArray, y: FloatArray, window: int) -> FloatArray:
    """Return R2 for each full trailing window of paired values with no NaN inside."""
    out = np.full(x.size, np.nan)
    if x.size < window:
        return out
    xs = sliding_window_view(x, window)
    ys = sliding_window_view(y, window)
    dx = xs - xs.mean(axis=1, keepdims=True)
    dy = ys - ys.mean(axis=1, keepdims=True)
    sxx = (dx * dx).sum(axis=1)
    syy = (dy * dy).sum(axis=1)
    sxy = (dx * dy).sum(axis=1)
    # An exactly constant window can leave rounding dust in the deviations: test the raw range.
    varies = (np.ptp(xs, axis=1) > 0.0) & (np.ptp(ys, axis=1) > 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.clip(sxy * sxy / (sxx * syy), 0.0, 1.0)
    out[window - 1 :] = np.where(varies, r2, np.nan)
    return out


def rolling_r_squared(
    portfolio_returns: npt.ArrayLike, spx_returns: npt.ArrayLike, window: int = 60
) -> FloatArray:
    """Return the trailing-window R2 of portfolio returns regressed on SPX returns."""
    portfolio = as_float_array(portfolio_returns)
    spx = as_float_array(spx_returns)
    if portfolio.size != spx.size:
        raise ValueError(
            f"portfolio_returns has {portfolio.size} sessions but spx_returns has {spx.size}"
        )
    if window < 2:
        raise ValueError(f"R2 window must be >= 2 sessions, got {window}")
    paired = np.isfinite(portfolio) & np.isfinite(spx)
    out = np.full(portfolio.size, np.nan)
    out[paired] = _window_r_squared(spx[paired], portfolio[paired], window)
    return out


def band_position(r2: float | None, low: float = 0.45, high: float = 0.65) -> BandPosition:
    """Return where an R2 value sits against the band [low, high]; 'unknown' for NaN or None."""
    if not low <= high:
        raise ValueError(f"R2 band needs low <= high, got low={low}, high={high}")
    if r2 is None or not math.isfinite(r2):
        return "unknown"
    if r2 > high:
        return "above"
    if r2 < low:
        return "below"
    return "inside"
