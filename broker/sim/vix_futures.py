"""The simulator's VIX futures term structure, built from the VIX level alone.

Model: the price of the future expiring in T years is the expected VIX at T times a risk
premium,
    ln F(T) = ln theta + (ln VIX - ln theta) e^{-kappa T} + premium (1 - e^{-T / premium_tau}).
- Expected VIX: its logarithm reverts exponentially from today's VIX to the long-run level
  theta = 19.5 (about the VIX's average since 1990) at kappa = 2.5 per year (half-life
  ln 2 / kappa, about 3.3 months). Mean reversion in logs keeps every price positive and
  makes a spike decay faster in points than a dip recovers, as the VIX does.
- Risk premium: buyers of VIX futures pay for the hedge, so futures sit above the expected
  VIX; the premium is 3 % of the price at long horizons, reached with a one-month time
  constant (zero at expiry). It steepens the calm curve and moves the switch from contango
  to backwardation a little above theta.
With the defaults the whole curve rises with T (contango) whenever the VIX is below theta,
and the premium keeps M2 above M1 a little beyond it; the front month trades above the
second (backwardation) once the VIX exceeds about 20.5-21.5, depending on where M1 is in
its cycle, and the curve falls towards theta when the VIX is well above it (stress).
On expiry day (T = 0) the price is the VIX itself; negative T counts as 0.

Calendar: ``vix_futures_curve`` lists M1..Mn from ``broker.vix_calendar``. The CFE
contract settles on the morning of its expiry day, and the calendar treats it as expired
that day; here the contract expiring ``day`` is still M1 on that day, priced at the VIX
(its final settlement value), so a curve drawn on an expiry day starts at the spot VIX.
Times to expiry are calendar days / 365 from ``day`` (callers that know the time of day
call ``vix_futures_prices`` with their own T).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from broker.calendar import TradingCalendar
from broker.vix_calendar import vix_futures_months

FloatArray = npt.NDArray[np.float64]

YEAR_DAYS = 365.0


@dataclass(frozen=True, slots=True)
class TermStructureParams:
    """Parameters of the VIX futures curve (defaults are the simulator's; see the docstring).

    long_run      theta: the level the expected VIX reverts to (19.5)
    kappa         speed of the reversion of log VIX, per year (2.5)
    premium       risk premium in log price at long horizons (0.03, i.e. about 3 %)
    premium_days  time constant over which the premium builds up, calendar days (30)
    """

    long_run: float = 19.5
    kappa: float = 2.5
    premium: float = 0.03
    premium_days: float = 30.0

    def __post_init__(self) -> None:
        if not (self.long_run > 0.0 and self.kappa > 0.0 and self.premium_days > 0.0):
            raise ValueError("long_run, kappa and premium_days must be positive")
        if not -0.5 < self.premium < 0.5:
            raise ValueError(f"premium must be in (-0.5, 0.5), got {self.premium}")


DEFAULT_TERM_STRUCTURE = TermStructureParams()


def vix_futures_prices(
    vix: float, t: npt.ArrayLike, params: TermStructureParams = DEFAULT_TERM_STRUCTURE
) -> FloatArray:
    """Return the price of the VIX future expiring in t years (each element of t)."""
    years = np.maximum(np.asarray(t, dtype=np.float64), 0.0)  # NaN stays NaN
    if not (math.isfinite(vix) and vix > 0.0):
        return np.full(years.shape, np.nan)
    log_theta = math.log(params.long_run)
    decay = np.exp(-params.kappa * years)
    premium = -params.premium * np.expm1(-years * (YEAR_DAYS / params.premium_days))
    return np.asarray(
        np.exp(log_theta + (math.log(vix) - log_theta) * decay + premium), dtype=np.float64
    )


def vix_futures_curve(
    day: date,
    vix: float,
    months: int = 8,
    params: TermStructureParams = DEFAULT_TERM_STRUCTURE,
    calendar: TradingCalendar | None = None,
) -> list[tuple[date, float]]:
    """Return [(expiry, price)] for M1..M`months` on `day` (today's expiry is still M1)."""
    # vix_futures_months lists expiries strictly after its `today`: ask as of the day before.
    listed = vix_futures_months(day - timedelta(days=1), months, calendar)
    expiries = [expiry for expiry, _ in listed]
    years = np.array([(expiry - day).days / YEAR_DAYS for expiry in expiries])
    prices = vix_futures_prices(vix, years, params)
    return [(expiry, float(p)) for expiry, p in zip(expiries, prices, strict=True)]
