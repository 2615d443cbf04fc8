"""breadth.py: synthetic NYSE advances/declines driven by SPX returns plus a persistent part."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from arch.data import sp500

from broker.sim.breadth import BreadthModel, advancing_share, synthesize_breadth
from broker.sim.history import DailyHistory
from strategies.signals.breadth import ad_line, breadth_divergence


@pytest.fixture(scope="module")
def spx() -> pd.Series:
    closes = sp500.load()["Close"]
    closes.index = pd.DatetimeIndex(closes.index).normalize()
    return closes


@pytest.fixture(scope="module")
def breadth(spx: pd.Series) -> pd.DataFrame:
    return synthesize_breadth(spx)


def _since_2014(index: pd.Index) -> np.ndarray:
    return np.asarray(index >= pd.Timestamp("2014-01-01"))


def test_counts_are_integers_that_sum_to_the_issues(breadth: pd.DataFrame, spx: pd.Series) -> None:
    assert breadth.index.equals(spx.index)
    assert list(breadth.columns) == ["advances", "declines", "unchanged"]
    assert all(dtype == np.int64 for dtype in breadth.dtypes)
    total = breadth["advances"] + breadth["declines"] + breadth["unchanged"]
    assert (total == 3000).all()
    assert (breadth["unchanged"] == 90).all()
    assert (breadth >= 0).all().all()


def test_net_advances_correlate_with_spx_returns(breadth: pd.DataFrame, spx: pd.Series) -> None:
    returns = np.log(spx).diff().fillna(0.0)
    net = breadth["advances"] - breadth["declines"]
    whole = np.corrcoef(net, returns)[0, 1]
    recent = _since_2014(spx.index)
    last_five_years = np.corrcoef(net[recent], returns[recent])[0, 1]
    assert 0.75 < whole < 0.9  # measured 0.839
    assert 0.8 < last_five_years < 0.93  # measured 0.888


def test_breadth_divergence_fires_on_some_days_but_not_most(
    breadth: pd.DataFrame, spx: pd.Series
) -> None:
    flag = breadth_divergence(ad_line(breadth["advances"], breadth["declines"]), spx.to_numpy())
    recent = flag[_since_2014(spx.index)]
    assert 0.03 < recent.mean() < 0.2  # measured 0.079 (99 of 1258 sessions)
    episodes = int(np.sum(recent[1:] & ~recent[:-1]))
    assert episodes >= 20  # measured 40 separate episodes


def test_idiosyncratic_part_is_persistent_and_changes_the_flagged_days(spx: pd.Series) -> None:
    alone = advancing_share(spx, BreadthModel(beta=0.0))  # Phi(u_t)
    lag1 = np.corrcoef(alone[1:], alone[:-1])[0, 1]
    assert 0.9 < lag1 < 0.99  # persistence 0.95
    price_only = synthesize_breadth(spx, BreadthModel(idiosyncratic_sd=0.0))
    mixed = synthesize_breadth(spx)
    closes = spx.to_numpy()
    f0 = breadth_divergence(ad_line(price_only["advances"], price_only["declines"]), closes)
    f1 = breadth_divergence(ad_line(mixed["advances"], mixed["declines"]), closes)
    assert (f0 != f1).sum() > 0.5 * f1.sum()


def test_no_return_and_no_noise_means_an_even_split(spx: pd.Series) -> None:
    flat = synthesize_breadth(spx, BreadthModel(beta=0.0, idiosyncratic_sd=0.0))
    assert (flat["advances"] == 1455).all() and (flat["declines"] == 1455).all()


def test_first_day_has_no_return(spx: pd.Series) -> None:
    share = advancing_share(spx.iloc[:5], BreadthModel(idiosyncratic_sd=0.0))
    assert share[0] == 0.5
    assert ((share[1:] > 0.5) == (np.diff(spx.iloc[:5].to_numpy()) > 0)).all()


def test_deterministic_and_seeded(spx: pd.Series, breadth: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(synthesize_breadth(spx), breadth)
    other = synthesize_breadth(spx, BreadthModel(seed=7))
    assert not other.equals(breadth)


def test_bigger_moves_mean_more_lopsided_breadth(spx: pd.Series, breadth: pd.DataFrame) -> None:
    returns = np.log(spx).diff().fillna(0.0)
    big_down = returns < -0.03
    assert big_down.sum() > 20
    assert (breadth["advances"][big_down] < breadth["declines"][big_down]).mean() > 0.95


def test_empty_and_tiny_series() -> None:
    empty = synthesize_breadth(pd.Series([], dtype="float64"))
    assert empty.empty and list(empty.columns) == ["advances", "declines", "unchanged"]
    one = synthesize_breadth(pd.Series([100.0], index=pd.to_datetime(["2020-01-02"])))
    assert int(one["advances"].iloc[0] + one["declines"].iloc[0]) == 2910


@pytest.mark.parametrize(
    "bad",
    [
        {"issues": 0},
        {"unchanged_share": 1.0},
        {"persistence": 1.0},
        {"ewma_lambda": 0.0},
        {"beta": -0.1},
        {"idiosyncratic_sd": -1.0},
    ],
)
def test_model_rejects_meaningless_parameters(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        BreadthModel(**bad)  # type: ignore[arg-type]


def test_history_labels_breadth_synthetic_and_matches(breadth: pd.DataFrame) -> None:
    hist = DailyHistory.from_arch(date(2018, 1, 1), date(2018, 12, 31))
    assert hist.breadth_source == "synthetic"
    bar = hist.bar(date(2018, 6, 1))
    row = breadth.loc[pd.Timestamp("2018-06-01")]
    assert (bar.advances, bar.declines) == (row["advances"], row["declines"])
