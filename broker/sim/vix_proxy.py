"""A VIX proxy for the days before the first real VIX close: GARCH volatility mapped to VIX.

arch ships SPX closes from 1999-01-04 but VIX closes only from 2014-01-03. Before that the
simulator needs a VIX level, so one is modeled from SPX alone:

1. Volatility model. A GJR-GARCH(1,1,1) with Student-t errors and a constant mean is fitted by
   maximum likelihood (``arch.arch_model``) on SPX daily log returns in percent over the whole
   SPX series. GJR adds the leverage term (a falling market raises variance more than a rising
   one), which is what makes VIX jump on down days. A plain GARCH(1,1)-t is available for
   comparison (``model="garch"``); on 2014-2018 it tracks VIX clearly worse, above all its
   daily changes (see ``docs/market-model.md``), so GJR is the default.
2. Forward volatility. For each day t, the average of the model's conditional variance
   forecasts for the next 21 trading days (about VIX's 30 calendar days), made with information
   up to t's close, annualized with 252 days: ``sigma_t = sqrt(252 * mean_k E_t[h_{t+k}])``.
   The closed-form GARCH recursion is used, vectorized:
   ``E_t[h_{t+k}] = omega * (1 + phi + ... + phi^(k-2)) + phi^(k-1) * h_{t+1}`` with
   ``phi = alpha + gamma / 2 + beta`` (symmetric errors: a shock is negative half the time).
   It equals ``arch``'s ``forecast(horizon=21)`` to rounding.
3. Mapping to VIX. VIX carries a variance risk premium and reacts to the level of volatility
   less than one for one, so ``log(VIX) = a + b * log(sigma)`` is fitted by least squares on the
   days where both exist (the overlap) and the proxy is ``exp(a + b * log(sigma))``.

The fit is judged on the overlap (R^2 of levels, RMSE and mean error in VIX points, correlation
of daily changes) and out of sample: calibrated on the overlap before ``holdout_from`` and tested
on the rest. The GARCH parameters use the whole SPX series (also after the day being proxied):
the proxy is a plausible level for replay, not a forecast anyone could have made at the time.
Everything is deterministic (the optimizer starts from arch's fixed starting values).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

VolModel = Literal["gjr", "garch"]
FloatArray = npt.NDArray[np.float64]

HORIZON_DAYS = 21
TRADING_DAYS_PER_YEAR = 252
MIN_RETURNS = 250
MIN_OVERLAP = 20
DEFAULT_HOLDOUT_SHARE = 0.6
ARCH_HOLDOUT_FROM = date(2017, 1, 1)


@dataclass(frozen=True)
class GarchParams:
    """Fitted parameters of the volatility model on percent returns (gamma = 0 for GARCH)."""

    mu: float
    omega: float
    alpha: float
    gamma: float
    beta: float
    nu: float

    @property
    def persistence(self) -> float:
        """Return alpha + gamma / 2 + beta: how slowly a variance shock decays."""
        return self.alpha + self.gamma / 2.0 + self.beta


@dataclass(frozen=True)
class FitStats:
    """How well a proxy tracks real VIX closes on a set of days."""

    days: int
    r2: float
    rmse: float
    mean_error: float
    change_corr: float


@dataclass(frozen=True)
class ProxyFit:
    """The volatility model, the log-log mapping to VIX and its fit on the overlap."""

    model: VolModel
    garch: GarchParams
    intercept: float
    slope: float
    overlap: tuple[date, date]
    in_sample: FitStats
    holdout_from: date | None
    holdout: FitStats | None


def _percent_returns(spx_close: pd.Series) -> pd.Series:
    """Return 100 * log daily returns of a date-indexed close series (first day dropped)."""
    closes = pd.to_numeric(spx_close, errors="raise").astype(np.float64)
    if not closes.index.is_monotonic_increasing or closes.index.has_duplicates:
        raise ValueError("SPX closes must have strictly ascending dates")
    if not bool(np.all(np.isfinite(closes.to_numpy()) & (closes.to_numpy() > 0.0))):
        raise ValueError("SPX closes must be finite and positive")
    log_close = pd.Series(np.log(closes.to_numpy()), index=closes.index)
    return (100.0 * log_close.diff()).iloc[1:]


def fit_garch(returns_pct: pd.Series, model: VolModel = "gjr") -> tuple[GarchParams, FloatArray]:
    """Fit the volatility model; return its parameters and the next-day variance after each day.

    The array has one entry per day of the close series (one more than the returns): entry t is
    the variance of day t+1's return forecast at day t's close.
    """
    from arch import arch_model

    if returns_pct.size < MIN_RETURNS:
        raise ValueError(
            f"the VIX proxy needs at least {MIN_RETURNS} SPX returns, got {returns_pct.size}"
        )
    spec = arch_model(
        returns_pct,
        mean="Constant",
        vol="GARCH",
        p=1,
        o=1 if model == "gjr" else 0,
        q=1,
        dist="t",
        rescale=False,
    )
    res = spec.fit(disp="off", show_warning=False)
    if res.convergence_flag != 0:
        raise ValueError(f"the {model} volatility model did not converge on the SPX returns")
    p = res.params
    params = GarchParams(
        mu=float(p["mu"]),
        omega=float(p["omega"]),
        alpha=float(p["alpha[1]"]),
        gamma=float(p["gamma[1]"]) if model == "gjr" else 0.0,
        beta=float(p["beta[1]"]),
        nu=float(p["nu"]),
    )
    eps = returns_pct.to_numpy(dtype=np.float64) - params.mu
    h = np.asarray(res.conditional_volatility, dtype=np.float64) ** 2
    shock = (params.alpha + params.gamma * (eps < 0.0)) * eps**2
    after = params.omega + shock + params.beta * h
    return params, np.concatenate([h[:1], after])


def forward_volatility(next_var: FloatArray, params: GarchParams) -> FloatArray:
    """Return the annualized volatility (percent) averaged over the next 21 trading days."""
    phi = params.persistence
    steps = np.arange(HORIZON_DAYS, dtype=np.float64)
    decay = phi**steps  # phi^(k-1) for k = 1..H
    carry = params.omega * np.concatenate([[0.0], np.cumsum(decay[:-1])])
    mean_var = carry.mean() + decay.mean() * next_var
    return np.sqrt(TRADING_DAYS_PER_YEAR * mean_var)


def fit_stats(real: pd.Series, proxy: pd.Series) -> FitStats:
    """Compare a proxy with real VIX closes on their common days."""
    both = pd.concat([real.rename("real"), proxy.rename("proxy")], axis=1, join="inner").dropna()
    y = both["real"].to_numpy()
    yhat = both["proxy"].to_numpy()
    err = yhat - y
    total = float(np.sum((y - y.mean()) ** 2))
    change_corr = (
        float(np.corrcoef(np.diff(y), np.diff(yhat))[0, 1]) if y.size > 2 else float("nan")
    )
    return FitStats(
        days=int(y.size),
        r2=1.0 - float(np.sum(err**2)) / total if total > 0 else float("nan"),
        rmse=float(np.sqrt(np.mean(err**2))),
        mean_error=float(err.mean()),
        change_corr=change_corr,
    )


def _log_fit(sigma: pd.Series, vix: pd.Series) -> tuple[float, float]:
    """Return (a, b) of the least-squares fit log(vix) = a + b * log(sigma)."""
    x = np.log(sigma.to_numpy(dtype=np.float64))
    y = np.log(vix.to_numpy(dtype=np.float64))
    design = np.column_stack([np.ones_like(x), x])
    (a, b), *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(a), float(b)


def _mapped(sigma: pd.Series, a: float, b: float) -> pd.Series:
    """Return exp(a + b * log(sigma)) with sigma's index."""
    return pd.Series(np.exp(a + b * np.log(sigma.to_numpy())), index=sigma.index)


def fit_vix_proxy(
    spx_close: pd.Series,
    vix_close: pd.Series,
    model: VolModel = "gjr",
    holdout_from: date | None = None,
) -> tuple[pd.Series, ProxyFit]:
    """Return the proxy VIX on every SPX day and its fit, calibrated where both series exist.

    ``holdout_from`` splits the overlap for the out-of-sample check (calibrate before it, test
    from it); None puts the split at 60% of the overlap days. The hold-out is skipped (None in
    the fit) when either part has fewer than 20 days.
    """
    returns = _percent_returns(spx_close)
    params, next_var = fit_garch(returns, model)
    sigma = pd.Series(forward_volatility(next_var, params), index=spx_close.index)
    vix = pd.to_numeric(vix_close, errors="raise").astype(np.float64)
    common = sigma.index.intersection(vix.index)
    if common.size < MIN_OVERLAP:
        raise ValueError(
            f"VIX and SPX share {common.size} days; the VIX proxy needs at least {MIN_OVERLAP}"
        )
    a, b = _log_fit(sigma[common], vix[common])
    proxy = _mapped(sigma, a, b)
    split = (
        common[int(DEFAULT_HOLDOUT_SHARE * common.size)]
        if holdout_from is None
        else pd.Timestamp(holdout_from)
    )
    calib, test = common[common < split], common[common >= split]
    holdout: FitStats | None = None
    if calib.size >= MIN_OVERLAP and test.size >= MIN_OVERLAP:
        ha, hb = _log_fit(sigma[calib], vix[calib])
        holdout = fit_stats(vix[test], _mapped(sigma[test], ha, hb))
    fit = ProxyFit(
        model=model,
        garch=params,
        intercept=a,
        slope=b,
        overlap=(common[0].date(), common[-1].date()),
        in_sample=fit_stats(vix[common], proxy[common]),
        holdout_from=split.date() if holdout is not None else None,
        holdout=holdout,
    )
    return proxy, fit


@functools.lru_cache(maxsize=1)
def _arch_closes() -> tuple[pd.Series, pd.Series]:
    """Load (once) arch's SPX closes and VIX closes, date-indexed, VIX holidays dropped."""
    from arch.data import sp500, vix

    spx = pd.to_numeric(sp500.load()["Close"], errors="coerce").dropna()
    vix_close = pd.to_numeric(vix.load()["vix"], errors="coerce").dropna()
    for series in (spx, vix_close):
        series.index = pd.DatetimeIndex(series.index).normalize()
    return spx.sort_index(), vix_close.sort_index()


@functools.lru_cache(maxsize=2)
def _arch_proxy(model: VolModel) -> tuple[pd.Series, ProxyFit]:
    """Fit (once per process and model) the proxy on arch's data, hold-out from 2017."""
    spx, vix_close = _arch_closes()
    return fit_vix_proxy(spx, vix_close, model, ARCH_HOLDOUT_FROM)


def arch_vix_proxy(model: VolModel = "gjr") -> tuple[pd.Series, ProxyFit]:
    """Return the proxy VIX on every arch SPX day and its fit (a copy of the cached series)."""
    proxy, fit = _arch_proxy(model)
    return proxy.copy(), fit


def proxy_overlap_frame(model: VolModel = "gjr") -> pd.DataFrame:
    """Return real and proxy VIX on arch's overlap days (columns real, proxy) for charts."""
    proxy, _ = _arch_proxy(model)
    _, vix_close = _arch_closes()
    frame = pd.concat([vix_close.rename("real"), proxy.rename("proxy")], axis=1, join="inner")
    return frame.dropna()
