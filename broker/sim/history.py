"""The daily SPX/VIX/breadth history that the simulated exchange replays.

Built-in data: the example data sets shipped with the ``arch`` package, read from its data
files without importing arch (``broker.sim.arch_data``: the same frames as arch's loaders,
without the ~100 MB that ``import arch`` costs), with the VIX proxy's committed fit
(``broker.sim.vix_proxy``: no GARCH fit at start-up either).

* ``arch.data.sp500.load()``: S&P 500 index daily Open/High/Low/Close/Adj Close/Volume,
  1999-01-04..2018-12-31 (5031 rows, no missing values; Adj Close equals Close).
* ``arch.data.vix.load()``: VIX daily close (column ``vix``), 2014-01-03..2019-01-03
  (1305 rows). The raw file writes ``.`` on holidays; arch's loader coerces them to NaN
  (46 rows). They are dropped here (values are coerced to numeric again, defensively).
* Before the first real VIX close, VIX is a proxy (``broker.sim.vix_proxy``: a GJR-GARCH
  forward volatility mapped to VIX on the overlap); every bar says whether its VIX is real or
  proxy (``vix_is_proxy``). From the first real close on, a day needs a real VIX close (days
  the VIX series lacks are dropped, as before), so the built-in history spans
  1999-01-04..2018-12-31: 3774 proxy days (1999-01-04..2014-01-02), then 1257 real ones.
* NYSE advances and declines are synthetic (``broker.sim.breadth``), labeled so by
  ``breadth_source``.

User CSV files (``broker.sim.user_data``) replace any of these series
(``DailyHistory.from_sources``); a user VIX file that starts after the SPX data is extended
back with the proxy calibrated on its overlap with SPX, a user breadth file leaves days it
lacks without breadth (zero counts on the bar, NaN from ``breadth()``), and a VIX futures file
adds settlements by day (``futures_settles``).

``prev_close`` and ``prev_vix_close`` come from the previous row of each full series (before
any [start, end] restriction), so the first replayed day still sees the real previous close;
when a series has no earlier row, the day's own open (SPX) or close (VIX) stands in. The day
after the last proxy day sees that proxy as its previous VIX close.

Rows whose OHLC is inconsistent (low above open/close or high below them) are repaired by
widening high/low to cover open and close; ``repairs`` counts them (zero for arch's data).
Everything is precomputed at construction: ``bar()`` is one dict lookup. The built-in history
is built once per process (cached) and restricted by slicing.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from broker.errors import MarketDataEnded
from broker.sim.arch_data import load_sp500, load_vix
from broker.sim.breadth import synthesize_breadth
from broker.sim.user_data import (
    DataFileError,
    read_breadth_csv,
    read_futures_csv,
    read_spx_csv,
    read_vix_csv,
)
from broker.sim.vix_proxy import ProxyFit, arch_vix_proxy, fit_vix_proxy

_OHLC = ("Open", "High", "Low", "Close")

VixSource = Literal["real", "proxy"]
FuturesSettles = dict[date, dict[date, float]]
SYNTHETIC = "synthetic"
NO_BREADTH = "none"


@dataclass(frozen=True)
class DailyBar:
    """One replayed day: SPX OHLC, VIX close (real or proxy), both previous closes, breadth."""

    day: date
    open: float
    high: float
    low: float
    close: float
    vix_close: float
    prev_close: float
    prev_vix_close: float
    vix_is_proxy: bool = False
    advances: int = 0
    declines: int = 0


@dataclass(frozen=True)
class _Built:
    """Every bar of a data set before any [start, end] restriction."""

    bars: tuple[DailyBar, ...]
    repairs: int
    first_real_vix_day: date | None
    proxy_fit: ProxyFit | None


@functools.lru_cache(maxsize=1)
def _arch_frames() -> tuple[pd.DataFrame, pd.Series]:
    """Load (once) arch's S&P 500 OHLC frame and VIX close series (arch is not imported)."""
    return load_sp500(), load_vix()["vix"]


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


def _vix_with_proxy(ohlc: pd.DataFrame, vix: pd.Series, proxy: pd.Series | None) -> pd.DataFrame:
    """Return columns vix, prev_vix and is_proxy: the proxy before the first real close."""
    first_real = vix.index[0] if len(vix) else None
    early = ohlc.index if first_real is None else ohlc.index[ohlc.index < first_real]
    if len(early) and proxy is None:
        raise ValueError("SPX starts before the VIX series and no VIX proxy was given")
    parts = [vix.astype(np.float64)]
    if len(early) and proxy is not None:
        parts.insert(0, proxy.reindex(early).astype(np.float64))
    combined = pd.concat(parts).sort_index()
    is_proxy = pd.Series(combined.index.isin(early), index=combined.index)
    return pd.DataFrame(
        {"vix": combined, "prev_vix": combined.shift(1).fillna(combined), "is_proxy": is_proxy}
    )


def _build(
    spx: pd.DataFrame,
    vix: pd.Series,
    proxy: pd.Series | None,
    breadth: pd.DataFrame | None,
    proxy_fit: ProxyFit | None,
) -> _Built:
    """Join SPX, VIX (real or proxy) and breadth into bars; repair inconsistent OHLC rows."""
    ohlc = _clean_spx(spx)
    vix_s = _clean_vix(vix)
    prev_close = ohlc["Close"].shift(1).fillna(ohlc["Open"])
    joined = (
        ohlc.join(_vix_with_proxy(ohlc, vix_s, proxy), how="inner")
        .join(prev_close.rename("prev_close"), how="inner")
        .sort_index()
    )
    counts = (
        pd.DataFrame(0, index=joined.index, columns=["advances", "declines"])
        if breadth is None
        else breadth.reindex(joined.index)[["advances", "declines"]].fillna(0)
    )
    bars: list[DailyBar] = []
    repairs = 0
    for ts, o, h, lo, c, v, pv, pc, proxied, adv, dec in zip(
        joined.index,
        joined["Open"].to_numpy(),
        joined["High"].to_numpy(),
        joined["Low"].to_numpy(),
        joined["Close"].to_numpy(),
        joined["vix"].to_numpy(),
        joined["prev_vix"].to_numpy(),
        joined["prev_close"].to_numpy(),
        joined["is_proxy"].to_numpy(),
        counts["advances"].to_numpy(),
        counts["declines"].to_numpy(),
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
                vix_is_proxy=bool(proxied),
                advances=int(adv),
                declines=int(dec),
            )
        )
    first_real = next((b.day for b in bars if not b.vix_is_proxy), None)
    return _Built(tuple(bars), repairs, first_real, proxy_fit)


@functools.lru_cache(maxsize=1)
def _builtin() -> _Built:
    """Build (once per process) every bar of arch's data with proxy VIX and synthetic breadth."""
    spx, vix = _arch_frames()
    proxy, fit = arch_vix_proxy()
    breadth = synthesize_breadth(_clean_spx(spx)["Close"])
    return _build(spx, vix, proxy, breadth, fit)


def _proxy_if_needed(spx: pd.DataFrame, vix: pd.Series) -> tuple[pd.Series | None, ProxyFit | None]:
    """Fit the VIX proxy on these series when SPX starts before the first VIX close."""
    closes = _clean_spx(spx)["Close"]
    vix_s = _clean_vix(vix)
    if closes.empty or (len(vix_s) and closes.index[0] >= vix_s.index[0]):
        return None, None
    return fit_vix_proxy(closes, vix_s)


class DailyHistory:
    """Immutable day-indexed SPX/VIX/breadth history with O(1) bar lookups."""

    def __init__(
        self,
        bars: Sequence[DailyBar],
        repairs: int = 0,
        *,
        breadth_source: str = NO_BREADTH,
        first_real_vix_day: date | None = None,
        vix_proxy_fit: ProxyFit | None = None,
        futures: FuturesSettles | None = None,
    ) -> None:
        """Index bars (ascending, unique days) for fast lookups.

        ``first_real_vix_day`` defaults to the first bar whose VIX is real; ``breadth_source``
        is "synthetic", a CSV path, or "none" for hand-built bars without breadth.
        """
        if not bars:
            raise MarketDataEnded("no SPX/VIX history: the simulator has no days at all")
        days = [b.day for b in bars]
        if any(a >= b for a, b in itertools.pairwise(days)):
            raise ValueError("bars must be in strictly ascending day order")
        self._bars: dict[date, DailyBar] = {b.day: b for b in bars}
        self._days: list[date] = days
        self._spx = _frozen([b.close for b in bars])
        self._vix = _frozen([b.vix_close for b in bars])
        no_data = [b.advances == 0 and b.declines == 0 for b in bars]
        self._advances = _frozen(
            [math.nan if empty else b.advances for b, empty in zip(bars, no_data, strict=True)]
        )
        self._declines = _frozen(
            [math.nan if empty else b.declines for b, empty in zip(bars, no_data, strict=True)]
        )
        self.repairs: int = repairs
        self.breadth_source: str = breadth_source
        self.first_real_vix_day: date | None = (
            first_real_vix_day
            if first_real_vix_day is not None
            else next((b.day for b in bars if not b.vix_is_proxy), None)
        )
        self.vix_proxy_fit: ProxyFit | None = vix_proxy_fit
        self._futures: FuturesSettles | None = futures

    @classmethod
    def from_arch(cls, start: date | None = None, end: date | None = None) -> DailyHistory:
        """Build the history from arch's data (proxy VIX before 2014), restricted to [start, end].

        The full history is built once per process; each call only slices it.
        """
        return cls._restricted(_builtin(), start, end, SYNTHETIC, None)

    @classmethod
    def from_frames(
        cls,
        spx: pd.DataFrame,
        vix: pd.Series,
        start: date | None = None,
        end: date | None = None,
    ) -> DailyHistory:
        """Build the history from an SPX OHLC frame and a VIX close series (date-indexed).

        Breadth is synthesized from the SPX closes; when SPX starts before the VIX series, the
        proxy fills the earlier days (which needs a year of SPX and 20 days of overlap).
        """
        proxy, fit = _proxy_if_needed(spx, vix)
        breadth = synthesize_breadth(_clean_spx(spx)["Close"])
        built = _build(spx, vix, proxy, breadth, fit)
        return cls._restricted(built, start, end, SYNTHETIC, None)

    @classmethod
    def from_sources(
        cls,
        spx_csv: str | Path | None = None,
        vix_csv: str | Path | None = None,
        breadth_csv: str | Path | None = None,
        futures_csv: str | Path | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> DailyHistory:
        """Build the history from user CSV files, each None meaning the built-in series.

        Raises DataFileError for a bad file, or when the VIX proxy cannot be calibrated (too
        few SPX days, or too little overlap between the VIX and SPX series).
        """
        futures = read_futures_csv(futures_csv) if futures_csv is not None else None
        if spx_csv is None and vix_csv is None and breadth_csv is None:
            return cls._restricted(_builtin(), start, end, SYNTHETIC, futures)
        arch_spx, arch_vix = _arch_frames()
        spx = _user_spx(spx_csv) if spx_csv is not None else arch_spx
        vix = read_vix_csv(vix_csv) if vix_csv is not None else arch_vix
        proxy: pd.Series | None
        fit: ProxyFit | None
        if spx_csv is None and vix_csv is None:
            proxy, fit = arch_vix_proxy()
        else:
            try:
                proxy, fit = _proxy_if_needed(spx, vix)
            except ValueError as exc:
                blame = vix_csv if vix_csv is not None else spx_csv
                raise DataFileError(
                    str(blame), None, None, f"cannot build the VIX proxy: {exc}"
                ) from None
        if breadth_csv is not None:
            breadth, source = read_breadth_csv(breadth_csv), str(breadth_csv)
        else:
            breadth, source = synthesize_breadth(_clean_spx(spx)["Close"]), SYNTHETIC
        return cls._restricted(_build(spx, vix, proxy, breadth, fit), start, end, source, futures)

    @classmethod
    def _restricted(
        cls,
        built: _Built,
        start: date | None,
        end: date | None,
        breadth_source: str,
        futures: FuturesSettles | None,
    ) -> DailyHistory:
        """Return the history of the built bars within [start, end]."""
        days = [b.day for b in built.bars]
        lo = 0 if start is None else bisect.bisect_left(days, start)
        hi = len(days) if end is None else bisect.bisect_right(days, end)
        if lo >= hi:
            span = f"{days[0]}..{days[-1]}" if days else "nothing"
            asked = f"{start or 'the start'}..{end or 'the end'}"
            raise MarketDataEnded(f"no SPX/VIX history in {asked}: the simulator has {span}")
        return cls(
            built.bars[lo:hi],
            repairs=built.repairs,
            breadth_source=breadth_source,
            first_real_vix_day=built.first_real_vix_day,
            vix_proxy_fit=built.proxy_fit,
            futures=futures,
        )

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

    def vix_source(self, day: date) -> VixSource:
        """Return "proxy" when day's VIX close is the GARCH proxy, "real" otherwise."""
        return "proxy" if self.bar(day).vix_is_proxy else "real"

    def _window(self, end: date, n: int) -> tuple[int, int]:
        """Return the slice bounds of the last n days up to and including end."""
        if n <= 0:
            raise ValueError(f"n must be positive, got {n}")
        hi = bisect.bisect_right(self._days, end)
        return max(0, hi - n), hi

    def closes(self, end: date, n: int) -> tuple[list[date], np.ndarray, np.ndarray]:
        """Return the last n days up to and including end, with SPX and VIX closes.

        Fewer than n days come back when the history starts later; none when end precedes
        it. The arrays are read-only views.
        """
        lo, hi = self._window(end, n)
        return self._days[lo:hi], self._spx[lo:hi], self._vix[lo:hi]

    def breadth(self, end: date, n: int) -> tuple[list[date], np.ndarray, np.ndarray]:
        """Return the last n days up to and including end, with NYSE advances and declines.

        Like ``closes``: read-only float views, NaN on days without breadth data.
        """
        lo, hi = self._window(end, n)
        return self._days[lo:hi], self._advances[lo:hi], self._declines[lo:hi]

    def futures_settles(self, day: date) -> dict[date, float] | None:
        """Return {expiry: settle} of the user's VIX futures on day (a copy).

        None when no futures file was given or the file has no rows for that day.
        """
        if self._futures is None:
            return None
        found = self._futures.get(day)
        return dict(found) if found is not None else None


def _frozen(values: Sequence[float]) -> npt.NDArray[np.float64]:
    """Return a read-only float64 array."""
    array = np.array(values, dtype=np.float64)
    array.flags.writeable = False
    return array


def _user_spx(path: str | Path) -> pd.DataFrame:
    """Read a user SPX file into the Open/High/Low/Close frame the builder expects."""
    frame = read_spx_csv(path)
    return frame.rename(columns={c.lower(): c for c in _OHLC})
