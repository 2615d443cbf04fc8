"""macd.py: EMA-based MACD against the pandas recipe, warm-up, NaN sessions and crossovers."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies.signals.macd import crossovers, last_crossover, macd


def random_walk(n: int, seed: int = 7) -> np.ndarray:
    return 100.0 + np.cumsum(np.random.default_rng(seed).normal(size=n))


def pandas_macd(values: np.ndarray) -> tuple[pd.Series, pd.Series, pd.Series]:
    closes = pd.Series(values)
    line = closes.ewm(span=12, adjust=False).mean() - closes.ewm(span=26, adjust=False).mean()
    signal = line.ewm(span=9, adjust=False).mean()
    return line, signal, line - signal


def test_values_match_the_pandas_ewm_recipe_after_warm_up() -> None:
    values = random_walk(300)
    result = macd(values)
    line, signal, histogram = pandas_macd(values)
    np.testing.assert_allclose(result.line[25:], line[25:], rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.signal[33:], signal[33:], rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.histogram[33:], histogram[33:], rtol=0, atol=1e-12)


def test_warm_up_sessions_are_nan() -> None:
    result = macd(random_walk(100))
    assert np.isnan(result.line[:25]).all() and np.isfinite(result.line[25:]).all()
    assert np.isnan(result.signal[:33]).all() and np.isfinite(result.signal[33:]).all()
    assert np.isnan(result.histogram[:33]).all() and np.isfinite(result.histogram[33:]).all()


def test_hand_computed_small_case() -> None:
    # fast EMA (alpha 2/3): 1, 5/3, 29/9, 101/27; slow EMA (alpha 1/2): 1, 3/2, 11/4, 27/8
    # line: 0, 1/6, 17/36, 79/216; signal (alpha 2/3): 0, 1/9, 19/54, 13/36
    result = macd([1.0, 2.0, 4.0, 4.0], fast=2, slow=3, signal=2)
    assert np.isnan(result.line[:2]).all()
    assert result.line[2] == pytest.approx(17 / 36)
    assert result.line[3] == pytest.approx(79 / 216)
    assert np.isnan(result.signal[:3]).all()
    assert result.signal[3] == pytest.approx(13 / 36)
    assert result.histogram[3] == pytest.approx(1 / 216)


@pytest.mark.parametrize("n", [0, 1, 5, 25, 33])
def test_short_input_gives_nan_not_an_exception(n: int) -> None:
    result = macd(random_walk(n))
    assert result.line.shape == result.signal.shape == result.histogram.shape == (n,)
    assert np.isnan(result.histogram).all()


def test_constant_series_has_zero_line_and_no_crossover() -> None:
    result = macd(np.full(60, 4321.5))
    assert (result.line[25:] == 0.0).all()
    assert (result.histogram[33:] == 0.0).all()
    assert not crossovers(result.histogram).any()


def test_missing_sessions_are_skipped_and_reported_as_nan() -> None:
    values = random_walk(120)
    holed = values.copy()
    holed[[0, 60, 61]] = np.nan
    result = macd(holed)
    assert np.isnan(result.histogram[[0, 60, 61]]).all()
    compact = macd(np.delete(values, [0, 60, 61]))
    np.testing.assert_allclose(
        np.delete(result.histogram, [0, 60, 61]), compact.histogram, equal_nan=True
    )
    reference = pd.Series(holed).ewm(span=12, adjust=False, ignore_na=True).mean()
    reference -= pd.Series(holed).ewm(span=26, adjust=False, ignore_na=True).mean()
    np.testing.assert_allclose(result.line[100:], reference[100:], atol=1e-12)


def test_uses_no_future_data() -> None:
    values = random_walk(200)
    full = macd(values).histogram
    for end in (40, 99, 150):
        np.testing.assert_array_equal(macd(values[:end]).histogram, full[:end])


@pytest.mark.parametrize(
    ("fast", "slow", "signal"), [(26, 12, 9), (12, 12, 9), (0, 26, 9), (12, 26, 0)]
)
def test_bad_periods_are_refused(fast: int, slow: int, signal: int) -> None:
    with pytest.raises(ValueError, match="fast < slow"):
        macd(random_walk(50), fast, slow, signal)


def test_crossovers_mark_sign_changes_of_the_histogram() -> None:
    histogram = [math.nan, -1.0, 0.0, 0.5, 0.2, -0.1, 0.0, 1.0]
    assert crossovers(histogram).tolist() == [0, 0, 0, 1, 0, -1, 0, 1]


def test_zero_counts_as_not_positive() -> None:
    assert crossovers([0.3, 0.0, 0.0, 0.1]).tolist() == [0, -1, 0, 1]


def test_crossover_across_a_missing_session_is_reported_after_it() -> None:
    assert crossovers([1.0, math.nan, -1.0, math.nan, 2.0]).tolist() == [0, 0, -1, 0, 1]


@given(st.lists(st.one_of(st.floats(-5, 5), st.just(math.nan)), max_size=80))
def test_crossovers_alternate_in_sign_and_agree_with_the_histogram(values: list[float]) -> None:
    marks = crossovers(values)
    hist = np.asarray(values)
    signs = [int(mark) for mark in marks if mark != 0]
    assert all(a == -b for a, b in itertools.pairwise(signs))
    assert all(hist[i] > 0 for i in np.flatnonzero(marks == 1))
    assert all(hist[i] <= 0 for i in np.flatnonzero(marks == -1))


def test_last_crossover_reports_the_latest_session() -> None:
    values = random_walk(250, seed=3)
    marks = crossovers(macd(values).histogram)
    bullish = int(np.flatnonzero(marks == 1)[0])
    bearish = int(np.flatnonzero(marks == -1)[0])
    quiet = int(np.flatnonzero((marks == 0) & (np.arange(250) > 40))[0])
    assert last_crossover(values[: bullish + 1]) == 1
    assert last_crossover(values[: bearish + 1]) == -1
    assert last_crossover(values[: quiet + 1]) == 0


def test_spx_turning_down_after_a_rally_is_a_bearish_crossover() -> None:
    rally = list(np.linspace(2600.0, 2800.0, 60))
    values = [*rally, 2790.0, 2770.0, 2745.0, 2715.0, 2680.0]
    marks = [last_crossover(values[:end]) for end in range(60, len(values) + 1)]
    assert -1 in marks and 1 not in marks


def test_last_crossover_of_short_input_is_zero() -> None:
    assert last_crossover([]) == 0
    assert last_crossover([1.0, 2.0, 3.0]) == 0
