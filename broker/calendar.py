"""The CBOE index-options trading calendar, precomputed for fast lookups.

Source: pandas_market_calendars' ``CBOE_Index_Options`` calendar (SPX/SPXW/VIX options):
regular session 09:30-16:15 ET, early closes at 13:15 ET (July 3, the day after
Thanksgiving). The schedule is computed once for a date range and stored in plain dicts
and sorted lists, so every lookup after construction is O(1) or O(log n) and pandas-free.

Two corrections are applied on top of the library calendar, both matching what
CBOE actually did (and what the NYSE calendar of the same library already says):

* 2001-09-11..2001-09-14 (the September 11 closure) are not trading days; the library's
  CBOE calendar lists them as normal sessions, and the S&P 500 history has no bars there.
* December 24, when it is a trading day, closes early at 13:15 ET (CBOE closes index
  options at 12:15 CT on Christmas Eve); the library calendar omits these early closes.

All datetimes are tz-aware in America/New_York. Dates outside the precomputed range raise
``ValueError`` rather than guessing.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas_market_calendars as mcal

NY = ZoneInfo("America/New_York")

CALENDAR_NAME = "CBOE_Index_Options"
EARLY_CLOSE = time(13, 15)
DEFAULT_START = date(1999, 1, 1)
DEFAULT_END = date(2030, 12, 31)

# Days the library calendar lists as sessions but on which US markets were closed.
_EXTRA_CLOSURES: frozenset[date] = frozenset(date(2001, 9, d) for d in (11, 12, 13, 14))

_FRIDAY = 4


@dataclass(frozen=True)
class Session:
    """One trading session: its day and its open/close instants (America/New_York)."""

    day: date
    open: datetime
    close: datetime

    @property
    def early_close(self) -> bool:
        """Return True when the session closes before the regular 16:15 ET."""
        return self.close.timetz().replace(tzinfo=None) < time(16, 15)


class TradingCalendar:
    """Trading days, sessions and SPX expiries for a fixed date range.

    SPXW expiries (PM-settled weeklies), first version: every Friday, or the trading day
    before it when the Friday is a holiday (e.g. Good Friday 2018-03-30 -> 2018-03-29).
    The Monday/Wednesday (and later Tue/Thu) dailies and the end-of-month series are NOT
    listed in this version. ``monthly_expiry`` gives the AM-settled SPX monthly: the third
    Friday, or the trading day before it when that Friday is a holiday.
    """

    def __init__(self, start: date = DEFAULT_START, end: date = DEFAULT_END) -> None:
        """Precompute the sessions of [start, end] from the CBOE index-options calendar."""
        if end < start:
            raise ValueError(f"calendar end {end} is before start {start}")
        self._start = start
        self._end = end
        schedule = mcal.get_calendar(CALENDAR_NAME).schedule(
            start_date=start.isoformat(), end_date=end.isoformat()
        )
        opens = schedule["market_open"].dt.tz_convert(NY)
        closes = schedule["market_close"].dt.tz_convert(NY)
        sessions: dict[date, Session] = {}
        for label, op, cl in zip(schedule.index, opens, closes, strict=True):
            day = label.date()
            if day in _EXTRA_CLOSURES:
                continue
            open_dt = op.to_pydatetime().replace(tzinfo=NY)
            close_dt = cl.to_pydatetime().replace(tzinfo=NY)
            if day.month == 12 and day.day == 24:
                close_dt = min(close_dt, datetime.combine(day, EARLY_CLOSE, tzinfo=NY))
            sessions[day] = Session(day=day, open=open_dt, close=close_dt)
        self._sessions = sessions
        self._days: list[date] = sorted(sessions)
        self._spxw: list[date] = self._compute_spxw()

    def _compute_spxw(self) -> list[date]:
        """Compute every Friday-or-earlier weekly expiry in the calendar range."""
        expiries: set[date] = set()
        friday = self._start + timedelta(days=(_FRIDAY - self._start.weekday()) % 7)
        while friday <= self._end:
            expiry = self._on_or_before(friday)
            if expiry is not None:
                expiries.add(expiry)
            friday += timedelta(days=7)
        return sorted(expiries)

    def _on_or_before(self, day: date) -> date | None:
        """Return the last trading day <= day, or None when there is none in range."""
        i = bisect.bisect_right(self._days, day)
        return self._days[i - 1] if i > 0 else None

    def _check(self, day: date) -> None:
        """Raise ValueError when day lies outside the precomputed range."""
        if day < self._start or day > self._end:
            raise ValueError(
                f"{day} is outside the trading calendar range {self._start}..{self._end}"
            )

    @property
    def start(self) -> date:
        """Return the first day of the precomputed range."""
        return self._start

    @property
    def end(self) -> date:
        """Return the last day of the precomputed range."""
        return self._end

    def is_trading_day(self, day: date) -> bool:
        """Return True when CBOE index options trade on day."""
        if day in self._sessions:
            return True
        self._check(day)
        return False

    def session(self, day: date) -> Session | None:
        """Return the session of day, or None when it is not a trading day."""
        found = self._sessions.get(day)
        if found is None:
            self._check(day)
        return found

    def trading_days(self, start: date, end: date) -> list[date]:
        """Return the trading days in [start, end], ascending."""
        lo = bisect.bisect_left(self._days, start)
        hi = bisect.bisect_right(self._days, end)
        return self._days[lo:hi]

    def next_trading_day(self, day: date) -> date:
        """Return the first trading day strictly after day."""
        i = bisect.bisect_right(self._days, day)
        if i >= len(self._days):
            raise ValueError(f"no trading day after {day} within ..{self._end}")
        return self._days[i]

    def previous_trading_day(self, day: date) -> date:
        """Return the last trading day strictly before day."""
        i = bisect.bisect_left(self._days, day)
        if i == 0:
            raise ValueError(f"no trading day before {day} within {self._start}..")
        return self._days[i - 1]

    def trading_days_between(self, start: date, end: date) -> int:
        """Return the number of trading days in (start, end] (negative when end < start)."""
        return bisect.bisect_right(self._days, end) - bisect.bisect_right(self._days, start)

    def spxw_expiries(self, start: date, end: date) -> list[date]:
        """Return the weekly SPXW expiries in [start, end] (Fridays, or the day before)."""
        lo = bisect.bisect_left(self._spxw, start)
        hi = bisect.bisect_right(self._spxw, end)
        return self._spxw[lo:hi]

    def monthly_expiry(self, year: int, month: int) -> date:
        """Return the SPX monthly expiry: the third Friday, or the trading day before it."""
        first = date(year, month, 1)
        third_friday = first + timedelta(days=(_FRIDAY - first.weekday()) % 7 + 14)
        self._check(third_friday)
        expiry = self._on_or_before(third_friday)
        if expiry is None:
            raise ValueError(f"no trading day on or before {third_friday} in the calendar")
        return expiry


@functools.lru_cache(maxsize=1)
def default_calendar() -> TradingCalendar:
    """Return the shared calendar for 1999-01-01..2030-12-31 (built once)."""
    return TradingCalendar()


def monthly_expiry(year: int, month: int) -> date:
    """Return the SPX monthly expiry of year/month from the default calendar."""
    return default_calendar().monthly_expiry(year, month)
