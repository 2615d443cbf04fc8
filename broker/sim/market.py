"""The simulated market: index levels at any instant, and quotes with greeks for what it lists.

SPX options are priced by Black-Scholes with a dividend yield on the SPX surface
(broker.sim.volatility.spx_vol); VIX futures come from the term-structure model
(broker.sim.vix_futures), or from the user's futures CSV when one is given; VIX options are
priced by Black-76 off the future of the same expiry with the vol-of-vol model. Books come
from broker.sim.book; listing and settlement rules from broker.sim.listings.

Two paths compute the same numbers: batches of at most SCALAR_BATCH contracts (the held book a
replay values at every instant) go through broker.sim.scalar_quotes, one contract at a time in
plain floats; larger ones (chains) through the vectorized models. See scalar_quotes for why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from broker.calendar import NY, TradingCalendar
from broker.contracts import FutureContract, IndexContract, OptionContract, Right
from broker.errors import MarketDataEnded
from broker.market import DailyBar, Greeks, OptionQuote, Quote
from broker.pricing import PriceGreeks, black76_greeks, bs_greeks
from broker.pricing_scalar import Greeks5, black76_greeks_one, bs_greeks_one
from broker.sim.book import Book, BookParams, future_book, option_book
from broker.sim.history import DailyBar as HistoryBar
from broker.sim.history import DailyHistory
from broker.sim.intraday import intraday_level
from broker.sim.listings import Listings, Product, product_of
from broker.sim.scalar_quotes import (
    SCALAR_BATCH,
    future_book_one,
    moneyness_sd,
    option_book_one,
    spx_vol_one,
    vix_future_price_one,
    vix_option_vol_one,
)
from broker.sim.vix_futures import TermStructureParams, vix_futures_prices
from broker.sim.volatility import (
    SpxSurface,
    SurfaceParams,
    VixOptionParams,
    spx_surface,
    vix_option_vol,
)

YEAR_SECONDS = 365.0 * 86400.0


@dataclass(frozen=True, slots=True)
class MarketModel:
    """Rates, volatility models and book of the simulated market."""

    rate: float = 0.02
    dividend_yield: float = 0.018
    surface: SurfaceParams = field(default_factory=SurfaceParams)
    term_structure: TermStructureParams = field(default_factory=TermStructureParams)
    vix_options: VixOptionParams = field(default_factory=VixOptionParams)
    book: BookParams = field(default_factory=BookParams)


class SimMarket:
    """Replays daily history with a deterministic intraday path and quotes what it lists."""

    def __init__(
        self, history: DailyHistory, calendar: TradingCalendar, model: MarketModel
    ) -> None:
        self.history = history
        self.calendar = calendar
        self.model = model
        self.listings = Listings(calendar)
        self._cache: tuple[datetime, float, float] | None = None
        self._surface: tuple[float, SpxSurface] | None = None
        # Quotes are a pure function of (contract, instant): within one instant the account's
        # valuation, the snapshot and the executor ask for the same legs, priced once.
        self._quoted_at: datetime | None = None
        self._option_memo: dict[OptionContract, OptionQuote] = {}
        self._future_memo: dict[FutureContract, Quote] = {}
        self._fair_memo: dict[date, float] = {}

    # -- levels ------------------------------------------------------------------------------
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

    def index_quote(self, index: IndexContract, now: datetime) -> Quote:
        """Return an index quote: the level as last price, no book."""
        spx, vix = self.levels(now)
        level = {"SPX": spx, "VIX": vix}.get(index.symbol, float("nan"))
        return Quote(index, float("nan"), float("nan"), level, now)

    def daily_bars(self, index: IndexContract, now: datetime, days: int) -> list[DailyBar]:
        """Return up to `days` completed sessions before `now`'s session, oldest first.

        SPX has its OHLC; VIX and AD-NYSE (net advances) have only a close, repeated.
        """
        day = now.astimezone(NY).date()
        session = self.calendar.session(day)
        last = day if session is not None and now >= session.close else day - timedelta(days=1)
        dates, _spx, vix = self.history.closes(last, days)
        if index.symbol == "SPX":
            return [_spx_bar(self.history.bar(d)) for d in dates]
        if index.symbol == "VIX":
            return [DailyBar(d, v, v, v, v) for d, v in zip(dates, vix.tolist(), strict=True)]
        if index.symbol == "AD-NYSE":
            _, advances, declines = self.history.breadth(last, days)
            net = (advances - declines).tolist()
            return [DailyBar(d, n, n, n, n) for d, n in zip(dates, net, strict=True)]
        return []

    # -- settlement --------------------------------------------------------------------------
    def settlement_price(self, contract: OptionContract | FutureContract) -> float:
        """Return the underlying's settlement value for an expired contract.

        SPXW: the expiry day's close; SPX monthlies: its open; VIX options and futures: the
        VIX at 09:30 on the expiry Wednesday. A day missing from the history falls back to
        the last close before it.
        """
        expiry = contract.expiry
        product = product_of(contract)
        if not self.history.has(expiry):
            bar = self.history.bar(self._last_day_before(expiry))
            return bar.vix_close if contract.symbol == "VIX" else bar.close
        if product is Product.SPXW:
            return self.history.bar(expiry).close
        if product is Product.SPX:
            return self.history.bar(expiry).open
        return self.levels(self.listings.settlement_time(contract))[1]

    def _years_to(
        self, contracts: Sequence[OptionContract | FutureContract], now: datetime
    ) -> np.ndarray:
        seconds = [
            max((self.listings.settlement_time(c) - now).total_seconds(), 0.0) for c in contracts
        ]
        return np.asarray(seconds, dtype=np.float64) / YEAR_SECONDS

    def _years_to_one(self, product: Product | None, expiry: date, now: datetime) -> float:
        """Return ``_years_to`` of one contract, given by its product and expiry."""
        settles = self.listings.settlement_of(product, expiry)
        return max((settles - now).total_seconds(), 0.0) / YEAR_SECONDS

    # -- VIX futures -------------------------------------------------------------------------
    def vix_future_prices(self, expiries: Sequence[date], now: datetime) -> np.ndarray:
        """Return the fair value of the VIX futures of `expiries` at `now`.

        From the term-structure model, or, when the user supplied futures settlements for
        today, from those shifted by the model's move since the close of today's bar.
        """
        return np.array(self._fair_values(expiries, now), dtype=np.float64)

    def _fair_values(self, expiries: Sequence[date], now: datetime) -> list[float]:
        """Return ``vix_future_prices`` as a list of floats (memoized within the instant)."""
        self._memo_at(now)
        memo = self._fair_memo
        missing = [e for e in dict.fromkeys(expiries) if e not in memo]
        if missing:
            memo.update(zip(missing, self._fair_futures(missing, now), strict=True))
        return [memo[e] for e in expiries]

    def _fair_futures(self, expiries: Sequence[date], now: datetime) -> list[float]:
        if len(expiries) <= SCALAR_BATCH:
            return self._fair_futures_scalar(expiries, now)
        return self._fair_futures_vector(expiries, now).tolist()

    def _fair_futures_scalar(self, expiries: Sequence[date], now: datetime) -> list[float]:
        """``_fair_futures_vector``, one expiry at a time (same numbers, see scalar_quotes)."""
        vix = float(self.levels(now)[1])
        params = self.model.term_structure
        future = Product.VIX_FUTURE
        model = [
            vix_future_price_one(vix, self._years_to_one(future, e, now), params) for e in expiries
        ]
        user_data = self._user_settles(now)
        if user_data is None:
            return model
        settles, vix_close, close = user_data
        out = []
        for e, fair in zip(expiries, model, strict=True):
            user = float(settles.get(e, math.nan))
            if math.isfinite(user):
                at_close = vix_future_price_one(
                    vix_close, self._years_to_one(future, e, close), params
                )
                fair = user + (fair - at_close)
            out.append(fair)
        return out

    def _fair_futures_vector(self, expiries: Sequence[date], now: datetime) -> np.ndarray:
        _, vix = self.levels(now)
        contracts = [FutureContract("VIX", "VX", e) for e in expiries]
        t = self._years_to(contracts, now)
        model = vix_futures_prices(vix, t, self.model.term_structure)
        user_data = self._user_settles(now)
        if user_data is None:
            return model
        settles, vix_close, close = user_data
        at_close = vix_futures_prices(
            vix_close,
            self._years_to(contracts, close),
            self.model.term_structure,
        )
        user = np.array([settles.get(e, np.nan) for e in expiries])
        return np.where(np.isfinite(user), user + (model - at_close), model)

    def _user_settles(self, now: datetime) -> tuple[dict[date, float], float, datetime] | None:
        """Return today's user futures settlements, today's VIX close and the session's close
        instant, or None when the user gave none for today."""
        day = now.astimezone(NY).date()
        settles = self.history.futures_settles(day) if self.history.has(day) else None
        if not settles:
            return None
        session = self.calendar.session(day)
        close = session.close if session is not None else now
        return settles, self.history.bar(day).vix_close, close

    def _memo_at(self, now: datetime) -> None:
        """Forget the memoized quotes when the instant changes (one instant's quotes are kept)."""
        if self._quoted_at != now:
            self._quoted_at = now
            self._option_memo.clear()
            self._future_memo.clear()
            self._fair_memo.clear()

    def future_quotes(self, contracts: Sequence[FutureContract], now: datetime) -> list[Quote]:
        """Return quotes of VIX futures (NaN book for anything not listed)."""
        self._memo_at(now)
        memo = self._future_memo
        missing = [c for c in dict.fromkeys(contracts) if c not in memo]
        if missing:
            memo.update(zip(missing, self._price_futures(missing, now), strict=True))
        return [memo[c] for c in contracts]

    def _price_futures(self, contracts: Sequence[FutureContract], now: datetime) -> list[Quote]:
        if len(contracts) <= SCALAR_BATCH:
            return self._price_futures_scalar(contracts, now)
        _, vix = self.levels(now)
        fair = self.vix_future_prices([c.expiry for c in contracts], now)
        book = future_book(fair, vix, self.model.book)
        return [
            Quote(
                c,
                float(book.bid[i]),
                float(book.ask[i]),
                float(fair[i]),
                now,
                float(book.size[i]),
                float(book.size[i]),
            )
            for i, c in enumerate(contracts)
        ]

    def _price_futures_scalar(
        self, contracts: Sequence[FutureContract], now: datetime
    ) -> list[Quote]:
        """``_price_futures``, one contract at a time (same numbers, see scalar_quotes)."""
        vix = float(self.levels(now)[1])
        fairs = self._fair_values([c.expiry for c in contracts], now)
        quotes = []
        for c, fair in zip(contracts, fairs, strict=True):
            bid, ask, size = future_book_one(fair, vix, self.model.book)
            quotes.append(Quote(c, bid, ask, fair, now, float(size), float(size)))
        return quotes

    # -- options -----------------------------------------------------------------------------
    def option_quotes(
        self, contracts: Sequence[OptionContract], now: datetime
    ) -> list[OptionQuote]:
        """Price options: theoretical value, greeks and a modeled book, in the order asked."""
        self._memo_at(now)
        memo = self._option_memo
        missing = [c for c in dict.fromkeys(contracts) if c not in memo]
        if missing:
            memo.update(zip(missing, self._price_options(missing, now), strict=True))
        return [memo[c] for c in contracts]

    def _price_options(
        self, contracts: Sequence[OptionContract], now: datetime
    ) -> list[OptionQuote]:
        out: list[OptionQuote | None] = [None] * len(contracts)
        spx_idx = [i for i, c in enumerate(contracts) if c.symbol == "SPX"]
        vix_idx = [i for i, c in enumerate(contracts) if c.symbol == "VIX"]
        other = [i for i, c in enumerate(contracts) if c.symbol not in ("SPX", "VIX")]
        if spx_idx:
            for i, q in zip(
                spx_idx, self._spx_quotes([contracts[i] for i in spx_idx], now), strict=True
            ):
                out[i] = q
        if vix_idx:
            for i, q in zip(
                vix_idx, self._vix_quotes([contracts[i] for i in vix_idx], now), strict=True
            ):
                out[i] = q
        for i in other:
            nan = float("nan")
            out[i] = OptionQuote(
                Quote(contracts[i], nan, nan, nan, now), Greeks(nan, nan, nan, nan, nan), nan
            )
        return [q for q in out if q is not None]

    def _spx_quotes(self, contracts: list[OptionContract], now: datetime) -> list[OptionQuote]:
        if len(contracts) <= SCALAR_BATCH:
            return self._spx_quotes_scalar(contracts, now)
        spx, vix = self.levels(now)
        m = self.model
        strikes = np.array([c.strike for c in contracts])
        t = self._years_to(contracts, now)
        is_call = np.array([c.right is Right.CALL for c in contracts])
        forward = spx * np.exp((m.rate - m.dividend_yield) * t)
        vol = self._spx_surface(vix).vol(forward, strikes, t)
        g = bs_greeks(spx, strikes, t, m.rate, m.dividend_yield, vol, is_call)
        z = np.log(strikes / forward) / (vol * np.sqrt(np.maximum(t, 1e-8)))
        products = [product_of(c) for c in contracts]
        book = option_book(Product.SPXW, g.price, z, vix, m.book)
        return _option_quotes(contracts, products, g, vol, book, np.full(len(contracts), spx), now)

    def _spx_quotes_scalar(
        self, contracts: list[OptionContract], now: datetime
    ) -> list[OptionQuote]:
        """``_spx_quotes``, one contract at a time (same numbers, see scalar_quotes)."""
        spx, vix = (float(x) for x in self.levels(now))
        m = self.model
        surface = self._spx_surface(vix)
        carry = m.rate - m.dividend_yield
        quotes = []
        for c in contracts:
            product = product_of(c)
            strike = float(c.strike)
            t = self._years_to_one(product, c.expiry, now)
            forward = spx * math.exp(carry * t)
            vol = spx_vol_one(surface, forward, strike, t)
            g = bs_greeks_one(spx, strike, t, m.rate, m.dividend_yield, vol, c.right is Right.CALL)
            z = moneyness_sd(strike, forward, vol, t)
            book = option_book_one(Product.SPXW, g[0], z, vix, m.book)
            quotes.append(_option_quote(c, product, book, g, vol, spx, now))
        return quotes

    def _spx_surface(self, vix: float) -> SpxSurface:
        """Return the SPX surface for a VIX level (built once per level: it solves its anchor)."""
        if self._surface is None or self._surface[0] != vix:
            self._surface = (vix, spx_surface(vix, self.model.surface))
        return self._surface[1]

    def _vix_quotes(self, contracts: list[OptionContract], now: datetime) -> list[OptionQuote]:
        if len(contracts) <= SCALAR_BATCH:
            return self._vix_quotes_scalar(contracts, now)
        _, vix = self.levels(now)
        m = self.model
        expiries = sorted({c.expiry for c in contracts})
        futures = dict(zip(expiries, self.vix_future_prices(expiries, now), strict=True))
        forward = np.array([futures[c.expiry] for c in contracts])
        strikes = np.array([c.strike for c in contracts])
        t = self._years_to(contracts, now)
        is_call = np.array([c.right is Right.CALL for c in contracts])
        vol = vix_option_vol(vix, forward, strikes, t, m.vix_options)
        g = black76_greeks(forward, strikes, t, m.rate, vol, is_call)
        z = np.log(strikes / forward) / (vol * np.sqrt(np.maximum(t, 1e-8)))
        products = [product_of(c) for c in contracts]
        book = option_book(Product.VIX_OPTION, g.price, z, vix, m.book)
        return _option_quotes(contracts, products, g, vol, book, forward, now)

    def _vix_quotes_scalar(
        self, contracts: list[OptionContract], now: datetime
    ) -> list[OptionQuote]:
        """``_vix_quotes``, one contract at a time (same numbers, see scalar_quotes)."""
        vix = float(self.levels(now)[1])
        m = self.model
        expiries = sorted({c.expiry for c in contracts})
        futures = dict(zip(expiries, self._fair_values(expiries, now), strict=True))
        quotes = []
        for c in contracts:
            product = product_of(c)
            forward = futures[c.expiry]
            strike = float(c.strike)
            t = self._years_to_one(product, c.expiry, now)
            vol = vix_option_vol_one(vix, forward, strike, t, m.vix_options)
            g = black76_greeks_one(forward, strike, t, m.rate, vol, c.right is Right.CALL)
            z = moneyness_sd(strike, forward, vol, t)
            book = option_book_one(Product.VIX_OPTION, g[0], z, vix, m.book)
            quotes.append(_option_quote(c, product, book, g, vol, forward, now))
        return quotes


def _option_quote(
    contract: OptionContract,
    product: Product | None,
    book: tuple[float, float, int],
    g: Greeks5,
    vol: float,
    underlying: float,
    now: datetime,
) -> OptionQuote:
    """Return one option's quote (``_option_quotes`` for a single contract)."""
    bid, ask, size = book
    if product is None:  # not listed: a value and greeks, but no book
        bid = ask = math.nan
    price, delta, gamma, vega, theta = g
    quote = Quote(contract, bid, ask, price, now, float(size), float(size))
    return OptionQuote(quote, Greeks(vol, delta, gamma, vega, theta), underlying)


def _option_quotes(
    contracts: Sequence[OptionContract],
    products: Sequence[Product | None],
    g: PriceGreeks,
    vol: np.ndarray,
    book: Book,
    underlying: np.ndarray,
    now: datetime,
) -> list[OptionQuote]:
    nan = float("nan")
    columns = zip(
        contracts,
        products,
        book.bid.tolist(),
        book.ask.tolist(),
        book.size.tolist(),
        g.price.tolist(),
        vol.tolist(),
        g.delta.tolist(),
        g.gamma.tolist(),
        g.vega.tolist(),
        g.theta.tolist(),
        underlying.tolist(),
        strict=True,
    )
    quotes = []
    for contract, product, bid, ask, size, price, iv, delta, gamma, vega, theta, under in columns:
        if product is None:  # not listed: a value and greeks, but no book
            bid = ask = nan
        quote = Quote(contract, bid, ask, price, now, float(size), float(size))
        quotes.append(OptionQuote(quote, Greeks(iv, delta, gamma, vega, theta), under))
    return quotes


def _spx_bar(bar: HistoryBar) -> DailyBar:
    return DailyBar(bar.day, bar.open, bar.high, bar.low, bar.close)
