"""Gather the frozen market snapshot and portfolio state a decision reads (the I/O side)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from broker.calendar import NY
from broker.contracts import SPX, VIX, FutureContract, OptionContract, Right, TradableContract
from broker.market import FutureQuote, LegQuote, MarketSnapshot, OptionChain
from broker.protocol import Broker
from broker.structures import Structure
from storage.journal import Journal
from strategies.decision import PortfolioState
from strategies.expiry import choose_expiry
from strategies.params import CondorParams


async def portfolio_state(broker: Broker, journal: Journal) -> PortfolioState:
    """Return the account from the venue and the structures from the journal."""
    return PortfolioState(await broker.account(), tuple(journal.open_structures()))


async def market_snapshot(
    broker: Broker,
    structures: tuple[Structure, ...],
    now: datetime,
    entry: CondorParams | None = None,
) -> MarketSnapshot:
    """Return index quotes, quotes of every held leg and, for an entry, the target chain."""
    spx = await broker.index_quote(SPX)
    vix = await broker.index_quote(VIX)
    leg_quotes = await quotes_of(broker, (leg.contract for s in structures for leg in s.legs))
    expiries: tuple[date, ...] = ()
    chains: dict[date, OptionChain] = {}
    if entry is not None:
        expiries = tuple(await broker.option_expiries(entry.symbol, entry.trading_class))
        today = now.astimezone(NY).date()
        target = choose_expiry(expiries, today, entry.target_dte, entry.min_dte, entry.max_dte)
        if target is not None:
            chains[target] = await _chain(broker, entry, target, spx.price)
    return MarketSnapshot(now, spx, vix, chains, expiries, leg_quotes)


async def quotes_of(
    broker: Broker, contracts: Iterable[TradableContract]
) -> dict[str, LegQuote]:
    """Return the quotes of options and futures by contract key (each asked for once)."""
    unique = {c.key: c for c in contracts}
    options = [c for c in unique.values() if isinstance(c, OptionContract)]
    futures = [c for c in unique.values() if isinstance(c, FutureContract)]
    quotes: dict[str, LegQuote] = {}
    if options:
        quotes.update((q.contract.key, q) for q in await broker.option_quotes(options))
    if futures:
        for quote in await broker.future_quotes(futures):
            quotes[quote.contract.key] = FutureQuote(quote)
    return quotes


async def _chain(broker: Broker, params: CondorParams, expiry: date, spot: float) -> OptionChain:
    """Quote the strikes within the window around spot (not the whole chain)."""
    strikes = await broker.option_strikes(params.symbol, params.trading_class, expiry)
    low, high = spot * (1 - params.strike_window_pct), spot * (1 + params.strike_window_pct)
    contracts = [
        OptionContract(params.symbol, params.trading_class, expiry, k, right)
        for right in (Right.PUT, Right.CALL)
        for k in strikes
        if low <= k <= high
    ]
    return OptionChain(params.trading_class, expiry, tuple(await broker.option_quotes(contracts)))
