"""The real daily SPX/VIX history that the simulated exchange replays.

Data: the example data sets shipped with the ``arch`` package.

* ``arch.data.sp500.load()``: S&P 500 index daily Open/High/Low/Close/Adj Close/Volume,
  1999-01-04..2018-12-31 (5031 rows, no missing values; Adj Close equals Close).
* ``arch.data.vix.load()``: VIX daily close (column ``vix``), 2014-01-03..2019-01-03
  (1305 rows). The raw file writes ``.`` on holidays; arch's loader coerces them to NaN
  (46 rows). They are dropped here (values are coerced to numeric again, defensively).

The replayed history is the inner join of the two on common days, so with arch's data it
spans 2014-01-03..2018-12-31 (1257 days, 251 in 2018). ``prev_close`` and
``prev_vix_close`` come from the previous row of each full series (before any [start, end]
restriction), so the first replayed day still sees the real previous close; when a series
has no earlier row, the day's own open (SPX) or close (VIX) stands in.

Rows whose OHLC is inconsistent (low above open/close or high below them) are repaired by
widening high/low to cover open and close; ``repairs`` counts them (zero for arch's data).
Everything is precomputed at construction: ``bar()`` is one dict lookup.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from broker.errors import MarketDataEnded

_OHLC = ("Open", "High", "Low", "Close")


@dataclass(frozen=True)
class DailyBar:
    """One replayed day: SPX OHLC, VIX close, and both previous closes."""

    day: date
    open: float
    high: float
    low: float
    close: float
    vix_close: float
    prev_close: float
    prev_vix_close: float


@functools.lru_cache(maxsize=1)
def _arch_frames() -> tuple[pd.DataFrame, pd.Series]:
    """Load (once) arch's S&P 500 OHLC frame and VIX close series."""
    from arch.data import sp500, vix

    return sp500.load(), vix.load()["vix"]


def _clean_spx(spx: pd.DataFrame) -> pd.DataFrame:
    """Return the SPX OHLC columns as floats indexed by date, NaN rows dropped, sorted."""
    missing = [c for c in _OHLC if c not in spx.columns]
    if missing:
        raise ValueError(f"SPX frame lacks columns {missing}")
    frame = spx.loc[:, list(_OHLC)].apply(pd.to_numeric, errors="coerce").dropna()
    frame.index = pd.DatetimeIndex(frame.index).normalize()
    frame = frame[~frame.index.duplicated(keep="last")].sort_index()
    return frame


def _clean_vix(vix: pd.Series) -> pd.Series:
    """Return the VIX closes as floats indexed by date, non-numeric rows dropped, sorted."""
    series = pd.to_numeric(vix, errors="coerce").dropna()
    series = series[series > 0]
    series.index = pd.DatetimeIndex(series.index).normalize()
    series = series[~series.index.duplicated(keep="last")].sort_index()
    return series


class DailyHistory:
    """Immutable day-indexed SPX/VIX history with O(1) bar lookups."""

    def __init__(self, bars: Sequence[DailyBar], repairs: int = 0) -> None:
        """Index bars (ascending, unique days) for fast lookups."""
        if not bars:
            raise MarketDataEnded("no SPX/VIX history: the simulator has no days at all")
        days = [b.day for b in bars]
        if any(a >= b for a, b in itertools.pairwise(days)):
            raise ValueError("bars must be in strictly ascending day order")
        self._bars: dict[date, DailyBar] = {b.day: b for b in bars}
        self._days: list[date] = days
        self._spx = np.array([b.close for b in bars], dtype=np.float64)
        self._vix = np.array([b.vix_close for b in bars], dtype=np.float64)
        self._spx.flags.writeable = False
        self._vix.flags.writeable = False
        self.repairs: int = repairs

    @classmethod
    def from_arch(cls, start: date | None = None, end: date | None = None) -> DailyHistory:
        """Build the history from arch's S&P 500 and VIX data, restricted to [start, end]."""
        spx, vix = _arch_frames()
        return cls.from_frames(spx, vix, start, end)

    @classmethod
    def from_frames(
        cls,
        spx: pd.DataFrame,
        vix: pd.Series,
        start: date | None = None,
        end: date | None = None,
    ) -> DailyHistory:
        """Build the history from an SPX OHLC frame and a VIX close series (date-indexed)."""
        ohlc = _clean_spx(spx)
        vix_s = _clean_vix(vix)
        prev_close = ohlc["Close"].shift(1).fillna(ohlc["Open"])
        prev_vix = vix_s.shift(1).fillna(vix_s)
        joined = (
            ohlc.join(pd.DataFrame({"vix": vix_s, "prev_vix": prev_vix}), how="inner")
            .join(prev_close.rename("prev_close"), how="inner")
            .sort_index()
        )
        if start is not None:
            joined = joined[joined.index >= pd.Timestamp(start)]
        if end is not None:
            joined = joined[joined.index <= pd.Timestamp(end)]
        if joined.empty:
            common = ohlc.index.intersection(vix_s.index)
            span = f"{common[0].date()}..{common[-1].date()}" if len(common) else "nothing"
            asked = f"{start or 'the start'}..{end or 'the end'}"
            raise MarketDataEnded(f"no SPX/VIX history in {asked}: the simulator has {span}")
        bars: list[DailyBar] = []
        repairs = 0
        for ts, o, h, lo, c, v, pv, pc in zip(
            joined.index,
            joined["Open"].to_numpy(),
            joined["High"].to_numpy(),
            joined["Low"].to_numpy(),
            joined["Close"].to_numpy(),
            joined["vix"].to_numpy(),
            joined["prev_vix"].to_numpy(),
            joined["prev_close"].to_numpy(),
            strict=True,
        ):
            o, h, lo, c = float(o), float(h), float(lo), float(c)
            if not all(math.isfinite(x) and x > 0 for x in (o, h, lo, c)):
                raise ValueError(f"non-positive or non-finite SPX price on {ts.date()}")
            new_h = max(h, o, c, lo)
            new_lo = min(lo, o, c, h)
            if new_h != h or new_lo != lo:
                repairs += 1
            bars.append(
                DailyBar(
                    day=ts.date(),
                    open=o,
                    high=new_h,
                    low=new_lo,
                    close=c,
                    vix_close=float(v),
                    prev_close=float(pc),
                    prev_vix_close=float(pv),
                )
            )
        return cls(bars, repairs=repairs)

    @property
    def first_day(self) -> date:
        """Return the first replayable day."""
        return self._days[0]

    @property
    def last_day(self) -> date:
        """Return the last replayable day."""
        return self._days[-1]

    def __len__(self) -> int:
        """Return the number of days."""
        return len(self._days)

    def bar(self, day: date) -> DailyBar:
        """Return the bar of day, or raise MarketDataEnded when the history lacks it."""
        found = self._bars.get(day)
        if found is None:
            raise MarketDataEnded(
                f"no SPX/VIX history for {day}: the simulator has {self.first_day}..{self.last_day}"
            )
        return found

    def has(self, day: date) -> bool:
        """Return True when the history has a bar for day."""
        return day in self._bars

    def days(self) -> list[date]:
        """Return every day of the history, ascending (a copy)."""
        return list(self._days)

    def closes(self, end: date, n: int) -> tuple[list[date], np.ndarray, np.ndarray]:
        """Return the last n days up to and including end, with SPX and VIX closes.

        Fewer than n days come back when the history starts later; none when end precedes
        it. The arrays are read-only views.
        """
        if n <= 0:
            raise ValueError(f"n must be positive, got {n}")
        hi = bisect.bisect_right(self._days, end)
        lo = max(0, hi - n)
        return self._days[lo:hi], self._spx[lo:hi], self._vix[lo:hi]
