"""vix_proxy.py: GJR-GARCH forward volatility mapped to VIX, judged on the 2014-2018 overlap."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from arch import arch_model
from arch.data import sp500

from broker.sim.vix_proxy import (
    HORIZON_DAYS,
    FitStats,
    GarchParams,
    ProxyFit,
    arch_vix_proxy,
    fit_garch,
    fit_stats,
    fit_vix_proxy,
    forward_volatility,
    proxy_overlap_frame,
)


@pytest.fixture(scope="module")
def gjr() -> tuple[pd.Series, ProxyFit]:
    return arch_vix_proxy()


@pytest.fixture(scope="module")
def spx_vix() -> tuple[pd.Series, pd.Series]:
    frame = proxy_overlap_frame()
    spx = sp500.load()["Close"]
    spx.index = pd.DatetimeIndex(spx.index).normalize()
    return spx, frame["real"]


def test_overlap_fit_is_good_in_sample(gjr: tuple[pd.Series, ProxyFit]) -> None:
    _, fit = gjr
    assert fit.overlap == (date(2014, 1, 3), date(2018, 12, 31))
    s = fit.in_sample
    assert s.days == 1257
    assert s.r2 > 0.75  # measured 0.80
    assert s.rmse < 2.1  # measured 1.91 VIX points
    assert abs(s.mean_error) < 0.3  # measured -0.11
    assert s.change_corr > 0.7  # measured 0.75


def test_holdout_fit_2017_2018_calibrated_on_2014_2016(gjr: tuple[pd.Series, ProxyFit]) -> None:
    _, fit = gjr
    assert fit.holdout_from == date(2017, 1, 1)
    assert fit.holdout is not None
    h = fit.holdout
    assert h.days == 502
    assert h.r2 > 0.75  # measured 0.84
    assert h.rmse < 2.1  # measured 1.83
    assert abs(h.mean_error) < 1.0  # measured +0.74: 2017's record-low VIX is overestimated
    assert h.change_corr > 0.7  # measured 0.79


def test_mapping_has_a_variance_risk_premium_shape(gjr: tuple[pd.Series, ProxyFit]) -> None:
    _, fit = gjr
    # VIX reacts less than one for one to GARCH volatility, and sits above it when calm
    assert 0.4 < fit.slope < 0.9
    assert np.exp(fit.intercept) * 12.0**fit.slope > 12.0
    g = fit.garch
    assert g.gamma > 0.05 and g.persistence < 1.0 and g.nu > 2.0


def test_gjr_beats_plain_garch_on_the_overlap(gjr: tuple[pd.Series, ProxyFit]) -> None:
    _, fit = gjr
    _, plain = arch_vix_proxy("garch")
    assert plain.model == "garch" and plain.garch.gamma == 0.0
    assert fit.in_sample.rmse < plain.in_sample.rmse
    assert fit.in_sample.change_corr > plain.in_sample.change_corr + 0.2
    assert plain.holdout is not None and fit.holdout is not None
    assert fit.holdout.rmse < plain.holdout.rmse


def test_proxy_covers_every_spx_day_with_plausible_levels(
    gjr: tuple[pd.Series, ProxyFit],
) -> None:
    proxy, _ = gjr
    assert len(proxy) == 5031
    assert proxy.index[0] == pd.Timestamp("1999-01-04")
    values = proxy.to_numpy()
    assert np.all(np.isfinite(values)) and values.min() > 8.0 and values.max() < 90.0
    assert proxy["2008"].max() > 40.0 > proxy["2006"].max()


def test_arch_vix_proxy_returns_a_copy(gjr: tuple[pd.Series, ProxyFit]) -> None:
    proxy, _ = gjr
    proxy.iloc[0] = -1.0
    again, _ = arch_vix_proxy()
    assert again.iloc[0] > 0.0


def test_closed_form_equals_arch_forecast(spx_vix: tuple[pd.Series, pd.Series]) -> None:
    spx, _ = spx_vix
    returns = (100.0 * np.log(spx).diff()).iloc[1:]
    params, next_var = fit_garch(returns, "gjr")
    ours = forward_volatility(next_var, params)
    res = arch_model(returns, p=1, o=1, q=1, dist="t", rescale=False).fit(disp="off")
    fc = res.forecast(horizon=HORIZON_DAYS, start=returns.index[-30], reindex=False)
    theirs = np.sqrt(252.0 * fc.variance.mean(axis=1).to_numpy())
    # forecasts made at the close of day t sit at position t of the close series
    assert ours[-30:] == pytest.approx(theirs, rel=1e-9)


def test_forward_volatility_handles_unit_persistence_and_the_long_run_level() -> None:
    igarch = GarchParams(mu=0.0, omega=0.01, alpha=0.1, gamma=0.0, beta=0.9, nu=8.0)
    vol = forward_volatility(np.array([1.0]), igarch)
    # phi = 1: E[h_k] = h_1 + (k - 1) * omega, averaged over k = 1..21
    assert vol[0] == pytest.approx(np.sqrt(252.0 * (1.0 + 0.01 * 10.0)))
    stable = GarchParams(mu=0.0, omega=0.05, alpha=0.05, gamma=0.1, beta=0.85, nu=8.0)
    long_run = stable.omega / (1.0 - stable.persistence)
    assert forward_volatility(np.array([long_run]), stable)[0] == pytest.approx(
        np.sqrt(252.0 * long_run)
    )


def test_fit_recovers_a_known_mapping(spx_vix: tuple[pd.Series, pd.Series]) -> None:
    spx, real = spx_vix
    proxy, fit = arch_vix_proxy()
    # a "VIX" that is exactly exp(1.2) * sigma^0.6 on the overlap is fitted perfectly
    sigma = np.exp((np.log(proxy) - fit.intercept) / fit.slope)
    fake = np.exp(1.2) * sigma[real.index] ** 0.6
    _, exact = fit_vix_proxy(spx, fake, holdout_from=date(2017, 1, 1))
    assert exact.intercept == pytest.approx(1.2, abs=1e-6)
    assert exact.slope == pytest.approx(0.6, abs=1e-6)
    assert exact.in_sample.r2 == pytest.approx(1.0)
    assert exact.in_sample.rmse == pytest.approx(0.0, abs=1e-6)


def test_fit_is_deterministic(spx_vix: tuple[pd.Series, pd.Series]) -> None:
    spx, real = spx_vix
    first = fit_vix_proxy(spx, real)
    second = fit_vix_proxy(spx, real)
    assert first[1] == second[1]
    pd.testing.assert_series_equal(first[0], second[0])
    # default hold-out split: 60% of the overlap days
    assert first[1].holdout_from == real.index[int(0.6 * len(real))].date()


def test_too_little_data_is_refused(spx_vix: tuple[pd.Series, pd.Series]) -> None:
    spx, real = spx_vix
    with pytest.raises(ValueError, match="at least 250 SPX returns"):
        fit_vix_proxy(spx.iloc[:200], real)
    with pytest.raises(ValueError, match="share 10 days"):
        fit_vix_proxy(spx, real.iloc[:10])
    unsorted = spx.iloc[::-1]
    with pytest.raises(ValueError, match="ascending"):
        fit_vix_proxy(unsorted, real)


def test_holdout_skipped_when_a_part_is_too_short(spx_vix: tuple[pd.Series, pd.Series]) -> None:
    spx, real = spx_vix
    _, fit = fit_vix_proxy(spx, real.iloc[:30])
    assert fit.holdout is None and fit.holdout_from is None
    assert fit.in_sample.days == 30


def test_fit_stats_by_hand() -> None:
    idx = pd.to_datetime(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"])
    real = pd.Series([10.0, 12.0, 11.0, 13.0], index=idx)
    proxy = pd.Series([11.0, 13.0, 12.0, 14.0], index=idx)  # +1 everywhere
    stats = fit_stats(real, proxy)
    assert isinstance(stats, FitStats) and stats.days == 4
    assert stats.r2 == pytest.approx(1.0 - 4.0 / 5.0)  # SSE 4, SST 5
    assert (stats.rmse, stats.mean_error) == (1.0, 1.0)
    assert stats.change_corr == pytest.approx(1.0)


def test_overlap_frame_for_the_chart() -> None:
    frame = proxy_overlap_frame()
    assert list(frame.columns) == ["real", "proxy"]
    assert len(frame) == 1257
    assert frame.index[0] == pd.Timestamp("2014-01-03")
    assert frame.notna().all().all()
    assert frame["real"].corr(frame["proxy"]) > 0.85
