"""The VIX proxy without importing arch: arch's data files read directly, the committed fit.

The expensive part (refitting both models with arch) runs once per module.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from arch import arch_model
from arch.data import sp500, vix

from broker.sim import arch_data, vix_proxy
from broker.sim.vix_proxy import (
    ARCH_HOLDOUT_FROM,
    PROXY_FIT_JSON,
    CommittedFits,
    GarchParams,
    arch_backcast,
    committed_fits_json,
    committed_params,
    filter_variance,
    find_committed_params,
    fit_vix_proxy,
    fits_differences,
    load_committed_fits,
    refit_arch_fits,
    series_sha256,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def closes() -> tuple[pd.Series, pd.Series]:
    return vix_proxy._arch_closes()


@pytest.fixture(scope="module")
def fresh() -> CommittedFits:
    """Both models refitted with arch on arch's data, now."""
    return refit_arch_fits()


@pytest.fixture(scope="module")
def committed() -> CommittedFits:
    fits = load_committed_fits(PROXY_FIT_JSON)
    assert fits is not None, f"{PROXY_FIT_JSON} is missing or unreadable"
    return fits


def _returns(spx: pd.Series) -> pd.Series:
    return vix_proxy._percent_returns(spx)


# arch's data files, read without arch


def test_data_files_equal_archs_own_loaders() -> None:
    pd.testing.assert_frame_equal(arch_data.load_sp500(), sp500.load(), check_exact=True)
    pd.testing.assert_frame_equal(arch_data.load_vix(), vix.load(), check_exact=True)


def test_vix_holidays_are_nan_rows_as_in_arch() -> None:
    frame = arch_data.load_vix()
    assert list(frame.columns) == ["vix"] and len(frame) == 1305
    assert int(frame["vix"].isna().sum()) == 46
    assert frame.index.name == "Date" and isinstance(frame.index, pd.DatetimeIndex)


def test_reader_parses_like_arch_without_a_date_column(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv.gz"
    pd.DataFrame({"x": ["1.5", ".", "2"], "y": [1, 2, 3]}).to_csv(path, index=False)
    frame = arch_data.read_arch_csv(path)
    assert list(frame.index) == [0, 1, 2]  # no Date column: the default index stays
    assert frame["x"].isna().tolist() == [False, True, False]
    assert frame["x"].iloc[0] == 1.5 and frame["y"].dtype == np.int64


def test_missing_arch_package_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arch_data.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match="'arch'"):
        arch_data.arch_package_dir()


def test_builtin_history_and_proxy_do_not_import_arch() -> None:
    code = (
        "import sys\n"
        "from broker.sim.history import DailyHistory\n"
        "h = DailyHistory.from_arch()\n"
        "assert h.vix_proxy_fit is not None and len(h) == 5031\n"
        "heavy = [m for m in ('arch', 'statsmodels', 'matplotlib', 'scipy.stats')"
        " if m in sys.modules]\n"
        "print(','.join(heavy) or 'none')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "none"


# the committed fits file


def test_committed_fits_equal_a_refit_with_arch(
    committed: CommittedFits, fresh: CommittedFits
) -> None:
    # a stale file (other data, other arch results, edited constants) fails here:
    # refresh it with `python -m broker.sim.vix_proxy --refit`
    assert fits_differences(committed, fresh) == []
    assert {c.fit.model for c in committed.fits} == {"gjr", "garch"}


def test_committed_hashes_are_those_of_archs_data(
    committed: CommittedFits, closes: tuple[pd.Series, pd.Series]
) -> None:
    spx, vix_close = closes
    assert all(c.spx_sha256 == series_sha256(spx) for c in committed.fits)
    assert all(c.vix_sha256 == series_sha256(vix_close) for c in committed.fits)
    assert all(c.requested_holdout == ARCH_HOLDOUT_FROM for c in committed.fits)


@pytest.mark.parametrize("model", ["gjr", "garch"])
def test_committed_parameters_reproduce_the_committed_record(
    committed: CommittedFits, closes: tuple[pd.Series, pd.Series], model: vix_proxy.VolModel
) -> None:
    # the run-time path (committed parameters, numpy filter, least squares) gives the fit
    # that was recorded when arch fitted it: coefficients, overlap and statistics
    _, fit = fit_vix_proxy(*closes, model, ARCH_HOLDOUT_FROM)
    record = next(c for c in committed.fits if c.fit.model == model)
    assert fit.garch == record.fit.garch
    assert fits_differences(_alone(record.fit), _alone(fit), rel=1e-12) == []


def test_differences_spot_a_stale_parameter_and_a_stale_hash(
    committed: CommittedFits, fresh: CommittedFits
) -> None:
    first = committed.fits[0]
    g = first.fit.garch
    nudged = replace(first.fit, garch=replace(g, beta=g.beta * (1 + 1e-4)))
    stale = CommittedFits(committed.arch_version, (replace(first, fit=nudged),))
    problems = fits_differences(stale, fresh)
    assert any("garch.beta" in p for p in problems)
    assert any("not committed" in p for p in problems)  # the other model is missing
    rehashed = CommittedFits(
        committed.arch_version, tuple(replace(c, spx_sha256="0" * 64) for c in committed.fits)
    )
    rehashed_problems = fits_differences(rehashed, fresh)
    assert len(rehashed_problems) == 2 and all("spx_sha256" in p for p in rehashed_problems)
    assert fits_differences(None, fresh) == ["no committed fits file (or an unreadable one)"]


def test_json_round_trip_is_exact(committed: CommittedFits, tmp_path: Path) -> None:
    path = tmp_path / "fits.json"
    path.write_text(committed_fits_json(committed), encoding="utf-8")
    assert load_committed_fits(path) == committed
    assert path.read_text(encoding="utf-8") == PROXY_FIT_JSON.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "text",
    ["", "not json", "[]", '{"format": 99, "arch_version": "x", "fits": []}', '{"format": 1}'],
)
def test_unreadable_fits_files_give_none(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fits.json"
    path.write_text(text, encoding="utf-8")
    assert load_committed_fits(path) is None
    assert load_committed_fits(tmp_path / "absent.json") is None


def test_unknown_model_in_the_file_gives_none(committed: CommittedFits, tmp_path: Path) -> None:
    raw = json.loads(committed_fits_json(committed))
    raw["fits"][0]["model"] = "egarch"
    path = tmp_path / "fits.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert load_committed_fits(path) is None


# the numpy filter


@pytest.mark.parametrize("model", ["gjr", "garch"])
def test_filter_equals_archs_conditional_variance(
    closes: tuple[pd.Series, pd.Series], model: vix_proxy.VolModel
) -> None:
    returns = _returns(closes[0])
    spec = arch_model(returns, p=1, o=1 if model == "gjr" else 0, q=1, dist="t", rescale=False)
    res = spec.fit(disp="off", show_warning=False)
    p = res.params
    params = GarchParams(
        mu=float(p["mu"]),
        omega=float(p["omega"]),
        alpha=float(p["alpha[1]"]),
        gamma=float(p["gamma[1]"]) if model == "gjr" else 0.0,
        beta=float(p["beta[1]"]),
        nu=float(p["nu"]),
    )
    ours = filter_variance(returns.to_numpy(), params)
    theirs = np.asarray(res.conditional_volatility, dtype=np.float64) ** 2
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=0.0)
    assert arch_backcast(returns.to_numpy()) == pytest.approx(res.model._backcast, rel=1e-12)


def test_filter_by_hand_on_three_returns() -> None:
    params = GarchParams(mu=0.1, omega=0.02, alpha=0.05, gamma=0.1, beta=0.9, nu=8.0)
    y = np.array([1.1, -0.9, 0.1])
    resid = y - y.mean()
    w = 0.94 ** np.arange(3)
    back = float(np.sum(resid**2 * w / w.sum()))
    assert arch_backcast(y) == pytest.approx(back, rel=1e-14)
    h0 = 0.02 + (0.05 + 0.05 + 0.9) * back
    h1 = 0.02 + 0.05 * 1.0**2 + 0.9 * h0  # e_0 = +1.0: no leverage term
    h2 = 0.02 + (0.05 + 0.1) * 1.0**2 + 0.9 * h1  # e_1 = -1.0: leverage term
    np.testing.assert_allclose(filter_variance(y, params), [h0, h1, h2], rtol=1e-14)


def test_filter_edge_cases() -> None:
    params = GarchParams(mu=0.0, omega=0.01, alpha=0.1, gamma=0.0, beta=0.8, nu=8.0)
    assert filter_variance(np.array([]), params).size == 0
    one = filter_variance(np.array([2.0]), params)  # the backcast of one demeaned return is 0
    np.testing.assert_allclose(one, [0.01])
    flat = filter_variance(np.zeros(200), params)  # no shocks: h decays from omega to its limit
    assert flat[-1] == pytest.approx(0.01 / (1 - 0.8))
    assert np.all(np.diff(flat) >= 0)


# fit_vix_proxy: the committed fit when the input matches, arch otherwise


def test_committed_path_equals_the_arch_path(closes: tuple[pd.Series, pd.Series]) -> None:
    spx, vix_close = closes
    cached, cached_fit = fit_vix_proxy(spx, vix_close, "gjr", ARCH_HOLDOUT_FROM)
    fitted, fitted_fit = fit_vix_proxy(spx, vix_close, "gjr", ARCH_HOLDOUT_FROM, fits_file=None)
    pd.testing.assert_index_equal(cached.index, fitted.index)
    np.testing.assert_allclose(cached.to_numpy(), fitted.to_numpy(), rtol=1e-10, atol=0.0)
    assert fits_differences(_alone(cached_fit), _alone(fitted_fit)) == []


def _alone(fit: vix_proxy.ProxyFit) -> CommittedFits:
    """Wrap a fit as a one-fit file, to compare fits with fits_differences."""
    return CommittedFits("any", (vix_proxy.CommittedFit("h", "h", ARCH_HOLDOUT_FROM, fit),))


@pytest.mark.parametrize("change", ["nothing", "vix", "holdout"])
def test_same_spx_never_fits(
    closes: tuple[pd.Series, pd.Series], monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    # the GARCH parameters depend on the SPX closes only: another VIX series or hold-out
    # reuses them, and only the mapping and the statistics change
    spx, vix_close = closes
    holdout: date | None = ARCH_HOLDOUT_FROM
    if change == "vix":
        vix_close = vix_close.iloc[: len(vix_close) // 2]
    elif change == "holdout":
        holdout = None
    monkeypatch.setattr(vix_proxy, "fit_garch", _no_arch_fit)
    for model in ("gjr", "garch"):
        proxy, fit = fit_vix_proxy(spx, vix_close, model, holdout)
        assert fit.model == model and len(proxy) == 5031
        assert fit.garch == committed_params(spx, model)
    if change == "vix":
        assert fit.overlap[1] < date(2017, 1, 1) and fit.holdout_from is None
    if change == "holdout":
        common = spx.index.intersection(vix_close.index)  # default split: 60% of the overlap
        assert fit.holdout_from == common[int(0.6 * len(common))].date() != ARCH_HOLDOUT_FROM


def _no_arch_fit(returns_pct: pd.Series, model: vix_proxy.VolModel = "gjr") -> None:
    raise AssertionError("arch was asked to fit")


class _Sentinel(Exception):
    pass


def _fit_called(returns_pct: pd.Series, model: vix_proxy.VolModel = "gjr") -> None:
    raise _Sentinel


@pytest.mark.parametrize("change", ["close", "day", "shorter", "no file", "absent file"])
def test_other_spx_is_fitted_with_arch(
    closes: tuple[pd.Series, pd.Series],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    change: str,
) -> None:
    spx, vix_close = closes[0].copy(), closes[1]
    fits_file: Path | None = PROXY_FIT_JSON
    if change == "close":
        spx.iloc[100] *= 1.0 + 1e-12
    elif change == "day":
        spx.index = spx.index[:-1].append(pd.DatetimeIndex([spx.index[-1] + pd.Timedelta(days=1)]))
    elif change == "shorter":
        spx = spx.iloc[1:]
    elif change == "no file":
        fits_file = None
    else:
        fits_file = tmp_path / "absent.json"
    monkeypatch.setattr(vix_proxy, "fit_garch", _fit_called)
    with pytest.raises(_Sentinel):
        fit_vix_proxy(spx, vix_close, "gjr", ARCH_HOLDOUT_FROM, fits_file=fits_file)


def test_hash_ignores_the_index_unit_but_not_dates_or_values(
    closes: tuple[pd.Series, pd.Series],
) -> None:
    spx, _ = closes
    key = series_sha256(spx)
    assert len(key) == 64 and series_sha256(spx.copy()) == key
    as_ns = spx.copy()
    as_ns.index = pd.DatetimeIndex(spx.index).as_unit("ns")
    as_s = spx.copy()
    as_s.index = pd.DatetimeIndex(spx.index).as_unit("s")
    assert series_sha256(as_ns) == key == series_sha256(as_s)
    shifted = spx.copy()
    shifted.index = shifted.index + pd.Timedelta(days=1)
    nudged = spx.copy()
    nudged.iloc[-1] = np.nextafter(nudged.iloc[-1], np.inf)
    assert len({key, series_sha256(shifted), series_sha256(nudged)}) == 3
    assert series_sha256(spx.iloc[:0]) != series_sha256(spx.iloc[:1])


def test_find_committed_params_matches_hash_and_model(committed: CommittedFits) -> None:
    key = committed.fits[0].spx_sha256
    gjr = find_committed_params(committed, key, "gjr")
    garch = find_committed_params(committed, key, "garch")
    assert gjr is not None and garch is not None and gjr != garch
    assert gjr.gamma > 0.0 and garch.gamma == 0.0
    assert find_committed_params(committed, "f" * 64, "gjr") is None
    assert find_committed_params(None, key, "gjr") is None


# the command


def test_refit_command_writes_the_file_and_check_spots_staleness(
    fresh: CommittedFits,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(vix_proxy, "refit_arch_fits", lambda: fresh)
    path = tmp_path / "fits.json"
    assert vix_proxy.main(["--refit", "--file", str(path)]) == 0
    assert load_committed_fits(path) == fresh
    assert vix_proxy.main(["--check", "--file", str(path)]) == 0
    assert "up to date" in capsys.readouterr().out
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["fits"][0]["slope"] *= 1.001
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert vix_proxy.main(["--check", "--file", str(path)]) == 1
    captured = capsys.readouterr()
    assert "stale" in captured.out and "slope" in captured.err
    with pytest.raises(SystemExit):
        vix_proxy.main([])  # one of --refit / --check is required
