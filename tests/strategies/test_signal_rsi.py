"""rsi.py: Wilder RSI(14) against the StockCharts table and a plain loop, and RSI episodes."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies.signals.rsi import Episode, episode_at, rsi, rsi_episodes

# StockCharts ChartSchool "Relative Strength Index (RSI)", spreadsheet cs-rsi.xls: QQQQ closes
# (4 decimals in the sheet, shown rounded to 2 on the page) and its published 14-day RSI column.
CS_RSI_CLOSES = [
    44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826,
    45.8931, 46.0328, 45.6140, 46.2820, 46.2820, 46.0028, 46.0328, 46.4116, 46.2222, 45.6439,
    46.2122, 46.2521, 45.7137, 46.4515, 45.7835, 45.3548, 44.0288, 44.1783, 44.2181, 44.5672,
    43.4205, 42.6628, 43.1314,
]  # fmt: skip
CS_RSI_PUBLISHED = [
    70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38,
    54.71, 50.42, 39.99, 41.46, 41.87, 45.46, 37.30, 33.08, 37.77,
]  # fmt: skip
# The same closes rounded to 2 decimals, as the page shows them.
ROUNDED_CLOSES = [
    44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08,
    45.89, 46.03, 45.61, 46.28, 46.28, 46.00, 46.03, 46.41, 46.22, 45.64,
]  # fmt: skip


def loop_rsi(closes: list[float], period: int = 14) -> list[float]:
    """Wilder RSI written out longhand, independently of the module."""
    out = [math.nan] * len(closes)
    gains, losses = [], []
    for before, after in itertools.pairwise(closes):
        gains.append(max(after - before, 0.0))
        losses.append(max(before - after, 0.0))
    if len(gains) < period:
        return out
    avg_gain = sum(gains[:period]) / period
    avg_loss = sum(losses[:period]) / period
    for i in range(period, len(gains) + 1):
        if i > period:
            avg_gain = (avg_gain * (period - 1) + gains[i - 1]) / period
            avg_loss = (avg_loss * (period - 1) + losses[i - 1]) / period
        out[i] = 100.0 if avg_loss == 0 else 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    return out


def test_matches_the_stockcharts_published_table() -> None:
    values = rsi(CS_RSI_CLOSES)
    assert np.isnan(values[:14]).all()
    np.testing.assert_allclose(values[14:], CS_RSI_PUBLISHED, atol=0.005)


def test_rounded_closes_match_a_plain_loop() -> None:
    values = rsi(ROUNDED_CLOSES)
    np.testing.assert_allclose(values, loop_rsi(ROUNDED_CLOSES), rtol=1e-12, equal_nan=True)
    # Rounding the closes moves the first value from the sheet's 70.53 to 70.46.
    assert values[14] == pytest.approx(70.46, abs=0.005)


def test_first_value_is_the_simple_mean_of_the_first_period_changes() -> None:
    closes = [10.0, 11.0, 10.5, 12.0]  # gains 1, 0, 1.5; losses 0, 0.5, 0
    assert rsi(closes, period=3)[3] == pytest.approx(100.0 - 100.0 / (1.0 + 2.5 / 0.5))


def test_later_values_use_wilder_smoothing() -> None:
    closes = [10.0, 11.0, 10.5, 12.0, 11.0]  # the fourth change is a loss of 1
    avg_gain = (2.5 / 3 * 2 + 0.0) / 3
    avg_loss = (0.5 / 3 * 2 + 1.0) / 3
    assert rsi(closes, period=3)[4] == pytest.approx(100.0 - 100.0 / (1.0 + avg_gain / avg_loss))


def test_only_gains_give_100_only_losses_give_0_flat_gives_50() -> None:
    assert rsi(np.arange(1.0, 31.0))[-1] == 100.0
    assert rsi(np.arange(31.0, 1.0, -1.0))[-1] == 0.0
    assert rsi(np.full(30, 17.0))[-1] == 50.0


@pytest.mark.parametrize("n", [0, 1, 14])
def test_short_input_gives_nan_not_an_exception(n: int) -> None:
    values = rsi(np.arange(float(n)))
    assert values.shape == (n,) and np.isnan(values).all()


def test_fifteen_closes_give_one_value() -> None:
    values = rsi(np.arange(15.0))
    assert np.isnan(values[:14]).all() and values[14] == 100.0


def test_missing_sessions_are_skipped() -> None:
    holed = np.array([*CS_RSI_CLOSES[:20], math.nan, *CS_RSI_CLOSES[20:]])
    values = rsi(holed)
    assert math.isnan(values[20])
    np.testing.assert_allclose(np.delete(values, 20)[14:], CS_RSI_PUBLISHED, atol=0.005)


def test_bad_period_is_refused() -> None:
    with pytest.raises(ValueError, match="period"):
        rsi(CS_RSI_CLOSES, period=0)


@given(st.lists(st.floats(1.0, 100.0), max_size=60), st.integers(1, 20))
def test_rsi_stays_between_0_and_100(closes: list[float], period: int) -> None:
    values = rsi(closes, period)
    assert np.isnan(values[: min(period, len(closes))]).all()
    finite = values[np.isfinite(values)]
    assert ((finite >= 0.0) & (finite <= 100.0)).all()
    assert finite.size == max(len(closes) - period, 0)


EPISODE_RSI = [50.0, 25.0, 20.0, 35.0, 75.0, 80.0, 65.0, 28.0]


def test_episodes_start_on_entering_a_zone_and_end_on_leaving_it() -> None:
    assert rsi_episodes(EPISODE_RSI) == [
        Episode("low", 1, 3),
        Episode("high", 4, 6),
        Episode("low", 7, None),
    ]


def test_the_thresholds_themselves_are_outside_the_zones() -> None:
    assert rsi_episodes([29.0, 30.0, 70.0, 71.0, 70.0]) == [
        Episode("low", 0, 1),
        Episode("high", 3, 4),
    ]


def test_a_jump_from_low_to_high_ends_one_episode_and_starts_the_next() -> None:
    assert rsi_episodes([20.0, 80.0]) == [Episode("low", 0, 1), Episode("high", 1, None)]


def test_missing_values_neither_start_nor_end_an_episode() -> None:
    assert rsi_episodes([math.nan, 25.0, math.nan, 27.0, 40.0]) == [Episode("low", 1, 4)]
    assert rsi_episodes([]) == []
    assert rsi_episodes([math.nan] * 5) == []


def test_custom_thresholds() -> None:
    assert rsi_episodes([50.0, 35.0, 50.0], low=40.0, high=60.0) == [Episode("low", 1, 2)]
    with pytest.raises(ValueError, match="low < high"):
        rsi_episodes(EPISODE_RSI, low=70.0, high=30.0)


def test_episode_at_sees_only_data_up_to_the_session() -> None:
    assert episode_at(EPISODE_RSI, 0) is None
    assert episode_at(EPISODE_RSI, 2) == Episode("low", 1, None)
    assert episode_at(EPISODE_RSI, 3) is None
    assert episode_at(EPISODE_RSI, 5) == Episode("high", 4, None)
    assert episode_at(EPISODE_RSI, -1) == Episode("low", 7, None)


def test_episode_at_outside_the_series_is_an_error() -> None:
    with pytest.raises(IndexError, match="index 8"):
        episode_at(EPISODE_RSI, 8)


def test_add_on_block_is_bought_once_per_low_episode_and_sold_in_the_next_high() -> None:
    rsi_values = [50.0, 25.0, 22.0, 28.0, 45.0, 29.0, 26.0, 55.0, 72.0, 75.0, 60.0]
    bought: list[int] = []
    sold_at: list[int] = []
    for today in range(len(rsi_values)):
        episode = episode_at(rsi_values, today)
        if episode and episode.kind == "low" and episode.start_index not in bought:
            bought.append(episode.start_index)
        if episode and episode.kind == "high" and bought and not sold_at:
            sold_at.append(today)
    assert bought == [1, 5]
    assert sold_at == [8]


@given(st.lists(st.one_of(st.floats(0.0, 100.0), st.just(math.nan)), max_size=60))
def test_episodes_are_ordered_and_do_not_overlap(values: list[float]) -> None:
    episodes = rsi_episodes(values)
    for earlier, later in itertools.pairwise(episodes):
        assert earlier.end_index is not None and earlier.end_index <= later.start_index
    for episode in episodes:
        start = values[episode.start_index]
        assert start < 30.0 if episode.kind == "low" else start > 70.0
    assert all(episode.end_index is not None for episode in episodes[:-1])
