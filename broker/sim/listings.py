"""What the simulated venue lists, and when each product stops trading and settles.

Products (CBOE/CFE rules, simplified where noted):
- SPXW: SPX weeklies, PM-settled: trade until the expiry day's close (16:00 ET, 13:15 on an
  early-close day) and settle at that close. Expiries: every Friday, or the trading day before
  when Friday is a holiday (Monday/Wednesday/month-end series are not listed).
- SPX: the AM-settled monthlies (third Friday): trade until the close of the trading day before
  expiry and settle at the expiry day's opening price (the open stands in for the SOQ).
- VIX options (trading class VIX) and VIX futures (VX, multiplier 1000) expire on the CFE
  Wednesday (broker.vix_calendar) and settle at the VIX opening value that morning (the
  simulator's VIX at 09:30 stands in for the special opening quotation). Options stop trading at
  the close of the trading day before; futures (simplified) at the Wednesday 09:30 settlement.
Strikes: SPX every 5 points from 0.5x to 1.5x spot; VIX options every point from 9 to 50,
then every 5 to 100. Futures: the eight nearest monthly expiries (M1..M8).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum

import numpy as np

from broker.calendar import NY, TradingCalendar
from broker.contracts import FutureContract, OptionContract, Right, TradableContract
from broker.vix_calendar import vix_expiries

SPX_STRIKE_STEP = 5.0
SPX_OPEN = time(9, 30)
VIX_SETTLEMENT = time(9, 30)
VIX_FUTURE_MONTHS = 8
VIX_OPTION_MONTHS = 7
VIX_STRIKES = tuple(float(k) for k in [*range(9, 51), *range(55, 101, 5)])


class Product(StrEnum):
    SPXW = "SPXW"
    SPX = "SPX"
    VIX_OPTION = "VIX"
    VIX_FUTURE = "VX"


_OPTION_PRODUCTS = {
    ("SPX", "SPXW"): Product.SPXW,
    ("SPX", "SPX"): Product.SPX,
    ("VIX", "VIX"): Product.VIX_OPTION,
}


def product_of(contract: TradableContract) -> Product | None:
    """Return the listed product a contract belongs to, or None when the venue lacks it."""
    if isinstance(contract, FutureContract):
        listed = (contract.symbol, contract.trading_class) == ("VIX", "VX")
        return Product.VIX_FUTURE if listed else None
    return _OPTION_PRODUCTS.get((contract.symbol, contract.trading_class))


class Listings:
    """Listing, last-trade and settlement rules over one trading calendar."""

    def __init__(self, calendar: TradingCalendar) -> None:
        self.calendar = calendar
        self._settlements: dict[tuple[Product | None, date], datetime] = {}

    # -- times -------------------------------------------------------------------------------
    def _close(self, day: date) -> datetime:
        session = self.calendar.session(day)
        if session is None:
            return datetime.combine(day, time(16, 0), tzinfo=NY)
        return session.close

    def _previous_close(self, day: date) -> datetime:
        return self._close(self.calendar.previous_trading_day(day))

    def settlement_time(self, contract: TradableContract) -> datetime:
        """Return the instant a contract settles (and stops existing)."""
        return self.settlement_of(product_of(contract), contract.expiry)

    def settlement_of(self, product: Product | None, expiry: date) -> datetime:
        """Return the instant the contracts of a product and expiry settle (memoized)."""
        key = (product, expiry)
        known = self._settlements.get(key)
        if known is None:
            known = self._settlements[key] = self._settlement_of(product, expiry)
        return known

    def _settlement_of(self, product: Product | None, expiry: date) -> datetime:
        if product is Product.SPXW:
            return self._close(expiry)
        if product is Product.SPX:
            return datetime.combine(expiry, SPX_OPEN, tzinfo=NY)
        return datetime.combine(expiry, VIX_SETTLEMENT, tzinfo=NY)

    def last_trade_time(self, contract: TradableContract) -> datetime:
        """Return the last instant a contract can be traded."""
        product = product_of(contract)
        if product in (Product.SPX, Product.VIX_OPTION):
            return self._previous_close(contract.expiry)
        return self.settlement_time(contract)

    # -- listings ----------------------------------------------------------------------------
    def option_expiries(self, symbol: str, trading_class: str, now: datetime) -> list[date]:
        """Return the expiries of an option class still trading at `now`, ascending."""
        today = now.astimezone(NY).date()
        if (symbol, trading_class) == ("SPX", "SPXW"):
            days = self.calendar.spxw_expiries(today, today + timedelta(days=400))
            probe = [OptionContract(symbol, trading_class, d, 0.0, Right.CALL) for d in days]
        elif (symbol, trading_class) == ("SPX", "SPX"):
            months = _months_from(today, 13)
            days = [self.calendar.monthly_expiry(y, m) for y, m in months]
            probe = [OptionContract(symbol, trading_class, d, 0.0, Right.CALL) for d in days]
        elif (symbol, trading_class) == ("VIX", "VIX"):
            days = vix_expiries(today, today + timedelta(days=300), self.calendar)
            probe = [OptionContract(symbol, trading_class, d, 0.0, Right.CALL) for d in days]
        else:
            return []
        live = [c.expiry for c in probe if self.last_trade_time(c) > now]
        return sorted(set(live))[: VIX_OPTION_MONTHS if symbol == "VIX" else None]

    def future_expiries(self, symbol: str, trading_class: str, now: datetime) -> list[date]:
        """Return the VIX futures expiries M1..M8 still trading at `now`."""
        if (symbol, trading_class) != ("VIX", "VX"):
            return []
        today = now.astimezone(NY).date()
        days = vix_expiries(today, today + timedelta(days=300), self.calendar)
        live = [d for d in days if self.last_trade_time(FutureContract("VIX", "VX", d)) > now]
        return live[:VIX_FUTURE_MONTHS]

    @staticmethod
    def option_strikes(symbol: str, spot: float) -> list[float]:
        """Return the strikes listed for an option class around the current underlying."""
        if symbol == "VIX":
            return list(VIX_STRIKES)
        low = np.floor(spot * 0.5 / SPX_STRIKE_STEP) * SPX_STRIKE_STEP
        high = np.ceil(spot * 1.5 / SPX_STRIKE_STEP) * SPX_STRIKE_STEP
        return [float(k) for k in np.arange(low, high + SPX_STRIKE_STEP / 2, SPX_STRIKE_STEP)]

    def listing_problem(self, contract: TradableContract, now: datetime) -> str | None:
        """Return why `contract` cannot be traded at `now`, or None."""
        product = product_of(contract)
        if product is None:
            return f"{contract.key} is not traded on this venue"
        if isinstance(contract, FutureContract):
            if contract.expiry not in self.future_expiries("VIX", "VX", now):
                return f"{contract.key}: expiry {contract.expiry} is not listed"
            return None
        if contract.expiry not in self.option_expiries(
            contract.symbol, contract.trading_class, now
        ):
            return f"{contract.key}: expiry {contract.expiry} is not listed or no longer trades"
        if product is Product.VIX_OPTION:
            if contract.strike not in VIX_STRIKES:
                return f"{contract.key}: strike {contract.strike:g} is not listed"
        elif contract.strike % SPX_STRIKE_STEP:
            return f"{contract.key}: strike {contract.strike:g} is not listed"
        return None


def _months_from(day: date, count: int) -> list[tuple[int, int]]:
    out = []
    year, month = day.year, day.month
    for _ in range(count):
        out.append((year, month))
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out
