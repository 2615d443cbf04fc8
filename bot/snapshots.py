"""Gather the frozen market snapshot and portfolio state a decision reads (the I/O side)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from broker.calendar import NY
from broker.contracts import SPX, VIX, FutureContract, OptionContract, Right, TradableContract
from broker.market import FutureQuote, LegQuote, MarketSnapshot, OptionChain
from broker.protocol import Broker
from broker.structures import Structure
from strategies.expiry import choose_expiry
from strategies.params import CondorParams, VixLayerParams


@dataclass(frozen=True)
class SnapshotNeeds:
    """What a cycle quotes beyond the indexes and the held legs (price only what decides).

    `entry`: the condor entry's target chain; `spx_expiries`: SPX chains of held condors a roll
    needs; `vix`: the VIX futures and the VIX option chains the layer chooses from.
    """

    condor: CondorParams
    entry: bool = False
    spx_expiries: frozenset[date] = frozenset()
    vix: VixLayerParams | None = None


async def market_snapshot(
    broker: Broker,
    structures: tuple[Structure, ...],
    now: datetime,
    needs: SnapshotNeeds | None = None,
    sessions: tuple[date, ...] = (),
) -> MarketSnapshot:
    """Return index quotes, quotes of every held leg and the chains `needs` asks for."""
    spx = await broker.index_quote(SPX)
    vix = await broker.index_quote(VIX)
    leg_quotes = await quotes_of(broker, (leg.contract for s in structures for leg in s.legs))
    expiries: tuple[date, ...] = ()
    chains: dict[date, OptionChain] = {}
    today = now.astimezone(NY).date()
    if needs is not None and (needs.entry or needs.spx_expiries):
        condor = needs.condor
        expiries = tuple(await broker.option_expiries(condor.symbol, condor.trading_class))
        wanted = set(needs.spx_expiries)
        if needs.entry:
            target = choose_expiry(
                expiries, today, condor.target_dte, condor.min_dte, condor.max_dte
            )
            wanted |= {target} if target is not None else set()
        for expiry in sorted(wanted & set(expiries)):
            chains[expiry] = await spx_chain(broker, condor, expiry, spx.price)
    futures: tuple[FutureQuote, ...] = ()
    vix_chains: dict[date, OptionChain] = {}
    if needs is not None and needs.vix is not None:
        futures, vix_chains = await _vix_markets(broker, needs.vix, today)
    return MarketSnapshot(
        now, spx, vix, chains, expiries, leg_quotes, futures, vix_chains, sessions
    )


async def _vix_markets(
    broker: Broker, params: VixLayerParams, today: date
) -> tuple[tuple[FutureQuote, ...], dict[date, OptionChain]]:
    """Quote the listed VIX futures and the VIX option chains inside the call block's DTE."""
    future_expiries = await broker.future_expiries(params.symbol, params.future_class)
    contracts = [FutureContract(params.symbol, params.future_class, e) for e in future_expiries]
    futures = tuple(FutureQuote(q) for q in await broker.future_quotes(contracts))
    chains: dict[date, OptionChain] = {}
    low, high = params.strike_window
    for expiry in await broker.option_expiries(params.symbol, params.option_class):
        if not params.call_min_dte <= (expiry - today).days <= params.call_max_dte:
            continue
        strikes = await broker.option_strikes(params.symbol, params.option_class, expiry)
        calls = [
            OptionContract(params.symbol, params.option_class, expiry, k, Right.CALL)
            for k in strikes
            if low <= k <= high
        ]
        quotes = tuple(await broker.option_quotes(calls))
        chains[expiry] = OptionChain(params.option_class, expiry, quotes)
    return futures, chains


async def quotes_of(broker: Broker, contracts: Iterable[TradableContract]) -> dict[str, LegQuote]:
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


async def spx_chain(broker: Broker, params: CondorParams, expiry: date, spot: float) -> OptionChain:
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
