"""Tests for the VIX futures term structure (broker.sim.vix_futures)."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.calendar import TradingCalendar, default_calendar
from broker.sim.vix_futures import TermStructureParams, vix_futures_curve, vix_futures_prices
from broker.vix_calendar import vix_futures_months

MONTH = 1.0 / 12.0
prop = settings(max_examples=100, deadline=None)


@pytest.fixture(scope="module")
def cal() -> TradingCalendar:
    return default_calendar()


@pytest.fixture(scope="module")
def real_vix() -> pd.Series:
    """Real VIX closes 2014-01-03..2018-12-31 (arch's data set), holidays dropped."""
    from arch.data import vix

    return vix.load()["vix"].dropna().loc["2014-01-03":"2018-12-31"]


@pytest.fixture(scope="module")
def m2_over_m1(real_vix: pd.Series, cal: TradingCalendar) -> np.ndarray:
    """M2 / M1 - 1 of the model curve on each real day."""
    out = []
    for stamp, level in real_vix.items():
        (_, m1), (_, m2) = vix_futures_curve(stamp.date(), float(level), 2, calendar=cal)
        out.append(m2 / m1 - 1.0)
    return np.array(out)


# --------------------------------------------------------------------------------------------
# Prices
# --------------------------------------------------------------------------------------------


@prop
@given(vix=st.floats(1.0, 200.0), t=st.floats(0.0, 3.0))
def test_prices_positive_finite_and_between_vix_and_long_run_with_premium(
    vix: float, t: float
) -> None:
    price = float(vix_futures_prices(vix, t))
    p = TermStructureParams()
    assert math.isfinite(price) and price > 0.0
    low = min(vix, p.long_run)
    high = max(vix, p.long_run) * math.exp(p.premium)
    assert low * (1 - 1e-12) <= price <= high * (1 + 1e-12)


@prop
@given(vix=st.floats(1.0, 200.0))
def test_future_converges_to_the_vix_at_expiry(vix: float) -> None:
    prices = vix_futures_prices(vix, [0.0, -0.5, 1e-9, 1.0 / (365 * 24 * 60)])
    assert prices[0] == pytest.approx(vix, rel=1e-14)
    assert prices[1] == pytest.approx(vix, rel=1e-14)  # negative t counts as expired
    assert prices[2] == pytest.approx(vix, rel=1e-7)
    assert prices[3] == pytest.approx(vix, rel=1e-3)  # one minute before: continuous


def test_far_futures_tend_to_the_long_run_level_plus_premium() -> None:
    p = TermStructureParams()
    target = p.long_run * math.exp(p.premium)
    for vix in (9.0, 19.5, 60.0):
        assert vix_futures_prices(vix, 10.0) == pytest.approx(target, rel=1e-9)


def test_calm_curve_is_in_contango_all_the_way() -> None:
    t = np.arange(0.0, 9.0) * MONTH
    for vix in (9.0, 12.0, 15.0, 19.0):
        assert np.all(np.diff(vix_futures_prices(vix, t)) > 0.0)


def test_calm_month_to_month_slope_is_a_few_percent() -> None:
    slope = vix_futures_prices(13.0, 2 * MONTH) / vix_futures_prices(13.0, MONTH) - 1.0
    assert 0.02 < slope < 0.15


def test_stress_curve_is_in_backwardation() -> None:
    t = np.arange(0.0, 9.0) * MONTH
    for vix in (25.0, 30.0, 40.0, 80.0):
        prices = vix_futures_prices(vix, t)
        assert np.all(np.diff(prices) < 0.0)
        assert prices[-1] > TermStructureParams().long_run  # still above the long-run level


def test_without_premium_the_switch_is_at_the_long_run_level() -> None:
    params = TermStructureParams(premium=0.0)
    t = np.array([0.5, 1.5]) * MONTH
    assert np.diff(vix_futures_prices(19.4, t, params))[0] > 0.0
    assert np.diff(vix_futures_prices(19.6, t, params))[0] < 0.0
    flat = vix_futures_prices(19.5, np.linspace(0, 1, 5), params)
    np.testing.assert_allclose(flat, 19.5, rtol=1e-12)


def test_premium_raises_every_future_but_not_the_expiring_one() -> None:
    t = np.array([0.0, 0.5, 1.0, 4.0]) * MONTH
    with_premium = vix_futures_prices(15.0, t)
    without = vix_futures_prices(15.0, t, TermStructureParams(premium=0.0))
    assert with_premium[0] == without[0] == 15.0
    assert np.all(with_premium[1:] > without[1:])


def test_arrays_keep_their_shape_and_bad_inputs_give_nan() -> None:
    t = np.full((2, 3), 0.1)
    assert vix_futures_prices(15.0, t).shape == (2, 3)
    assert np.isnan(vix_futures_prices(15.0, [np.nan]))[0]
    for bad in (0.0, -1.0, math.nan, math.inf):
        assert np.isnan(vix_futures_prices(bad, [0.0, 0.1])).all()


@pytest.mark.parametrize(
    "kwargs",
    [{"long_run": 0.0}, {"kappa": -1.0}, {"premium_days": 0.0}, {"premium": 0.9}],
)
def test_params_reject_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        TermStructureParams(**kwargs)


# --------------------------------------------------------------------------------------------
# The listed curve
# --------------------------------------------------------------------------------------------


def test_curve_lists_the_eight_calendar_months(cal: TradingCalendar) -> None:
    day = date(2017, 6, 15)
    curve = vix_futures_curve(day, 10.9, calendar=cal)
    assert [e for e, _ in curve] == [e for e, _ in vix_futures_months(day, 8, cal)]
    assert curve[0][0] == date(2017, 6, 21) and curve[-1][0] == date(2018, 1, 17)
    prices = [p for _, p in curve]
    assert np.all(np.diff(prices) > 0.0)
    years = np.array([(e - day).days / 365.0 for e, _ in curve])
    np.testing.assert_allclose(prices, vix_futures_prices(10.9, years), rtol=1e-15)


def test_future_expiring_today_is_m1_at_the_vix(cal: TradingCalendar) -> None:
    expiry = date(2018, 2, 14)
    on = vix_futures_curve(expiry, 19.26, 3, calendar=cal)
    assert on[0] == (expiry, pytest.approx(19.26, rel=1e-15))
    assert [e for e, _ in on[1:]] == [date(2018, 3, 21), date(2018, 4, 18)]
    after = vix_futures_curve(date(2018, 2, 15), 19.13, 2, calendar=cal)
    assert after[0][0] == date(2018, 3, 21)
    before = vix_futures_curve(date(2018, 2, 13), 24.97, 1, calendar=cal)
    assert before[0][0] == expiry and before[0][1] != 24.97


def test_curve_uses_the_default_calendar_and_month_count() -> None:
    curve = vix_futures_curve(date(2018, 2, 5), 37.32)
    assert len(curve) == 8
    assert vix_futures_curve(date(2018, 2, 5), 37.32, 1) == curve[:1]
    with pytest.raises(ValueError):
        vix_futures_curve(date(2018, 2, 5), 37.32, 0)


def test_february_2018_spike_is_backwardated(cal: TradingCalendar) -> None:
    for day, level in ((date(2018, 2, 5), 37.32), (date(2018, 2, 6), 29.98)):
        prices = [p for _, p in vix_futures_curve(day, level, calendar=cal)]
        assert prices[0] < level
        assert np.all(np.diff(prices) < 0.0)


# --------------------------------------------------------------------------------------------
# On the real 2014-2018 VIX
# --------------------------------------------------------------------------------------------


def test_real_history_is_mostly_in_contango(real_vix: pd.Series, m2_over_m1: np.ndarray) -> None:
    assert len(real_vix) == 1257
    share = float(np.mean(m2_over_m1 > 0.0))
    assert 0.75 < share < 0.97
    # every day with the VIX below its long-run level is in contango
    calm = real_vix.to_numpy() < TermStructureParams().long_run
    assert np.all(m2_over_m1[calm] > 0.0)


def test_real_calm_days_roll_up_a_few_percent_a_month(
    real_vix: pd.Series, m2_over_m1: np.ndarray
) -> None:
    calm = real_vix.to_numpy() < 15.0
    assert 0.03 < float(np.median(m2_over_m1[calm])) < 0.12


def test_real_backwardation_only_when_the_vix_is_above_its_long_run_level(
    real_vix: pd.Series, m2_over_m1: np.ndarray
) -> None:
    inverted = m2_over_m1 < 0.0
    assert inverted.any()
    assert real_vix.to_numpy()[inverted].min() > TermStructureParams().long_run
