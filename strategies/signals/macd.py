"""MACD(12, 26, 9) on a daily series and its histogram crossovers.

Rule (DESIGN.md section 2, "Signals"): MACD(12, 26, 9) runs on the NYSE advance-decline line
(breadth divergence) and on SPX closes, where a bearish crossover raises the VIX call backspread
ratio one step and a bullish crossover lowers it one step. Source: Gerald Appel's MACD, the EMA
with alpha = 2 / (n + 1) seeded with the first value, which is the common pandas recipe
`s.ewm(span=n, adjust=False).mean()`; the values here equal that recipe at every reported session.

Missing sessions (NaN) are skipped: the EMAs run over the valid values in order (pandas
`ignore_na=True`) and every output is NaN at a missing session. Warm-up sessions are NaN too: the
MACD line needs `slow` valid values, the signal line and histogram `slow + signal - 1`, because
before that the EMAs are dominated by their seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class MacdResult:
    """The MACD line, its signal line and the histogram (line minus signal), one per session."""

    line: FloatArray
    signal: FloatArray
    histogram: FloatArray


def as_float_array(values: npt.ArrayLike) -> FloatArray:
    """Return `values` as a one-dimensional float64 array."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"expected a one-dimensional series, got shape {array.shape}")
    return array


def on_valid_sessions(
    values: FloatArray, compute: Callable[[FloatArray], FloatArray]
) -> FloatArray:
    """Apply `compute` to the non-NaN values in order and put the results back at their sessions."""
    valid = np.isfinite(values)
    out = np.full(values.shape, np.nan)
    out[valid] = compute(values[valid])
    return out


def ema(values: FloatArray, span: int) -> FloatArray:
    """Return the EMA with alpha = 2 / (span + 1) seeded with the first value (no NaN inside)."""
    alpha = 2.0 / (span + 1.0)
    out = np.empty(values.shape)
    level = values[0] if values.size else 0.0
    for i, value in enumerate(values):
        level = level + alpha * (value - level)
        out[i] = level
    return out


def _macd_valid(values: FloatArray, fast: int, slow: int, signal: int) -> FloatArray:
    """Return rows (line, signal, histogram) for a series with no missing values."""
    line = ema(values, fast) - ema(values, slow)
    signal_line = ema(line, signal)
    histogram = line - signal_line
    count = np.arange(1, values.size + 1)
    line = np.where(count >= slow, line, np.nan)
    ready = count >= slow + signal - 1
    return np.vstack(
        [line, np.where(ready, signal_line, np.nan), np.where(ready, histogram, np.nan)]
    )


def macd(values: npt.ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9) -> MacdResult:
    """Return the MACD line, signal line and histogram of a daily series."""
    if not 1 <= fast < slow or signal < 1:
        raise ValueError(
            f"MACD needs 1 <= fast < slow and signal >= 1, got {fast}, {slow}, {signal}"
        )
    array = as_float_array(values)
    valid = np.isfinite(array)
    rows = np.full((3, array.size), np.nan)
    rows[:, valid] = _macd_valid(array[valid], fast, slow, signal)
    return MacdResult(line=rows[0], signal=rows[1], histogram=rows[2])


def crossovers(histogram: npt.ArrayLike) -> IntArray:
    """Mark +1 where the histogram turns from <= 0 to > 0, -1 for > 0 to <= 0, else 0.

    A NaN session is skipped: the first valid session after it is compared with the last valid
    one before it, so crossovers always alternate in sign.
    """
    hist = as_float_array(histogram)
    out = np.zeros(hist.size, dtype=np.int64)
    previous: bool | None = None
    for i, value in enumerate(hist.tolist()):  # Python floats: NumPy scalars cost more here
        if not math.isfinite(value):
            continue
        positive = value > 0.0
        if previous is not None and positive != previous:
            out[i] = 1 if positive else -1
        previous = positive
    return out


def last_crossover(values: npt.ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9) -> int:
    """Return the MACD crossover on the latest session: +1 bullish, -1 bearish, 0 none."""
    marks = crossovers(macd(values, fast, slow, signal).histogram)
    return int(marks[-1]) if marks.size else 0
