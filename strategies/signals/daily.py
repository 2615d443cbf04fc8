"""The signals of the day from daily bars: breadth divergence, SPX crossover, VIX RSI, R2.

One pure function turns the venue's completed daily bars (SPX, VIX, NYSE net advances) and the
account's daily net liquidation into `strategies.hedge_state.Signals` as of the last session the
SPX bars share with the others. Sessions missing from a series are dropped, never filled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np

from broker.market import DailyBar
from strategies.hedge_state import Signals
from strategies.params import HedgeParams, SignalParams
from strategies.signals.breadth import breadth_divergence
from strategies.signals.macd import crossovers, macd
from strategies.signals.r_squared import rolling_r_squared
from strategies.signals.rsi import episode_at, rsi


def _closes(bars: Sequence[DailyBar]) -> dict[date, float]:
    return {b.day: b.close for b in bars if math.isfinite(b.close)}


def _r_squared(
    days: Sequence[date], spx: np.ndarray, equity: Mapping[date, float], window: int
) -> float:
    """R2 of the account's daily returns on SPX returns over the sessions both have."""
    value = np.array([equity.get(d, math.nan) for d in days])
    if len(days) < 3:
        return math.nan
    portfolio = value[1:] / value[:-1] - 1.0
    market = spx[1:] / spx[:-1] - 1.0
    usable = int(np.isfinite(portfolio).sum())
    if usable < window:
        return math.nan
    return float(rolling_r_squared(portfolio, market, window)[-1])


def signals_of(
    spx_bars: Sequence[DailyBar],
    vix_bars: Sequence[DailyBar],
    breadth_bars: Sequence[DailyBar],
    equity: Mapping[date, float],
    params: SignalParams,
    hedge: HedgeParams,
) -> Signals:
    """Return the signals as of the last session with SPX and VIX closes (neutral if none).

    Breadth uses the sessions with net advances too (no breadth data: no divergence).
    `equity` is the account's net liquidation by day; R2 needs `hedge.r2_window` returns.
    """
    spx, vix = _closes(spx_bars), _closes(vix_bars)
    days = sorted(set(spx) & set(vix))
    if not days:
        return Signals()
    spx_closes = np.array([spx[d] for d in days])
    vix_closes = np.array([vix[d] for d in days])
    marks = crossovers(
        macd(spx_closes, params.macd_fast, params.macd_slow, params.macd_signal).histogram
    )
    rsi_values = rsi(vix_closes, params.rsi_period)
    episode = episode_at(rsi_values, -1, params.rsi_low, params.rsi_high)
    net = _closes(breadth_bars)
    breadth_days = [d for d in days if d in net]
    divergence = False
    if breadth_days and breadth_days[-1] == days[-1]:
        ad_line = np.cumsum([net[d] for d in breadth_days])
        flags = breadth_divergence(
            ad_line,
            np.array([spx[d] for d in breadth_days]),
            params.narrowing_sessions,
            params.near_high_pct,
            params.high_window,
        )
        divergence = bool(flags[-1])
    return Signals(
        day=days[-1],
        breadth_divergence=divergence,
        spx_crossover=int(marks[-1]),
        vix_rsi=float(rsi_values[-1]),
        rsi_episode=episode.kind if episode is not None else "",
        rsi_episode_start=days[episode.start_index] if episode is not None else None,
        r2=_r_squared(days, spx_closes, equity, hedge.r2_window),
    )
