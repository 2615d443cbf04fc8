"""A deterministic intraday SPX/VIX path through one daily bar.

Model (no randomness at run time, no global RNG; same inputs -> same outputs):

* Before the session open: ``(prev_close, prev_vix_close)`` - the market still shows
  yesterday's closes; the overnight gap happens at the open.
* At and after the session close: ``(close, vix_close)``.
* In between, SPX follows a piecewise-linear path through four knots:
  open (at the open) -> first extreme -> second extreme -> close (at the close).
  On an up day (close >= open) the low comes first and the high second; on a down day the
  high comes first. The first extreme sits at 10%-45% of the session and the second at
  55%-90%, the exact fractions drawn from a BLAKE2b hash of the date (so different days
  differ, reproducibly across processes) and rounded to a whole minute after the open.
  The path passes exactly through open, low, high and close at their knot times, and
  never leaves [low, high] (each segment stays between its two knot values).
* VIX: a base line moves linearly in time from ``prev_vix_close`` (at the open) to
  ``vix_close`` (at the close), mirrored against SPX: with ``line`` the straight line
  from ``prev_close`` (at the open) to ``close`` (at the close) and ``dev`` SPX's
  relative deviation from it, ``vix = base * (1 - VIX_ELASTICITY * dev)``.
  With an elasticity of 5, SPX 1% below its line lifts VIX by 5% of its level
  (~0.75 points at VIX 15), so VIX is near its high when SPX is at its low, and an
  opening gap down lifts VIX at the open. At the close dev is 0, so VIX ends exactly at
  ``vix_close``. VIX never goes below ``VIX_FLOOR``.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from datetime import datetime, timedelta

from broker.sim.history import DailyBar

VIX_ELASTICITY = 5.0
VIX_FLOOR = 5.0

_FIRST_WINDOW = (0.10, 0.45)
_SECOND_WINDOW = (0.55, 0.90)

Knot = tuple[datetime, float]


def _fractions(bar: DailyBar) -> tuple[float, float]:
    """Return the two extreme positions (session fractions) derived from the bar's date."""
    digest = hashlib.blake2b(bar.day.isoformat().encode(), digest_size=8).digest()
    u1 = int.from_bytes(digest[:4], "big") / 2**32
    u2 = int.from_bytes(digest[4:], "big") / 2**32
    f1 = _FIRST_WINDOW[0] + (_FIRST_WINDOW[1] - _FIRST_WINDOW[0]) * u1
    f2 = _SECOND_WINDOW[0] + (_SECOND_WINDOW[1] - _SECOND_WINDOW[0]) * u2
    return f1, f2


# A cycle needs its own day's path (the venue's clock and the snapshot may straddle two days):
# a small cache. 4,096 entries were one more per simulated day for 16 years, which showed as
# steady growth in bench/soak.py.
@functools.lru_cache(maxsize=16)
def intraday_path(
    bar: DailyBar, session_open: datetime, session_close: datetime
) -> tuple[Knot, Knot, Knot, Knot]:
    """Return the four SPX knots (time, level): open, first extreme, second extreme, close."""
    if session_close <= session_open:
        raise ValueError(f"session close {session_close} is not after open {session_open}")
    length = session_close - session_open
    f1, f2 = _fractions(bar)
    t1 = session_open + length * f1
    t2 = session_open + length * f2
    r1 = session_open + timedelta(minutes=round((t1 - session_open) / timedelta(minutes=1)))
    r2 = session_open + timedelta(minutes=round((t2 - session_open) / timedelta(minutes=1)))
    if session_open < r1 < r2 < session_close:
        t1, t2 = r1, r2
    if bar.close >= bar.open:
        first, second = bar.low, bar.high
    else:
        first, second = bar.high, bar.low
    return (
        (session_open, bar.open),
        (t1, first),
        (t2, second),
        (session_close, bar.close),
    )


def _interpolate(knots: tuple[Knot, ...], now: datetime) -> float:
    """Return the piecewise-linear level at now (knot values exactly at knot times)."""
    for (ta, va), (tb, vb) in itertools.pairwise(knots):
        if ta <= now < tb:
            if now == ta:
                return va
            weight = (now - ta) / (tb - ta)
            level = va + (vb - va) * weight
            return min(max(level, min(va, vb)), max(va, vb))
    return knots[-1][1]


def intraday_level(
    bar: DailyBar, session_open: datetime, session_close: datetime, now: datetime
) -> tuple[float, float]:
    """Return (spx, vix) at now on the deterministic path through bar's session."""
    if now < session_open:
        return bar.prev_close, bar.prev_vix_close
    if now >= session_close:
        return bar.close, bar.vix_close
    knots = intraday_path(bar, session_open, session_close)
    spx = _interpolate(knots, now)
    progress = (now - session_open) / (session_close - session_open)
    line = bar.prev_close + (bar.close - bar.prev_close) * progress
    base = bar.prev_vix_close + (bar.vix_close - bar.prev_vix_close) * progress
    deviation = (spx - line) / line
    vix = base * (1.0 - VIX_ELASTICITY * deviation)
    return spx, max(vix, VIX_FLOOR)
