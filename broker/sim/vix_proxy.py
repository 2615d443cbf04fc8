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

Committed fit (``proxy_fit.json`` beside this module). Importing arch costs about 100 MB of
resident memory (scipy.stats, statsmodels, matplotlib), and the daemon needs arch only for the
maximum-likelihood fit, so the fits on arch's own SPX series (GJR and plain GARCH) are
committed: the model parameters, with the SHA-256 of the fit's input (the SPX closes: dates
and values) and the arch version that fitted them, and, as a record, the whole fit on arch's
data (log-log coefficients, overlap, in-sample and 2017-2018 hold-out statistics, and the
SHA-256 of the VIX closes). ``fit_vix_proxy`` hashes its SPX input; when a committed fit has
the same hash and model, its parameters are taken and arch is neither imported nor run.
Other SPX data (a user CSV file, another arch data release) is fitted with arch as before.

Either way the variance path is *filtered* with numpy from the parameters (arch's recursion,
below), and the mapping to VIX and its statistics are computed as always (least squares, a
millisecond): so a user VIX file over arch's SPX also uses the committed parameters, and the
built-in data and a CSV copy of it give bit-identical bars. A test refits with arch and
compares the committed file (parameters, coefficients and statistics within 1e-6 relative,
hashes equal), so a stale file fails the suite; ``python -m broker.sim.vix_proxy --refit``
rewrites it (``--check`` compares without writing).

The filter is arch's GARCH recursion for p = o = q = 1, power 2, on the residuals
``e_t = r_t - mu``: ``h_0 = omega + (alpha + gamma / 2 + beta) * b`` and
``h_t = omega + (alpha + gamma * [e_(t-1) < 0]) * e_(t-1)^2 + beta * h_(t-1)``. The backcast
``b`` is arch's: the exponentially weighted (0.94 per day, normalized) mean of the first 75
squared residuals around the sample mean. It equals arch's conditional variance to rounding
(tested within 1e-8 relative; measured 6e-16). arch also clips each ``h_t`` to loose bounds
(1e-6 and 1e6 times an EWMA variance of the residuals) that only guard its optimizer against
absurd trial parameters; at fitted parameters on real returns they do not bind (the equality
test would show it if they did).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import itertools
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from broker.sim.arch_data import arch_version, load_sp500, load_vix

VolModel = Literal["gjr", "garch"]
FloatArray = npt.NDArray[np.float64]

HORIZON_DAYS = 21
TRADING_DAYS_PER_YEAR = 252
MIN_RETURNS = 250
MIN_OVERLAP = 20
DEFAULT_HOLDOUT_SHARE = 0.6
ARCH_HOLDOUT_FROM = date(2017, 1, 1)
BACKCAST_DAYS = 75  # arch's backcast: EWMA of the first 75 squared residuals
BACKCAST_DECAY = 0.94
PROXY_FIT_JSON = Path(__file__).with_name("proxy_fit.json")
FITS_FORMAT = 1
COMMITTED_MODELS: tuple[VolModel, ...] = ("gjr", "garch")


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
    the variance of day t+1's return forecast at day t's close. It is filtered from the fitted
    parameters (``filtered_garch``), which equals arch's conditional variance to rounding.
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
    return params, filtered_garch(returns_pct, params)


def _shock(eps: FloatArray, params: GarchParams) -> FloatArray:
    """Return (alpha + gamma * [eps < 0]) * eps^2: what each day's residual adds to h."""
    return (params.alpha + params.gamma * (eps < 0.0)) * eps**2


def _next_variance(eps: FloatArray, h: FloatArray, params: GarchParams) -> FloatArray:
    """Return the next-day variance after each close (h_1 first, then one per return)."""
    after = params.omega + _shock(eps, params) + params.beta * h
    return np.concatenate([h[:1], after])


def arch_backcast(returns_pct: FloatArray) -> float:
    """Return arch's starting variance: EWMA (0.94) of the first 75 squared demeaned returns."""
    resid = returns_pct - returns_pct.mean()
    weights = BACKCAST_DECAY ** np.arange(min(BACKCAST_DAYS, resid.size), dtype=np.float64)
    weights = weights / weights.sum()
    return float(np.sum(resid[: weights.size] ** 2 * weights))


def filter_variance(returns_pct: FloatArray, params: GarchParams) -> FloatArray:
    """Return the conditional variance h_t of each return under given parameters (no fit).

    arch's recursion, started from arch's backcast: equals ``conditional_volatility ** 2`` of
    an arch fit with these parameters. The recursion is linear in h once the shocks are known,
    so only ``h_t = c_t + beta * h_(t-1)`` runs as a loop (about 1 ms for 5,000 days).
    """
    y = np.asarray(returns_pct, dtype=np.float64)
    if y.size == 0:
        return np.empty(0, dtype=np.float64)
    back = arch_backcast(y)
    first = params.omega + (params.alpha + 0.5 * params.gamma + params.beta) * back
    drive = (params.omega + _shock(y - params.mu, params)[:-1]).tolist()
    beta = params.beta
    path = itertools.accumulate(drive, lambda prev, c: c + beta * prev, initial=first)
    return np.fromiter(path, dtype=np.float64, count=y.size)


def filtered_garch(returns_pct: pd.Series, params: GarchParams) -> FloatArray:
    """Return the next-day variance after each close (as ``fit_garch``) for known parameters."""
    y = returns_pct.to_numpy(dtype=np.float64)
    return _next_variance(y - params.mu, filter_variance(y, params), params)


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
    *,
    fits_file: Path | None = PROXY_FIT_JSON,
) -> tuple[pd.Series, ProxyFit]:
    """Return the proxy VIX on every SPX day and its fit, calibrated where both series exist.

    ``holdout_from`` splits the overlap for the out-of-sample check (calibrate before it, test
    from it); None puts the split at 60% of the overlap days. The hold-out is skipped (None in
    the fit) when either part has fewer than 20 days.

    The GARCH parameters come from ``fits_file`` when it holds a fit of this very SPX series
    (same hash) and model; otherwise (or with ``fits_file=None``) they are fitted with arch.
    """
    returns = _percent_returns(spx_close)
    params = committed_params(spx_close, model, fits_file) if fits_file is not None else None
    if params is None:
        params, next_var = fit_garch(returns, model)
    else:
        next_var = filtered_garch(returns, params)
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
    """Load (once) arch's SPX closes and VIX closes, date-indexed, VIX holidays dropped.

    Read from arch's data files without importing arch (``broker.sim.arch_data``).
    """
    spx = pd.to_numeric(load_sp500()["Close"], errors="coerce").dropna()
    vix_close = pd.to_numeric(load_vix()["vix"], errors="coerce").dropna()
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


# ---------------------------------------------------------------------------------------------
# The committed fits (proxy_fit.json)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommittedFit:
    """A committed fit: the hashes of its SPX and VIX input and the hold-out it was asked."""

    spx_sha256: str
    vix_sha256: str
    requested_holdout: date | None
    fit: ProxyFit


@dataclass(frozen=True)
class CommittedFits:
    """The content of a fits file: the arch version that fitted them and the fits."""

    arch_version: str
    fits: tuple[CommittedFit, ...]


def series_sha256(series: pd.Series) -> str:
    """Return the SHA-256 of a date-indexed series: its dates (ns, int64) and values (float64)."""
    values = pd.to_numeric(series, errors="raise").to_numpy(dtype="<f8")
    days = pd.DatetimeIndex(series.index).as_unit("ns").asi8.astype("<i8")
    digest = hashlib.sha256(f"{values.size};".encode())
    digest.update(days.tobytes())
    digest.update(values.tobytes())
    return digest.hexdigest()


def find_committed_params(
    fits: CommittedFits | None, spx_sha256: str, model: VolModel
) -> GarchParams | None:
    """Return the committed parameters of this model fitted on SPX closes of this hash."""
    if fits is None:
        return None
    found = (c.fit.garch for c in fits.fits if c.spx_sha256 == spx_sha256 and c.fit.model == model)
    return next(found, None)


def committed_params(
    spx_close: pd.Series, model: VolModel, fits_file: Path = PROXY_FIT_JSON
) -> GarchParams | None:
    """Return the committed parameters for these SPX closes and model, or None (fit them)."""
    return find_committed_params(load_committed_fits(fits_file), series_sha256(spx_close), model)


def load_committed_fits(path: Path = PROXY_FIT_JSON) -> CommittedFits | None:
    """Read a fits file; None when it is missing or not of this format (then arch fits)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or raw.get("format") != FITS_FORMAT:
        return None
    try:
        return CommittedFits(
            arch_version=str(raw["arch_version"]),
            fits=tuple(_committed_from_json(item) for item in raw["fits"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def committed_fits_json(fits: CommittedFits) -> str:
    """Return the fits file's text (stable key order, floats written exactly)."""
    body = {
        "format": FITS_FORMAT,
        "about": (
            "VIX proxy: GARCH parameters fitted by arch on arch's SPX closes, used instead of "
            "refitting when the SPX hash and model match; the rest of each fit is a record of "
            "the proxy on arch's data. Rewrite with: python -m broker.sim.vix_proxy --refit"
        ),
        "arch_version": fits.arch_version,
        "fits": [_committed_to_json(c) for c in fits.fits],
    }
    return json.dumps(body, indent=2) + "\n"


def _committed_to_json(committed: CommittedFit) -> dict[str, Any]:
    fit = committed.fit
    return {
        "model": fit.model,
        "spx_sha256": committed.spx_sha256,
        "garch": asdict(fit.garch),
        "vix_sha256": committed.vix_sha256,
        "requested_holdout": _iso(committed.requested_holdout),
        "intercept": fit.intercept,
        "slope": fit.slope,
        "overlap": [fit.overlap[0].isoformat(), fit.overlap[1].isoformat()],
        "in_sample": asdict(fit.in_sample),
        "holdout_from": _iso(fit.holdout_from),
        "holdout": None if fit.holdout is None else asdict(fit.holdout),
    }


def _committed_from_json(item: dict[str, Any]) -> CommittedFit:
    model = item["model"]
    if model not in COMMITTED_MODELS:
        raise ValueError(f"unknown volatility model {model!r}")
    fit = ProxyFit(
        model=cast(VolModel, model),
        garch=GarchParams(**{k: float(v) for k, v in item["garch"].items()}),
        intercept=float(item["intercept"]),
        slope=float(item["slope"]),
        overlap=(date.fromisoformat(item["overlap"][0]), date.fromisoformat(item["overlap"][1])),
        in_sample=_stats_from_json(item["in_sample"]),
        holdout_from=_date_or_none(item["holdout_from"]),
        holdout=None if item["holdout"] is None else _stats_from_json(item["holdout"]),
    )
    return CommittedFit(
        str(item["spx_sha256"]),
        str(item["vix_sha256"]),
        _date_or_none(item["requested_holdout"]),
        fit,
    )


def _stats_from_json(item: dict[str, Any]) -> FitStats:
    return FitStats(
        days=int(item["days"]),
        r2=float(item["r2"]),
        rmse=float(item["rmse"]),
        mean_error=float(item["mean_error"]),
        change_corr=float(item["change_corr"]),
    )


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _date_or_none(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def refit_arch_fits(models: Sequence[VolModel] = COMMITTED_MODELS) -> CommittedFits:
    """Fit the proxy on arch's data with arch (hold-out from 2017), one fit per model."""
    spx, vix_close = _arch_closes()
    spx_key, vix_key = series_sha256(spx), series_sha256(vix_close)
    fits = tuple(
        CommittedFit(
            spx_key,
            vix_key,
            ARCH_HOLDOUT_FROM,
            fit_vix_proxy(spx, vix_close, model, ARCH_HOLDOUT_FROM, fits_file=None)[1],
        )
        for model in models
    )
    return CommittedFits(arch_version(), fits)


def fits_differences(
    committed: CommittedFits | None, fresh: CommittedFits, rel: float = 1e-6
) -> list[str]:
    """Return how the committed fits differ from fresh ones (empty when equal within rel).

    Hashes, models, hold-outs, dates and day counts must be equal; floats within ``rel``
    relative (1e-12 absolute near zero). The arch version is informative and not compared.
    """
    if committed is None:
        return ["no committed fits file (or an unreadable one)"]
    problems: list[str] = []
    old_by_model = {c.fit.model: c for c in committed.fits}
    for new in fresh.fits:
        old = old_by_model.get(new.fit.model)
        if old is None:
            problems.append(f"{new.fit.model}: not committed")
            continue
        a, b = _committed_to_json(old), _committed_to_json(new)
        problems += [f"{new.fit.model}: {p}" for p in _diff(a, b, "", rel)]
    return problems


def _diff(old: Any, new: Any, where: str, rel: float) -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        if old.keys() != new.keys():
            return [f"{where or 'fit'}: keys {sorted(old)} != {sorted(new)}"]
        return [p for k in old for p in _diff(old[k], new[k], f"{where}.{k}".lstrip("."), rel)]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            p
            for i, (x, y) in enumerate(zip(old, new, strict=True))
            for p in _diff(x, y, f"{where}[{i}]", rel)
        ]
    if isinstance(old, float) and isinstance(new, float):
        same = (math.isnan(old) and math.isnan(new)) or math.isclose(
            old, new, rel_tol=rel, abs_tol=1e-12
        )
        return [] if same else [f"{where}: committed {old!r}, refitted {new!r}"]
    return [] if old == new else [f"{where}: committed {old!r}, refitted {new!r}"]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m broker.sim.vix_proxy --refit | --check``: rewrite or verify the fits file."""
    parser = argparse.ArgumentParser(
        prog="python -m broker.sim.vix_proxy",
        description="Refit the VIX proxy on arch's data with arch and rewrite (or check) "
        "the committed fits file.",
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--refit", action="store_true", help="fit with arch and rewrite the file")
    action.add_argument("--check", action="store_true", help="fit with arch and compare")
    parser.add_argument("--file", type=Path, default=PROXY_FIT_JSON, help="the fits file")
    opts = parser.parse_args(argv)
    fresh = refit_arch_fits()
    if opts.refit:
        opts.file.write_text(committed_fits_json(fresh), encoding="utf-8")
        print(f"wrote {opts.file} (arch {fresh.arch_version}, {len(fresh.fits)} fits)")
        return 0
    problems = fits_differences(load_committed_fits(opts.file), fresh)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{opts.file}: {'stale' if problems else 'up to date'} (arch {fresh.arch_version})")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
