"""Market data: quotes, option quotes with greeks, chains, and the snapshot a cycle reads."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime

from broker.contracts import (
    FutureContract,
    IndexContract,
    OptionContract,
    Right,
    TradableContract,
)


def is_usable_price(value: float | None) -> bool:
    """Return True for a finite, positive price."""
    return value is not None and math.isfinite(value) and value > 0


@dataclass(frozen=True, slots=True)
class Quote:
    """Bid, ask and last of any contract at `time`. NaN where the venue has nothing.

    `bid_size` and `ask_size` are the contracts displayed on each side (NaN when unknown).
    """

    contract: IndexContract | TradableContract
    bid: float
    ask: float
    last: float
    time: datetime
    bid_size: float = math.nan
    ask_size: float = math.nan

    @property
    def mid(self) -> float:
        """Return (bid + ask) / 2 when the book is sane; a zero bid (no buyer) is sane."""
        if self.problem() is None:
            return (self.bid + self.ask) / 2
        return math.nan

    @property
    def price(self) -> float:
        """Return the mid when the book is sane, else the last price (indexes have no book)."""
        mid = self.mid
        return mid if math.isfinite(mid) else self.last

    def problem(self) -> str | None:
        """Return why this quote must not be traded on, or None when it is usable."""
        bid_ok = math.isfinite(self.bid) and self.bid >= 0
        if not (bid_ok and is_usable_price(self.ask)):
            return f"no usable market for {self.contract.key} (bid {self.bid}, ask {self.ask})"
        if self.ask < self.bid:
            return f"crossed market for {self.contract.key} (bid {self.bid} > ask {self.ask})"
        return None


@dataclass(frozen=True, slots=True)
class Greeks:
    """Per-share greeks of one option; NaN when the source could not compute them."""

    iv: float
    delta: float
    gamma: float
    vega: float
    theta: float

    def is_finite(self) -> bool:
        return all(
            math.isfinite(v) for v in (self.iv, self.delta, self.gamma, self.vega, self.theta)
        )


@dataclass(frozen=True, slots=True)
class OptionQuote:
    """An option's quote with its greeks and the underlying price they were computed at."""

    quote: Quote
    greeks: Greeks
    underlying_price: float

    @property
    def contract(self) -> OptionContract:
        contract = self.quote.contract
        assert isinstance(contract, OptionContract)
        return contract

    def problem(self) -> str | None:
        """Return why this option must not be traded on, or None when it is usable."""
        issue = self.quote.problem()
        if issue:
            return issue
        if not self.greeks.is_finite():
            return f"greeks not finite for {self.contract.key}"
        return None


# A future's greeks in its own underlying: one point per point, nothing else.
FUTURE_GREEKS = Greeks(iv=0.0, delta=1.0, gamma=0.0, vega=0.0, theta=0.0)


@dataclass(frozen=True, slots=True)
class FutureQuote:
    """A future's quote in the shape of an option quote, so combos of both price alike.

    The future is its own underlying: delta 1, no gamma, vega or theta.
    """

    quote: Quote

    @property
    def contract(self) -> FutureContract:
        contract = self.quote.contract
        assert isinstance(contract, FutureContract)
        return contract

    @property
    def greeks(self) -> Greeks:
        return FUTURE_GREEKS

    @property
    def underlying_price(self) -> float:
        return self.quote.price

    def problem(self) -> str | None:
        """Return why this future must not be traded on, or None when it is usable."""
        return self.quote.problem()


# The quote of any tradable leg: what pricing and greeks of a combo read.
LegQuote = OptionQuote | FutureQuote


@dataclass(frozen=True, slots=True)
class DailyBar:
    """One completed session of an index: SPX, VIX, or NYSE net advances (AD-NYSE)."""

    day: date
    open: float
    high: float
    low: float
    close: float


@dataclass(frozen=True, slots=True)
class OptionChain:
    """Quotes of one expiry of one trading class, sorted by right then strike."""

    trading_class: str
    expiry: date
    quotes: tuple[OptionQuote, ...]

    def side(self, right: Right) -> tuple[OptionQuote, ...]:
        return tuple(q for q in self.quotes if q.contract.right is right)


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """Everything a decision may read about the market at one instant.

    `chains` are SPX option chains (only the expiries a decision needs), `leg_quotes` quote
    every held leg (options and futures) by contract key, `futures` quote the listed VIX
    futures by expiry, `vix_chains` are VIX option chains by expiry (asked for by the hedge
    jobs only) and `sessions` are the trading days from today on (today first when it is one).
    """

    time: datetime
    spx: Quote
    vix: Quote
    chains: dict[date, OptionChain] = field(default_factory=dict)
    expiries: tuple[date, ...] = ()
    leg_quotes: dict[str, LegQuote] = field(default_factory=dict)
    futures: tuple[FutureQuote, ...] = ()
    vix_chains: dict[date, OptionChain] = field(default_factory=dict)
    sessions: tuple[date, ...] = ()
