"""Synthetic NYSE breadth (advances, declines, unchanged) driven by SPX returns.

No free NYSE breadth data ships, so each day's counts are synthesized. The series is SYNTHETIC:
the history labels it so (``breadth_source == "synthetic"``) unless the user supplies a CSV.

Model, per day t (all parameters in ``BreadthModel``):

* ``r_t``: SPX log return close to close (0 on the first day, which has no previous close).
* ``s_t``: RiskMetrics EWMA volatility of the returns (lambda 0.94) with information up to
  t-1, seeded with the standard deviation of the first 20 returns. Scaling by it makes a
  1-sigma day look alike in a calm and a stormy year (real breadth saturates: even on -5% days
  of 2008 some issues rose).
* ``u_t``: a persistent idiosyncratic breadth component (stationary sd 0.15), a stationary AR(1)
  ``u_t = phi * u_{t-1} + sd * sqrt(1 - phi^2) * e_t`` with ``e_t`` standard normal draws from
  a seeded numpy Generator (fixed seed, so every build is identical). Its half-life of about
  13.5 sessions (phi 0.95) is the scale of the 12/26-day MACD on the A/D line, so breadth
  drifts away from price for weeks at a time: that is what produces breadth divergences.
* The share of issues advancing is ``p_t = Phi(beta * r_t / s_t + u_t)`` with ``beta = 0.6``:
  a +1 sigma day has about 73% of issues up, a +2 sigma day about 88%.
* 3,000 issues trade every day; 3% (90) are unchanged; ``advances = round(p_t * 2910)`` and
  ``declines = 2910 - advances``, so the three integers always sum to 3,000.

Measured on arch's SPX (see docs/market-model.md): the correlation of daily advances minus
declines with SPX returns is 0.84 over 1999-2018 and 0.89 over 2014-2018, and the breadth
divergence flag of ``strategies.signals.breadth`` is on in about 8% of 2014-2018 sessions (98 of
1258). Without u_t the share is about the same but the flag then only echoes SPX momentum; with
it, 45% of the flagged days are different days, where breadth really lags price. A larger sd
(0.30 was tried) makes the A/D line wander away from SPX for a year or more (it fell through the
2017 rally), which the real NYSE line did not do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]

_SEED_WINDOW = 20


@dataclass(frozen=True)
class BreadthModel:
    """Parameters of the synthetic breadth series."""

    issues: int = 3000
    unchanged_share: float = 0.03
    beta: float = 0.6
    persistence: float = 0.95
    idiosyncratic_sd: float = 0.15
    ewma_lambda: float = 0.94
    seed: int = 1999

    def __post_init__(self) -> None:
        """Reject parameters outside their meaningful ranges."""
        if self.issues < 1 or not 0.0 <= self.unchanged_share < 1.0:
            raise ValueError("issues must be >= 1 and unchanged_share in [0, 1)")
        if not 0.0 <= self.persistence < 1.0 or not 0.0 < self.ewma_lambda < 1.0:
            raise ValueError("persistence must be in [0, 1) and ewma_lambda in (0, 1)")
        if self.beta < 0.0 or self.idiosyncratic_sd < 0.0:
            raise ValueError("beta and idiosyncratic_sd must be non-negative")


def _ewma_volatility(returns: FloatArray, lam: float) -> FloatArray:
    """Return the EWMA volatility known before each day (seeded with the first returns' sd)."""
    var = np.empty_like(returns)
    if returns.size == 0:
        return var
    seed = float(np.std(returns[1 : 1 + _SEED_WINDOW])) if returns.size > 2 else 0.0
    var[0] = seed**2 if seed > 0.0 else 1e-4
    for t in range(1, returns.size):
        var[t] = lam * var[t - 1] + (1.0 - lam) * returns[t - 1] ** 2
    return np.sqrt(np.maximum(var, 1e-12))


def _ar1(shocks: FloatArray, phi: float, sd: float) -> FloatArray:
    """Return a stationary AR(1) with persistence phi and standard deviation sd."""
    out = np.empty_like(shocks)
    if shocks.size == 0:
        return out
    out[0] = sd * shocks[0]
    scale = sd * np.sqrt(1.0 - phi**2)
    for t in range(1, shocks.size):
        out[t] = phi * out[t - 1] + scale * shocks[t]
    return out


def advancing_share(spx_close: pd.Series, model: BreadthModel = BreadthModel()) -> FloatArray:
    """Return p_t, the share of traded (not unchanged) issues advancing on each SPX day."""
    from scipy.special import ndtr  # imported here: history imports this module at start-up

    closes = spx_close.to_numpy(dtype=np.float64)
    returns = np.concatenate([[0.0], np.diff(np.log(closes))]) if closes.size else closes
    sigma = _ewma_volatility(returns, model.ewma_lambda)
    shocks = np.random.default_rng(model.seed).standard_normal(closes.size)
    idiosyncratic = _ar1(shocks, model.persistence, model.idiosyncratic_sd)
    return np.asarray(ndtr(model.beta * returns / sigma + idiosyncratic), dtype=np.float64)


def synthesize_breadth(spx_close: pd.Series, model: BreadthModel = BreadthModel()) -> pd.DataFrame:
    """Return advances, declines and unchanged (int64 columns) for each day of spx_close."""
    unchanged = round(model.issues * model.unchanged_share)
    moving = model.issues - unchanged
    advances = np.rint(advancing_share(spx_close, model) * moving).astype(np.int64)
    return pd.DataFrame(
        {
            "advances": advances,
            "declines": moving - advances,
            "unchanged": np.full(advances.size, unchanged, dtype=np.int64),
        },
        index=spx_close.index,
    )
