"""The simulated market: SPX and VIX levels at any instant and option quotes with greeks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np

from broker.calendar import NY, TradingCalendar
from broker.contracts import IndexContract, OptionContract, Right
from broker.errors import MarketDataEnded
from broker.market import Greeks, OptionQuote, Quote
from broker.pricing import bs_greeks
from broker.sim.book import bid_ask
from broker.sim.history import DailyHistory
from broker.sim.intraday import intraday_level
from broker.sim.volatility import surface_vol

PM_SETTLEMENT = time(16, 0)
YEAR_SECONDS = 365.0 * 86400.0
STRIKE_STEP = 5.0


@dataclass(frozen=True, slots=True)
class MarketModel:
    """Rates and skew of the simulated option market."""

    rate: float = 0.02
    dividend_yield: float = 0.018
    put_skew: float = 2.0
    call_skew: float = 1.0


class SimMarket:
    """Replays real daily history with a deterministic intraday path; prices SPX options."""

    def __init__(
        self, history: DailyHistory, calendar: TradingCalendar, model: MarketModel
    ) -> None:
        self.history = history
        self.calendar = calendar
        self.model = model
        self._cache: tuple[datetime, float, float] | None = None

    def levels(self, now: datetime) -> tuple[float, float]:
        """Return (SPX, VIX) at `now`; raise MarketDataEnded outside the history."""
        if self._cache is not None and self._cache[0] == now:
            return self._cache[1], self._cache[2]
        day = now.astimezone(NY).date()
        if day > self.history.last_day or day < self.history.first_day:
            raise MarketDataEnded(
                f"no SPX/VIX history for {day}: the simulator has "
                f"{self.history.first_day}..{self.history.last_day}"
            )
        session = self.calendar.session(day)
        if session is not None and self.history.has(day):
            spx, vix = intraday_level(self.history.bar(day), session.open, session.close, now)
        else:
            bar = self.history.bar(self._last_day_before(day))
            spx, vix = bar.close, bar.vix_close
        self._cache = (now, spx, vix)
        return spx, vix

    def _last_day_before(self, day: date) -> date:
        probe = day - timedelta(days=1)
        while not self.history.has(probe):
            if probe < self.history.first_day:
                raise MarketDataEnded(f"no SPX/VIX history before {day}")
            probe -= timedelta(days=1)
        return probe

    def settlement_price(self, expiry: date) -> float:
        """Return the SPX close of the expiry day (PM settlement), or the last close before."""
        day = expiry if self.history.has(expiry) else self._last_day_before(expiry)
        return self.history.bar(day).close

    def index_quote(self, index: IndexContract, now: datetime) -> Quote:
        """Return an index quote: the level as last price, no book."""
        spx, vix = self.levels(now)
        level = {"SPX": spx, "VIX": vix}.get(index.symbol, float("nan"))
        return Quote(index, float("nan"), float("nan"), level, now)

    def expiries(self, now: datetime, horizon_days: int = 400) -> list[date]:
        """Return the SPXW expiries listed at `now` (today's until its PM settlement)."""
        today = now.astimezone(NY).date()
        listed = self.calendar.spxw_expiries(today, today + timedelta(days=horizon_days))
        return [e for e in listed if self.expiry_time(e) > now]

    def strikes(self, now: datetime) -> list[float]:
        """Return the listed strikes: every 5 points from half to one and a half times spot."""
        spx, _ = self.levels(now)
        low = np.floor(spx * 0.5 / STRIKE_STEP) * STRIKE_STEP
        high = np.ceil(spx * 1.5 / STRIKE_STEP) * STRIKE_STEP
        return [float(k) for k in np.arange(low, high + STRIKE_STEP / 2, STRIKE_STEP)]

    @staticmethod
    def expiry_time(expiry: date) -> datetime:
        """Return the PM settlement instant of an SPXW expiry."""
        return datetime.combine(expiry, PM_SETTLEMENT, tzinfo=NY)

    def option_quotes(
        self, contracts: Sequence[OptionContract], now: datetime
    ) -> list[OptionQuote]:
        """Price options on the surface: theoretical value, greeks, and a modeled book."""
        if not contracts:
            return []
        spx, vix = self.levels(now)
        m = self.model
        strikes = np.array([c.strike for c in contracts])
        t = (
            np.array(
                [max((self.expiry_time(c.expiry) - now).total_seconds(), 0.0) for c in contracts]
            )
            / YEAR_SECONDS
        )
        is_call = np.array([c.right is Right.CALL for c in contracts])
        forward = spx * np.exp((m.rate - m.dividend_yield) * t)
        vol = surface_vol(vix, forward, strikes, t, m.put_skew, m.call_skew)
        g = bs_greeks(spx, strikes, t, m.rate, m.dividend_yield, vol, is_call)
        quotes = []
        for i, contract in enumerate(contracts):
            bid, ask = bid_ask(float(g.price[i]), vix)
            greeks = Greeks(
                float(vol[i]),
                float(g.delta[i]),
                float(g.gamma[i]),
                float(g.vega[i]),
                float(g.theta[i]),
            )
            quote = Quote(contract, bid, ask, float(g.price[i]), now)
            quotes.append(OptionQuote(quote, greeks, spx))
        return quotes
