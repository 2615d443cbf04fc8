"""The signals of the day from daily bars, as of the last session SPX and VIX share."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np

from broker.market import DailyBar
from strategies.params import HedgeParams, SignalParams
from strategies.signals.daily import signals_of
from strategies.signals.macd import crossovers, macd

PARAMS = SignalParams()
HEDGE = HedgeParams()
START = date(2018, 1, 1)


def bars(closes: list[float]) -> list[DailyBar]:
    return [DailyBar(START + timedelta(days=i), c, c, c, c) for i, c in enumerate(closes)]


def test_no_bars_means_unknown_signals() -> None:
    signals = signals_of([], [], [], {}, PARAMS, HEDGE)
    assert not signals.known and math.isnan(signals.r2) and signals.spx_crossover == 0


def test_a_bearish_spx_crossover_is_reported_on_its_session() -> None:
    rising = [2500.0 + 5 * i for i in range(60)]
    closes = rising + [rising[-1] - 15 * (i + 1) for i in range(10)]
    marks = crossovers(macd(np.array(closes)).histogram)
    turn = int(np.flatnonzero(marks == -1)[-1])
    spx = bars(closes[: turn + 1])
    vix = bars([15.0] * (turn + 1))
    signals = signals_of(spx, vix, [], {}, PARAMS, HEDGE)
    assert signals.day == spx[-1].day and signals.spx_crossover == -1
    before = signals_of(spx[:-1], vix[:-1], [], {}, PARAMS, HEDGE)
    assert before.spx_crossover == 0


def test_a_vix_slide_opens_a_low_rsi_episode_with_its_start() -> None:
    vix = [20.0 - 0.25 * i for i in range(40)]
    signals = signals_of(bars([2700.0] * 40), bars(vix), [], {}, PARAMS, HEDGE)
    assert signals.vix_rsi < PARAMS.rsi_low and signals.rsi_episode == "low"
    assert signals.rsi_episode_start is not None and signals.rsi_episode_start <= signals.day


def test_days_missing_from_one_series_are_dropped_not_filled() -> None:
    spx = bars([2700.0 + i for i in range(30)])
    vix = bars([15.0] * 30)[:-1]  # no VIX close on the last SPX session
    signals = signals_of(spx, vix, [], {}, PARAMS, HEDGE)
    assert signals.day == spx[-2].day


def test_r2_of_an_account_that_is_twice_spx_is_one_and_needs_a_full_window() -> None:
    rng = np.random.default_rng(7)
    spx = 2700.0 * np.cumprod(1 + rng.normal(0, 0.01, 80))
    account = 1e6 * np.cumprod(1 + 2 * np.diff(spx, prepend=spx[0]) / np.r_[spx[0], spx[:-1]])
    spx_bars = bars(spx.tolist())
    equity = {b.day: float(v) for b, v in zip(spx_bars, account, strict=True)}
    signals = signals_of(spx_bars, bars([15.0] * 80), [], equity, PARAMS, HEDGE)
    assert signals.r2 > 0.999
    short = {d: v for d, v in list(equity.items())[-30:]}
    assert math.isnan(signals_of(spx_bars, bars([15.0] * 80), [], short, PARAMS, HEDGE).r2)


def test_breadth_without_todays_session_gives_no_divergence() -> None:
    closes = [2700.0 + i for i in range(60)]
    breadth = bars([100.0 - 3 * i for i in range(60)])[:-1]
    signals = signals_of(bars(closes), bars([15.0] * 60), breadth, {}, PARAMS, HEDGE)
    assert signals.breadth_divergence is False


def test_fading_breadth_at_an_spx_high_is_a_divergence() -> None:
    closes = [2700.0 + 2 * i for i in range(60)]
    net = [3.0 * i for i in range(56)] + [165.0] * 4  # breadth stops accelerating
    signals = signals_of(bars(closes), bars([15.0] * 60), bars(net), {}, PARAMS, HEDGE)
    assert signals.breadth_divergence is True
    strong = [10.0 * 1.08**i for i in range(60)]  # accelerating breadth: no divergence
    assert not signals_of(
        bars(closes), bars([15.0] * 60), bars(strong), {}, PARAMS, HEDGE
    ).breadth_divergence
