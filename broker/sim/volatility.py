"""The simulator's SPX volatility surface: VIX as the 30-day at-the-money level, plus skew.

Choices (first version; the market-model issue deepens it):
- at-the-money vol = VIX / 100 for every expiry (no term structure yet);
- skew in moneyness m = ln(K / F) / sqrt(T): vol = atm * (1 - put_skew * m) for m < 0 and
  atm * (1 - call_skew * m) for m >= 0, so puts are dearer (put skew) and calls a little
  cheaper; clamped to [0.3, 4] x atm so the wings stay finite and positive.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def surface_vol(
    vix: float,
    forward: npt.ArrayLike,
    strikes: npt.ArrayLike,
    t: npt.ArrayLike,
    put_skew: float,
    call_skew: float,
) -> npt.NDArray[np.float64]:
    """Return the implied volatility of each strike and time to expiry (years)."""
    atm = vix / 100.0
    k = np.asarray(strikes, dtype=np.float64)
    years = np.maximum(np.asarray(t, dtype=np.float64), 1.0 / 365.0)
    fwd = np.asarray(forward, dtype=np.float64)
    m = np.log(k / fwd) / np.sqrt(years)
    slope = np.where(m < 0, put_skew, call_skew)
    vol = atm * (1.0 - slope * m)
    return np.clip(vol, 0.3 * atm, 4.0 * atm)
