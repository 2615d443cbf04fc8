"""Wilder's RSI(14) and the low/high episodes the VIX call add-on block trades on.

Rule (DESIGN.md section 2, "Signals"): when VIX RSI(14, Wilder) is below 30 (volatility cheap),
buy an add-on block of OTM VIX calls once per episode; above 70, take profit on the calls bought
in that episode. Source: J. Welles Wilder, "New Concepts in Technical Trading Systems" (1978): the
first average gain/loss is the simple mean of the first 14 changes, later ones are smoothed as
avg = (prev * (n - 1) + x) / n; RSI = 100 - 100 / (1 + avg_gain / avg_loss), and 100 when the
average loss is 0 (50 when both averages are 0: a flat series is neither overbought nor oversold).

Missing sessions (NaN) are skipped: the RSI runs over the valid closes in order and is NaN at a
missing session; it is NaN until `period` changes (period + 1 valid closes) exist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from strategies.signals.macd import FloatArray, as_float_array, on_valid_sessions

EpisodeKind = Literal["low", "high"]


@dataclass(frozen=True)
class Episode:
    """A run of sessions with RSI below `low` ('low') or above `high` ('high').

    `end_index` is the first session back out of the zone, or None while the episode is open.
    """

    kind: EpisodeKind
    start_index: int
    end_index: int | None


def _wilder_rsi(closes: FloatArray, period: int) -> FloatArray:
    """Return Wilder's RSI of closes with no missing values."""
    out = np.full(closes.size, np.nan)
    if closes.size <= period:
        return out
    changes = np.diff(closes)
    gains = np.clip(changes, 0.0, None)
    losses = np.clip(-changes, 0.0, None)
    avg_gain = float(gains[:period].mean())
    avg_loss = float(losses[:period].mean())
    out[period] = _rsi_value(avg_gain, avg_loss)
    for i in range(period, changes.size):
        avg_gain = (avg_gain * (period - 1) + gains[i]) / period
        avg_loss = (avg_loss * (period - 1) + losses[i]) / period
        out[i + 1] = _rsi_value(avg_gain, avg_loss)
    return out


def _rsi_value(avg_gain: float, avg_loss: float) -> float:
    """Return the RSI for one pair of average gain and average loss."""
    if avg_loss == 0.0:
        return 50.0 if avg_gain == 0.0 else 100.0
    return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)


def rsi(values: npt.ArrayLike, period: int = 14) -> FloatArray:
    """Return Wilder's RSI of a daily series, NaN during warm-up and at missing sessions."""
    if period < 1:
        raise ValueError(f"RSI period must be >= 1, got {period}")
    return on_valid_sessions(as_float_array(values), lambda closes: _wilder_rsi(closes, period))


def _zone(value: float, low: float, high: float) -> EpisodeKind | None:
    """Return which zone an RSI value is in, if any."""
    if value < low:
        return "low"
    if value > high:
        return "high"
    return None


def rsi_episodes(rsi_values: npt.ArrayLike, low: float = 30.0, high: float = 70.0) -> list[Episode]:
    """Return the episodes of RSI below `low` or above `high`, in order.

    An episode starts on the first session in the zone (strictly below `low`, strictly above
    `high`), including the first valid RSI; it ends on the first valid session out of the zone.
    NaN sessions neither start nor end an episode.
    """
    if not low < high:
        raise ValueError(f"RSI episodes need low < high, got low={low}, high={high}")
    episodes: list[Episode] = []
    current: Episode | None = None
    for i, value in enumerate(as_float_array(rsi_values).tolist()):
        if not math.isfinite(value):
            continue
        zone = _zone(value, low, high)
        if current is not None and zone != current.kind:
            episodes.append(Episode(current.kind, current.start_index, i))
            current = None
        if current is None and zone is not None:
            current = Episode(zone, i, None)
    if current is not None:
        episodes.append(current)
    return episodes


def episode_at(
    rsi_values: npt.ArrayLike, index: int, low: float = 30.0, high: float = 70.0
) -> Episode | None:
    """Return the episode open on session `index` (negative: from the end), using data up to it."""
    values = as_float_array(rsi_values)
    if index < 0:
        index += values.size
    if not 0 <= index < values.size:
        raise IndexError(f"index {index} is outside the RSI series of {values.size} sessions")
    episodes = rsi_episodes(values[: index + 1], low, high)
    if episodes and episodes[-1].end_index is None:
        return episodes[-1]
    return None
