"""Monthly VIX futures (VX) and VIX options expiry calendar.

Rule (Cboe Futures Exchange, VX contract specifications, "Final Settlement Date"; the
monthly VIX options expire on the same day): the contract of month M expires on the
Wednesday that is 30 calendar days before the third Friday of the calendar month
immediately following M (that Friday is the standard SPX options expiry whose options set
the VIX special opening quotation). If that Wednesday, or the Friday 30 days after it, is a
Cboe Options holiday, the expiry is the business day immediately preceding that Wednesday.

Examples: VIX March 2025 -> Tuesday 2025-03-18 (Friday 2025-04-18 is Good Friday); VIX
May 2026 -> Tuesday 2026-05-19 (Friday 2026-06-19 is Juneteenth); VIX May 2027 -> Tuesday
2027-05-18 (Juneteenth 2027 is a Saturday, observed Friday 2027-06-18).

Holidays come from ``broker.calendar.TradingCalendar`` (pandas_market_calendars'
``CBOE_Index_Options``), which lists Good Friday, Juneteenth (from 2022, including the
Friday observance of a Saturday Juneteenth) and the unscheduled closures, so no separate
holiday list is kept here. The expiry of month M always falls in month M.

Final settlement is a special opening quotation on the morning of the expiry day, so for
trading purposes a contract is treated as expired on its expiry day: ``vix_futures_months``
lists only contracts whose expiry is strictly after ``today``.

Dates whose rule needs a day outside the calendar's precomputed range raise ``ValueError``
(the default calendar covers 1999-01-01..2030-12-31, i.e. contract months up to Nov 2030).
"""

from __future__ import annotations

from datetime import date, timedelta

from broker.calendar import TradingCalendar, default_calendar

_FRIDAY = 4
_SETTLEMENT_LAG = timedelta(days=30)


def _third_friday(year: int, month: int) -> date:
    """Return the third Friday of year/month (holidays ignored)."""
    first = date(year, month, 1)
    return first + timedelta(days=(_FRIDAY - first.weekday()) % 7 + 14)


def _next_month(year: int, month: int) -> tuple[int, int]:
    """Return the (year, month) after year/month."""
    return (year + 1, 1) if month == 12 else (year, month + 1)


def vix_expiry(year: int, month: int, calendar: TradingCalendar | None = None) -> date:
    """Return the expiry (final settlement) date of the VIX contract month year/month."""
    if not 1 <= month <= 12:
        raise ValueError(f"month must be in 1..12, got {month}")
    cal = calendar if calendar is not None else default_calendar()
    friday = _third_friday(*_next_month(year, month))
    wednesday = friday - _SETTLEMENT_LAG
    if cal.is_trading_day(wednesday) and cal.is_trading_day(friday):
        return wednesday
    return cal.previous_trading_day(wednesday)


def vix_expiries(start: date, end: date, calendar: TradingCalendar | None = None) -> list[date]:
    """Return every monthly VIX expiry in [start, end], ascending."""
    if end < start:
        return []
    cal = calendar if calendar is not None else default_calendar()
    expiries: list[date] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        expiry = vix_expiry(year, month, cal)
        if start <= expiry <= end:
            expiries.append(expiry)
        year, month = _next_month(year, month)
    return expiries


def vix_futures_months(
    today: date, count: int = 8, calendar: TradingCalendar | None = None
) -> list[tuple[date, int]]:
    """Return (expiry, n) for M1..Mcount, the monthly contracts expiring after today."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    cal = calendar if calendar is not None else default_calendar()
    year, month = today.year, today.month
    if vix_expiry(year, month, cal) <= today:
        year, month = _next_month(year, month)
    months: list[tuple[date, int]] = []
    for index in range(1, count + 1):
        months.append((vix_expiry(year, month, cal), index))
        year, month = _next_month(year, month)
    return months


def trading_days_to_expiry(
    today: date, expiry: date, calendar: TradingCalendar | None = None
) -> int:
    """Return the trading days in (today, expiry]: 0 on expiry day, negative after it."""
    cal = calendar if calendar is not None else default_calendar()
    cal.is_trading_day(today)  # raises ValueError outside the calendar range
    cal.is_trading_day(expiry)
    return cal.trading_days_between(today, expiry)
