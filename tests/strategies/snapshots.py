"""Hand-built market snapshots, accounts and structures for the pure strategy tests.

No simulator and no I/O: every quote is written here (or priced by `broker.pricing.bs_greeks`
for the property tests), so each test knows exactly which strike a rule must pick.

The standard chain (spot 5000, expiry 45 DTE from TODAY) is built so that:
    puts:  4800 has delta -0.16 (the short), 4700 has -0.05 (the wing)
    calls: 5200 has delta +0.16 (the short), 5300 has +0.05 (the wing)
and the mids of those four are 12.00, 4.00, 10.00 and 3.00: a 15.00 credit on 100-wide wings,
a max loss of $8,500 per condor, hence 2 condors on a $1,000,000 account at 2 %.
Every standard mid and the 0.50 spread are exact binary fractions, so mids and credits are exact.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

import numpy as np

from broker.account import AccountSnapshot, MarginImpact
from broker.calendar import NY
from broker.contracts import FutureContract, IndexContract, OptionContract, Right
from broker.market import FutureQuote, Greeks, MarketSnapshot, OptionChain, OptionQuote, Quote
from broker.orders import Leg, Side
from broker.pricing import black76_greeks, bs_greeks
from broker.structures import Engine, Intent, IntentKind, Structure, StructureKind
from strategies.decision import PortfolioState
from strategies.hedge_state import HedgeState
from strategies.signals.macro_calendar import MacroEvent

NOW = datetime(2024, 3, 4, 10, 0, tzinfo=NY)  # a Monday, in the entry window
TODAY = NOW.date()
EXPIRY = TODAY + timedelta(days=45)  # 2024-04-18
SPOT = 5000.0
NLV = 1_000_000.0
SPREAD = 0.5

SHORT_PUT, LONG_PUT, SHORT_CALL, LONG_CALL = 4800.0, 4700.0, 5200.0, 5300.0
CREDIT = 15.0  # 12 + 10 - 4 - 3

# (strike, delta, mid): |delta| falls monotonically with the distance from spot.
PUT_ROWS: tuple[tuple[float, float, float], ...] = (
    (4600.0, -0.015, 1.25),
    (4625.0, -0.02, 1.75),
    (4650.0, -0.028, 2.25),
    (4675.0, -0.038, 3.0),
    (4700.0, -0.05, 4.0),  # wing
    (4725.0, -0.08, 6.0),
    (4750.0, -0.11, 8.0),
    (4775.0, -0.135, 10.0),
    (4800.0, -0.16, 12.0),  # short
    (4825.0, -0.18, 16.0),
    (4850.0, -0.21, 21.0),
    (4875.0, -0.24, 26.0),
    (4900.0, -0.28, 31.0),
    (4925.0, -0.34, 38.0),
    (4950.0, -0.40, 45.0),
)
CALL_ROWS: tuple[tuple[float, float, float], ...] = (
    (5050.0, 0.40, 40.0),
    (5075.0, 0.34, 33.0),
    (5100.0, 0.28, 26.0),
    (5125.0, 0.23, 20.0),
    (5150.0, 0.19, 16.0),
    (5175.0, 0.18, 13.0),
    (5200.0, 0.16, 10.0),  # short
    (5225.0, 0.13, 8.0),
    (5250.0, 0.10, 6.0),
    (5275.0, 0.075, 4.5),
    (5300.0, 0.05, 3.0),  # wing
    (5325.0, 0.035, 2.0),
    (5350.0, 0.025, 1.5),
    (5375.0, 0.018, 1.0),
)


# --------------------------------------------------------------------------------------------
# Contracts and quotes
# --------------------------------------------------------------------------------------------


def option(
    strike: float,
    right: Right,
    expiry: date = EXPIRY,
    trading_class: str = "SPXW",
    symbol: str = "SPX",
) -> OptionContract:
    return OptionContract(symbol, trading_class, expiry, strike, right)


def vix_future(expiry: date = date(2024, 4, 17)) -> FutureContract:
    return FutureContract("VIX", "VX", expiry)


def option_quote(
    contract: OptionContract,
    bid: float,
    ask: float,
    delta: float,
    *,
    underlying: float = SPOT,
    time: datetime = NOW,
) -> OptionQuote:
    greeks = Greeks(iv=0.15, delta=delta, gamma=0.001, vega=5.0, theta=-1.0)
    return OptionQuote(Quote(contract, bid, ask, math.nan, time), greeks, underlying)


def quote_at_mid(
    strike: float,
    right: Right,
    mid: float,
    delta: float,
    expiry: date = EXPIRY,
    spread: float = SPREAD,
) -> OptionQuote:
    """Return a quote `spread` wide around `mid` (the bid floored at zero)."""
    bid = max(0.0, mid - spread / 2)
    return option_quote(option(strike, right, expiry), bid, bid + spread if bid else 2 * mid, delta)


def with_market(quote: OptionQuote, bid: float, ask: float) -> OptionQuote:
    return dataclasses.replace(quote, quote=dataclasses.replace(quote.quote, bid=bid, ask=ask))


def with_delta(quote: OptionQuote, delta: float) -> OptionQuote:
    return dataclasses.replace(quote, greeks=dataclasses.replace(quote.greeks, delta=delta))


def with_nan_greeks(quote: OptionQuote) -> OptionQuote:
    return dataclasses.replace(quote, greeks=Greeks(*(math.nan,) * 5))


QuoteTable = dict[tuple[Right, float], OptionQuote]


def standard_quotes(expiry: date = EXPIRY) -> QuoteTable:
    """Return the standard chain's quotes keyed by (right, strike), ready to be altered."""
    table: QuoteTable = {}
    for right, rows in ((Right.PUT, PUT_ROWS), (Right.CALL, CALL_ROWS)):
        for strike, delta, mid in rows:
            table[(right, strike)] = quote_at_mid(strike, right, mid, delta, expiry)
    return table


def make_chain(quotes: Iterable[OptionQuote], expiry: date = EXPIRY) -> OptionChain:
    ordered = sorted(quotes, key=lambda q: (q.contract.right.value, q.contract.strike))
    return OptionChain("SPXW", expiry, tuple(ordered))


def index_quote(symbol: str, price: float) -> Quote:
    return Quote(IndexContract(symbol), math.nan, math.nan, price, NOW)


def snapshot(
    chains: Mapping[date, OptionChain] | None = None,
    expiries: Iterable[date] | None = None,
    leg_quotes: Iterable[OptionQuote] = (),
    time: datetime = NOW,
) -> MarketSnapshot:
    """Return a snapshot; by default the standard chain is the only listed expiry's chain."""
    if chains is None:
        chains = {EXPIRY: make_chain(standard_quotes().values())}
    if expiries is None:
        expiries = sorted(chains)
    return MarketSnapshot(
        time=time,
        spx=index_quote("SPX", SPOT),
        vix=index_quote("VIX", 14.0),
        chains=dict(chains),
        expiries=tuple(expiries),
        leg_quotes={q.contract.key: q for q in leg_quotes},
    )


def entry_snapshot(table: QuoteTable, expiries: Iterable[date] | None = None) -> MarketSnapshot:
    return snapshot({EXPIRY: make_chain(table.values())}, expiries)


# --------------------------------------------------------------------------------------------
# Account, structures, intents
# --------------------------------------------------------------------------------------------


def account(nlv: float = NLV, maintenance: float = 0.0) -> AccountSnapshot:
    return AccountSnapshot("DUTEST001", NOW, nlv, nlv, maintenance)


def state(structures: Iterable[Structure] = (), nlv: float = NLV) -> PortfolioState:
    return PortfolioState(account(nlv), tuple(structures))


def margin(excess_after: float, nlv: float = NLV) -> MarginImpact:
    return MarginImpact(nlv - excess_after, excess_after, nlv)


def condor_legs(
    strikes: tuple[float, float, float, float] = (LONG_PUT, SHORT_PUT, SHORT_CALL, LONG_CALL),
    expiry: date = EXPIRY,
) -> tuple[Leg, ...]:
    """Return SELL put, BUY put, SELL call, BUY call for strikes (long put, short put, ...)."""
    long_put, short_put, short_call, long_call = strikes
    return (
        Leg(option(short_put, Right.PUT, expiry), Side.SELL),
        Leg(option(long_put, Right.PUT, expiry), Side.BUY),
        Leg(option(short_call, Right.CALL, expiry), Side.SELL),
        Leg(option(long_call, Right.CALL, expiry), Side.BUY),
    )


def condor(
    structure_id: int = 1,
    *,
    quantity: int = 2,
    credit: float = CREDIT,
    opened_at: datetime = NOW - timedelta(days=7),
    strikes: tuple[float, float, float, float] = (LONG_PUT, SHORT_PUT, SHORT_CALL, LONG_CALL),
    expiry: date = EXPIRY,
    engine: Engine = Engine.CONDOR,
) -> Structure:
    return Structure(
        id=structure_id,
        engine=engine,
        kind=StructureKind.IRON_CONDOR,
        legs=condor_legs(strikes, expiry),
        quantity=quantity,
        open_price=-credit,
        opened_at=opened_at,
    )


def open_intent(
    legs: tuple[Leg, ...] | None = None,
    quantity: int = 2,
    kind: IntentKind = IntentKind.OPEN,
    structure_kind: StructureKind = StructureKind.IRON_CONDOR,
    engine: Engine = Engine.CONDOR,
    limit_price: float = -CREDIT,
    structure_id: int | None = None,
) -> Intent:
    return Intent(
        kind=kind,
        engine=engine,
        structure_kind=structure_kind,
        legs=condor_legs() if legs is None else legs,
        quantity=quantity,
        limit_price=limit_price,
        reason="test",
        structure_id=structure_id,
    )


def close_intent(structure: Structure, quantity: int | None = None) -> Intent:
    return Intent(
        kind=IntentKind.CLOSE,
        engine=structure.engine,
        structure_kind=structure.kind,
        legs=tuple(leg.reversed() for leg in structure.legs),
        quantity=structure.quantity if quantity is None else quantity,
        limit_price=1.0,
        reason="test",
        structure_id=structure.id,
    )


def leg_quotes_for(
    structure: Structure, mids: Iterable[float], spread: float = SPREAD
) -> list[OptionQuote]:
    """Return quotes of the structure's legs (in leg order) at the given mids."""
    quotes = []
    for leg, mid in zip(structure.legs, mids, strict=True):
        contract = leg.contract
        assert isinstance(contract, OptionContract)
        bid = max(0.0, mid - spread / 2)
        delta = 0.1 if contract.right is Right.CALL else -0.1
        quotes.append(option_quote(contract, bid, bid + spread if bid else 2 * mid, delta))
    return quotes


# --------------------------------------------------------------------------------------------
# Realistic chains for the property tests
# --------------------------------------------------------------------------------------------


def bs_chain(
    spot: float,
    vol: float,
    expiry: date,
    dte: int,
    step: float,
    *,
    rng: np.random.Generator,
    nan_frac: float = 0.0,
    zero_ask_frac: float = 0.0,
    crossed_frac: float = 0.0,
    window: float = 0.25,
) -> OptionChain:
    """Return a Black-Scholes chain (flat vol) within `window` of spot, on 0.05 ticks.

    Random holes: NaN greeks, a zero bid and ask (no market) or a crossed book.
    """
    low = math.ceil(spot * (1 - window) / step) * step
    high = math.floor(spot * (1 + window) / step) * step
    strikes = np.arange(low, high + step / 2, step)
    quotes = []
    for right in (Right.CALL, Right.PUT):
        is_call = right is Right.CALL
        g = bs_greeks(spot, strikes, dte / 365.0, 0.04, 0.013, vol, is_call)
        half = np.maximum(0.05, 0.02 * g.price)
        bids = np.maximum(0.0, np.floor((g.price - half) / 0.05) * 0.05).round(2)
        asks = (np.ceil((g.price + half) / 0.05) * 0.05).round(2)
        for i, strike in enumerate(strikes):
            bid, ask = float(bids[i]), float(asks[i])
            greeks = Greeks(
                vol, float(g.delta[i]), float(g.gamma[i]), float(g.vega[i]), float(g.theta[i])
            )
            roll = rng.random()
            if roll < nan_frac:
                greeks = dataclasses.replace(greeks, delta=math.nan)
            elif roll < nan_frac + zero_ask_frac:
                bid, ask = 0.0, 0.0
            elif roll < nan_frac + zero_ask_frac + crossed_frac:
                bid, ask = ask + 0.10, ask
            contract = option(float(strike), right, expiry)
            quotes.append(OptionQuote(Quote(contract, bid, ask, math.nan, NOW), greeks, spot))
    return OptionChain("SPXW", expiry, tuple(quotes))


# --------------------------------------------------------------------------------------------
# Condor defence, blackout and the daily loss limit
# --------------------------------------------------------------------------------------------


def portfolio(
    structures: Iterable[Structure] = (),
    nlv: float = NLV,
    *,
    day_pnl: float = 0.0,
    events: Iterable[MacroEvent] = (),
) -> PortfolioState:
    """Return a portfolio state with the day's P&L and the macro calendar set."""
    return PortfolioState(
        account(nlv), tuple(structures), HedgeState(day_pnl=day_pnl), tuple(events)
    )


def quotes_of(structure: Structure, table: QuoteTable) -> list[OptionQuote]:
    """Return the table's quotes of the structure's legs, in leg order (the held leg quotes)."""
    quotes = []
    for leg in structure.legs:
        contract = leg.contract
        assert isinstance(contract, OptionContract)
        quotes.append(table[(contract.right, contract.strike)])
    return quotes


def vix_call(
    strike: float, expiry: date = date(2024, 5, 22), trading_class: str = "VIX"
) -> OptionContract:
    """Return a VIX call (priced off the VIX future of the same expiry)."""
    return OptionContract("VIX", trading_class, expiry, strike, Right.CALL)


def macro_event(day: date, kind: str = "CPI", time_et: str = "08:30") -> MacroEvent:
    return MacroEvent(day, kind, time_et, "unverified", "test")


def black76_vix_chain(
    forward: float, vol: float, expiry: date, dte: int, strikes: Iterable[float]
) -> OptionChain:
    """Return a VIX option chain priced by Black-76 off the future `forward`, on 0.05 ticks."""
    grid = np.asarray(list(strikes), dtype=float)
    quotes = []
    for right in (Right.CALL, Right.PUT):
        g = black76_greeks(forward, grid, max(dte, 1) / 365.0, 0.04, vol, right is Right.CALL)
        bids = np.maximum(0.0, np.floor((g.price - 0.05) / 0.05) * 0.05).round(2)
        asks = (np.ceil((g.price + 0.05) / 0.05) * 0.05).round(2)
        for i, strike in enumerate(grid):
            greeks = Greeks(
                vol, float(g.delta[i]), float(g.gamma[i]), float(g.vega[i]), float(g.theta[i])
            )
            contract = OptionContract("VIX", "VIX", expiry, float(strike), right)
            quote = Quote(contract, float(bids[i]), float(asks[i]), math.nan, NOW)
            quotes.append(OptionQuote(quote, greeks, forward))
    ordered = sorted(quotes, key=lambda q: (q.contract.right.value, q.contract.strike))
    return OptionChain("VIX", expiry, tuple(ordered))


def future_quote(expiry: date, price: float, half_spread: float = 0.05) -> FutureQuote:
    """Return a VIX future's quote around `price`."""
    return FutureQuote(
        Quote(vix_future(expiry), price - half_spread, price + half_spread, price, NOW)
    )
