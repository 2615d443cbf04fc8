"""NYSE advance-decline line and the breadth divergence flag.

Rule (DESIGN.md section 2, "Signals"): the advance-decline line is the cumulative sum of
advances minus declines; MACD(12, 26, 9) runs on it. When the histogram has narrowed for 3
sessions while SPX is within 1% of its 20-day high, the breadth divergence flag is on (and the
VIX layer's k is scaled up by 20%). Source: the seeds' breadth-divergence rule, read in DESIGN.md.

"Narrowed" is read as breadth momentum fading while price is near its highs: on session t the
histogram is positive and strictly decreasing over the last `narrowing_sessions` steps,
hist[t - 3] > hist[t - 2] > hist[t - 1] > hist[t] > 0 for 3 sessions. A negative histogram that
shrinks toward zero (|hist| decreasing from below) is breadth *improving* and does not count.
SPX is "near its high" when close[t] >= (1 - 0.01) * max(close[t - 19 .. t]) (today included).

Missing sessions (NaN) are skipped: the histogram test compares the last valid values, the rolling
high runs over the last 20 valid closes, and the flag is off on a session with either value
missing and during warm-up.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from strategies.signals.macd import FloatArray, as_float_array, macd, on_valid_sessions

BoolArray = npt.NDArray[np.bool_]


def ad_line(advances: npt.ArrayLike, declines: npt.ArrayLike) -> FloatArray:
    """Return the cumulative sum of advances minus declines (NaN at missing sessions, skipped)."""
    net = as_float_array(advances) - as_float_array(declines)
    return on_valid_sessions(net, np.cumsum)


def _on_valid(values: FloatArray, mark: Callable[[FloatArray], BoolArray]) -> BoolArray:
    """Apply `mark` to the non-NaN values in order; missing sessions are False."""
    valid = np.isfinite(values)
    out = np.zeros(values.size, dtype=np.bool_)
    out[valid] = mark(values[valid])
    return out


def _narrowing(histogram: FloatArray, sessions: int) -> BoolArray:
    """Mark positions where the histogram is positive and fell strictly for `sessions` steps."""
    out = np.zeros(histogram.size, dtype=np.bool_)
    if histogram.size > sessions:
        runs = sliding_window_view(histogram, sessions + 1)  # runs[i] ends at t = i + sessions
        out[sessions:] = (runs[:, -1] > 0.0) & np.all(np.diff(runs, axis=1) < 0.0, axis=1)
    return out


def histogram_narrowing(histogram: npt.ArrayLike, sessions: int = 3) -> BoolArray:
    """Mark sessions where the histogram is positive and fell strictly for `sessions` sessions."""
    return _on_valid(as_float_array(histogram), lambda hist: _narrowing(hist, sessions))


def _near_high(closes: FloatArray, pct: float, window: int) -> BoolArray:
    """Mark positions within `pct` of the high of the last `window` closes (no NaN inside)."""
    out = np.zeros(closes.size, dtype=np.bool_)
    if closes.size >= window:
        highs = sliding_window_view(closes, window).max(axis=1)  # highs[i] ends at i + window - 1
        out[window - 1 :] = closes[window - 1 :] >= (1.0 - pct) * highs
    return out


def near_rolling_high(closes: npt.ArrayLike, pct: float = 0.01, window: int = 20) -> BoolArray:
    """Mark sessions whose close is within `pct` of the high of the last `window` closes."""
    return _on_valid(as_float_array(closes), lambda valid: _near_high(valid, pct, window))


def breadth_divergence(
    ad_values: npt.ArrayLike,
    spx_closes: npt.ArrayLike,
    narrowing_sessions: int = 3,
    near_high_pct: float = 0.01,
    high_window: int = 20,
) -> BoolArray:
    """Flag sessions where A/D-line MACD momentum fades while SPX is near its rolling high."""
    ad = as_float_array(ad_values)
    spx = as_float_array(spx_closes)
    if ad.size != spx.size:
        raise ValueError(f"ad_values has {ad.size} sessions but spx_closes has {spx.size}")
    if narrowing_sessions < 1 or high_window < 1 or not 0.0 <= near_high_pct < 1.0:
        raise ValueError(
            "breadth_divergence needs narrowing_sessions >= 1, high_window >= 1 and "
            f"0 <= near_high_pct < 1, got {narrowing_sessions}, {high_window}, {near_high_pct}"
        )
    fading = histogram_narrowing(macd(ad).histogram, narrowing_sessions)
    return fading & near_rolling_high(spx, near_high_pct, high_window)
