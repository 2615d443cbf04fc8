"""breadth.py: advance-decline line, fading MACD histogram, near-high test and the flag."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies.signals.breadth import (
    ad_line,
    breadth_divergence,
    histogram_narrowing,
    near_rolling_high,
)


def test_ad_line_is_the_cumulative_net_advances() -> None:
    line = ad_line([1800, 2100, 900, 1500], [1200, 800, 2200, 1500])
    assert line.tolist() == [600.0, 1900.0, 600.0, 600.0]


def test_ad_line_skips_a_missing_session() -> None:
    line = ad_line([100.0, math.nan, 50.0], [50.0, 10.0, 150.0])
    assert line[0] == 50.0 and math.isnan(line[1]) and line[2] == -50.0


def test_narrowing_means_positive_and_strictly_falling_for_three_sessions() -> None:
    histogram = [math.nan, 5.0, 4.0, 3.0, 2.0, 1.0, -1.0, -2.0, -3.0, -4.0]
    assert np.flatnonzero(histogram_narrowing(histogram)).tolist() == [4, 5]


def test_negative_histogram_shrinking_toward_zero_is_not_narrowing() -> None:
    # |hist| falls for three sessions, but breadth momentum is improving, not fading.
    assert not histogram_narrowing([-4.0, -3.0, -2.0, -1.0]).any()


def test_a_flat_step_breaks_the_run() -> None:
    assert not histogram_narrowing([5.0, 4.0, 4.0, 3.0, 2.0]).any()
    assert histogram_narrowing([5.0, 4.0, 4.0, 3.0, 2.0, 1.0]).tolist()[-1]


def test_narrowing_session_count_is_configurable() -> None:
    histogram = [3.0, 2.0, 1.0]
    assert histogram_narrowing(histogram, sessions=2).tolist() == [False, False, True]
    assert not histogram_narrowing(histogram, sessions=3).any()


def test_narrowing_skips_a_missing_session() -> None:
    flags = histogram_narrowing([4.0, 3.0, math.nan, 2.0, 1.0])
    assert flags.tolist() == [False, False, False, False, True]


def test_near_high_uses_the_window_including_today() -> None:
    closes = [100.0, 102.0, 101.5, 100.9, 99.0]
    # t=2: 101.5 >= 0.99 * 102; t=3: 100.9 < 100.98; t=4: high of the last 3 is 101.5.
    assert near_rolling_high(closes, pct=0.01, window=3).tolist() == [
        False,
        False,
        True,
        False,
        False,
    ]


def test_a_new_high_is_near_the_high() -> None:
    assert near_rolling_high(np.arange(1.0, 30.0)).tolist() == [False] * 19 + [True] * 10


def fading_breadth(n: int = 80) -> np.ndarray:
    """An A/D line that climbs faster and faster, then keeps climbing more slowly."""
    steps = np.concatenate([np.linspace(0.0, 400.0, 50), np.linspace(400.0, 100.0, n - 50)])
    return np.cumsum(steps)


def reference_histogram(values: np.ndarray) -> np.ndarray:
    series = pd.Series(values)
    line = series.ewm(span=12, adjust=False).mean() - series.ewm(span=26, adjust=False).mean()
    return (line - line.ewm(span=9, adjust=False).mean()).to_numpy()


def test_divergence_flags_fading_breadth_while_spx_makes_highs() -> None:
    ad = fading_breadth()
    spx = np.linspace(2700.0, 2900.0, ad.size)
    flags = breadth_divergence(ad, spx)
    assert flags.any()
    hist = reference_histogram(ad)
    for t in np.flatnonzero(flags):
        assert t >= 36 and hist[t] > 0
        assert hist[t - 3] > hist[t - 2] > hist[t - 1] > hist[t]
    expected = [
        t >= 36 and hist[t] > 0 and hist[t - 3] > hist[t - 2] > hist[t - 1] > hist[t]
        for t in range(ad.size)
    ]
    assert flags.tolist() == expected


def test_no_divergence_when_spx_is_more_than_1pct_below_its_high() -> None:
    ad = fading_breadth()
    spx = np.full(ad.size, 2900.0)
    spx[40:] = 2860.0  # 1.4% under the 2900 high until it leaves the 20-session window
    flags = breadth_divergence(ad, spx)
    assert breadth_divergence(ad, np.full(ad.size, 2900.0))[53:59].all()
    assert not flags[:59].any()
    assert flags[59:].any()


def test_no_divergence_when_breadth_keeps_accelerating() -> None:
    ad = np.cumsum(np.linspace(0.0, 400.0, 80))
    assert not breadth_divergence(ad, np.linspace(2700.0, 2900.0, 80)).any()


@pytest.mark.parametrize("n", [0, 1, 20, 36])
def test_short_input_gives_no_flag_not_an_exception(n: int) -> None:
    flags = breadth_divergence(fading_breadth(80)[:n], np.full(n, 2800.0))
    assert flags.shape == (n,) and not flags.any()


def test_a_missing_spx_close_leaves_the_flag_off_that_session() -> None:
    ad = fading_breadth()
    spx = np.linspace(2700.0, 2900.0, ad.size)
    on = int(np.flatnonzero(breadth_divergence(ad, spx))[0])
    spx[on] = math.nan
    assert not breadth_divergence(ad, spx)[on]


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="ad_values has 3 sessions but spx_closes has 2"):
        breadth_divergence([1.0, 2.0, 3.0], [1.0, 2.0])


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="near_high_pct"):
        breadth_divergence([1.0], [1.0], near_high_pct=1.5)


def _narrowing_by_definition(hist: list[float], sessions: int) -> list[bool]:
    """hist[t - sessions] > ... > hist[t] > 0, session by session (the rule as written)."""
    return [
        t >= sessions
        and hist[t] > 0.0
        and all(hist[i - 1] > hist[i] for i in range(t - sessions + 1, t + 1))
        for t in range(len(hist))
    ]


def _near_high_by_definition(closes: list[float], pct: float, window: int) -> list[bool]:
    return [
        t >= window - 1 and closes[t] >= (1.0 - pct) * max(closes[t - window + 1 : t + 1])
        for t in range(len(closes))
    ]


_values = st.lists(st.floats(-5.0, 5.0, allow_nan=False).map(lambda x: round(x, 1)), max_size=40)


@given(_values, st.integers(1, 5))
def test_narrowing_matches_the_rule_session_by_session(hist: list[float], sessions: int) -> None:
    found = histogram_narrowing(np.array(hist, dtype=float), sessions)
    assert found.tolist() == _narrowing_by_definition(hist, sessions)


@given(_values, st.integers(1, 25), st.sampled_from([0.0, 0.01, 0.1]))
def test_near_high_matches_the_rule_session_by_session(
    closes: list[float], window: int, pct: float
) -> None:
    found = near_rolling_high(np.array(closes, dtype=float), pct, window)
    assert found.tolist() == _near_high_by_definition(closes, pct, window)
