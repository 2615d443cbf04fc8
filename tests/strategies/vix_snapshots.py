"""Hand-built VIX markets and VIX layer books for the pure VIX layer tests.

No simulator: VIX futures are written here on a fixed contango curve, VIX option chains are
priced by Black-76 from `broker.pricing` off the future of their expiry (flat vol), and the
condor book is the standard one of `snapshots.py`, so every test knows what the layer faces.

Dates: NOW is Monday 2024-03-04 10:30 ET (the rebalance). The listed VIX expiries are the
real 2024 ones. Sessions are weekdays (holidays are irrelevant to these tests): March 20 is
12 trading days away, so the ladder's months 2-4 are April, May and June, and the call
expiry nearest 90 DTE inside 60-120 is May 22 (79 DTE; June 18 is 106).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta

import numpy as np
from snapshots import condor, index_quote, leg_quotes_for

from broker.account import AccountSnapshot
from broker.calendar import NY
from broker.contracts import FutureContract, OptionContract, Right
from broker.market import (
    FutureQuote,
    Greeks,
    LegQuote,
    MarketSnapshot,
    OptionChain,
    OptionQuote,
    Quote,
)
from broker.orders import Leg, Side
from broker.pricing import black76_greeks
from broker.structures import Engine, Intent, IntentKind, Structure, StructureKind
from strategies.decision import PortfolioState
from strategies.hedge_state import HedgeState, Signals
from strategies.params import StrategyParams

NOW = datetime(2024, 3, 4, 10, 30, tzinfo=NY)
TODAY = NOW.date()
NLV = 1_000_000.0
RATE = 0.02
VIX_VOL = 0.9
SPOT_VIX = 14.0
TICK = 0.05

MAR, APR, MAY, JUN, JUL, AUG, SEP = (
    date(2024, 3, 20),
    date(2024, 4, 17),
    date(2024, 5, 22),
    date(2024, 6, 18),
    date(2024, 7, 17),
    date(2024, 8, 21),
    date(2024, 9, 18),
)
EXPIRIES = (MAR, APR, MAY, JUN, JUL, AUG, SEP)
# A calm contango curve: the front near 15, a point more each month out.
CURVE: dict[date, float] = {e: 15.0 + i for i, e in enumerate(EXPIRIES)}
CALL_EXPIRY = MAY  # nearest 90 DTE within 60-120 on TODAY
STRIKES = tuple(float(k) for k in range(10, 61))
PARAMS = StrategyParams()


def weekdays(start: date, count: int = 300) -> tuple[date, ...]:
    """Return `count` weekdays from `start` on (`start` first when it is one)."""
    days = []
    day = start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return tuple(days)


SESSIONS = weekdays(TODAY)


def years_to(expiry: date, at: datetime = NOW) -> float:
    """Return the years (365 days) from `at` to 09:30 ET on `expiry`, the VIX settlement."""
    settle = datetime.combine(expiry, time(9, 30), tzinfo=NY)
    return max(0.0, (settle - at).total_seconds()) / (365.0 * 86400.0)


# --------------------------------------------------------------------------------------------
# Contracts and quotes
# --------------------------------------------------------------------------------------------


def future(expiry: date) -> FutureContract:
    return FutureContract("VIX", "VX", expiry)


def vix_call(strike: float, expiry: date = CALL_EXPIRY) -> OptionContract:
    return OptionContract("VIX", "VIX", expiry, strike, Right.CALL)


def future_quote(
    expiry: date, price: float | None = None, *, half_spread: float = TICK, at: datetime = NOW
) -> FutureQuote:
    mid = CURVE[expiry] if price is None else price
    return FutureQuote(Quote(future(expiry), mid - half_spread, mid + half_spread, mid, at))


def futures(expiries: Iterable[date] = EXPIRIES, *, at: datetime = NOW) -> tuple[FutureQuote, ...]:
    return tuple(future_quote(e, at=at) for e in expiries)


def vix_option_quote(
    contract: OptionContract,
    forward: float,
    vol: float = VIX_VOL,
    *,
    at: datetime = NOW,
) -> OptionQuote:
    """Return a Black-76 quote a tick either side of the model price (bid floored at 0)."""
    g = black76_greeks(
        forward,
        contract.strike,
        years_to(contract.expiry, at),
        RATE,
        vol,
        contract.right is Right.CALL,
    )
    price = float(g.price)
    bid = max(0.0, math.floor((price - TICK) / TICK) * TICK)
    ask = math.ceil((price + TICK) / TICK) * TICK
    greeks = Greeks(vol, float(g.delta), float(g.gamma), float(g.vega), float(g.theta))
    return OptionQuote(Quote(contract, round(bid, 2), round(ask, 2), price, at), greeks, forward)


def vix_chain(
    expiry: date = CALL_EXPIRY,
    forward: float | None = None,
    vol: float = VIX_VOL,
    strikes: Iterable[float] = STRIKES,
    *,
    at: datetime = NOW,
) -> OptionChain:
    """Return the calls of one VIX expiry priced by Black-76 off its future."""
    fwd = CURVE[expiry] if forward is None else forward
    quotes = tuple(vix_option_quote(vix_call(k, expiry), fwd, vol, at=at) for k in strikes)
    return OptionChain("VIX", expiry, tuple(sorted(quotes, key=lambda q: q.contract.strike)))


def with_nan_greeks(chain: OptionChain) -> OptionChain:
    nan = Greeks(*(math.nan,) * 5)
    return dataclasses.replace(
        chain, quotes=tuple(dataclasses.replace(q, greeks=nan) for q in chain.quotes)
    )


def held_quotes(
    structures: Iterable[Structure], *, at: datetime = NOW, vol: float = VIX_VOL
) -> list[LegQuote]:
    """Return quotes of every VIX leg of the structures, off the CURVE futures."""
    quotes: list[LegQuote] = []
    for structure in structures:
        for leg in structure.legs:
            contract = leg.contract
            if isinstance(contract, FutureContract):
                quotes.append(future_quote(contract.expiry, at=at))
            elif contract.symbol == "VIX":
                forward = CURVE.get(contract.expiry, 16.0)
                quotes.append(vix_option_quote(contract, forward, vol, at=at))
    return quotes


# --------------------------------------------------------------------------------------------
# Structures of the VIX layer
# --------------------------------------------------------------------------------------------

OPENED = NOW - timedelta(days=20)


def rung(structure_id: int, expiry: date, quantity: int = 1) -> Structure:
    return Structure(
        id=structure_id,
        engine=Engine.VIX,
        kind=StructureKind.FUTURES_RUNG,
        legs=(Leg(future(expiry), Side.BUY),),
        quantity=quantity,
        open_price=CURVE.get(expiry, 16.0),
        opened_at=OPENED,
        multiplier=1000,
    )


def calls(
    structure_id: int,
    strike: float = 22.0,
    quantity: int = 10,
    expiry: date = CALL_EXPIRY,
    *,
    kind: StructureKind = StructureKind.CALL_BLOCK,
    opened_at: datetime = OPENED,
) -> Structure:
    return Structure(
        id=structure_id,
        engine=Engine.VIX,
        kind=kind,
        legs=(Leg(vix_call(strike, expiry), Side.BUY),),
        quantity=quantity,
        open_price=1.0,
        opened_at=opened_at,
    )


def backspread(
    structure_id: int,
    short: float = 17.0,
    long: float = 24.0,
    ratio: int = 2,
    quantity: int = 5,
    expiry: date = CALL_EXPIRY,
) -> Structure:
    return Structure(
        id=structure_id,
        engine=Engine.VIX,
        kind=StructureKind.BACKSPREAD,
        legs=(
            Leg(vix_call(short, expiry), Side.SELL),
            Leg(vix_call(long, expiry), Side.BUY, ratio),
        ),
        quantity=quantity,
        open_price=0.0,
        opened_at=OPENED,
    )


CONDOR_MIDS = (12.0, 4.0, 10.0, 3.0)  # short put, long put, short call, long call


def condors(quantity: int = 2) -> tuple[Structure, ...]:
    """Return the standard condor of snapshots.py (4700/4800/5200/5300, 45 DTE)."""
    return (condor(101, quantity=quantity),)


# --------------------------------------------------------------------------------------------
# Snapshots and states
# --------------------------------------------------------------------------------------------


def vix_snapshot(
    structures: Iterable[Structure] = (),
    *,
    chains: Mapping[date, OptionChain] | None = None,
    listed: tuple[FutureQuote, ...] | None = None,
    extra_quotes: Iterable[LegQuote] = (),
    drop_quotes: Iterable[str] = (),
    sessions: tuple[date, ...] | None = None,
    at: datetime = NOW,
) -> MarketSnapshot:
    """Return a snapshot with the VIX markets and a quote for every held leg.

    By default: every listed future, the May chain, and the standard condor legs' quotes.
    """
    held = tuple(structures)
    leg_quotes: dict[str, LegQuote] = {}
    for structure in held:
        if structure.engine is Engine.CONDOR:
            for q in leg_quotes_for(structure, CONDOR_MIDS):
                leg_quotes[q.contract.key] = q
    for q in held_quotes(held, at=at):
        leg_quotes[q.contract.key] = q
    for q in extra_quotes:
        leg_quotes[q.contract.key] = q
    for key in drop_quotes:
        leg_quotes.pop(key, None)
    return MarketSnapshot(
        time=at,
        spx=index_quote("SPX", 5000.0),
        vix=index_quote("VIX", SPOT_VIX),
        leg_quotes=leg_quotes,
        futures=futures(at=at) if listed is None else listed,
        vix_chains={CALL_EXPIRY: vix_chain(at=at)} if chains is None else dict(chains),
        sessions=weekdays(at.date()) if sessions is None else sessions,
    )


def signals(
    rsi: float = 50.0,
    episode: str = "",
    start: date | None = None,
    *,
    divergence: bool = False,
    crossover: int = 0,
    r2: float = 0.55,
) -> Signals:
    return Signals(
        day=TODAY - timedelta(days=3),
        breadth_divergence=divergence,
        spx_crossover=crossover,
        vix_rsi=rsi,
        rsi_episode=episode,
        rsi_episode_start=start,
        r2=r2,
    )


def book(
    structures: Iterable[Structure] = (),
    *,
    k: float = 1.0,
    ratio: int = 2,
    ratio_override: int | None = None,
    hedge_scale: float = 1.0,
    layer_cost_year: float = 0.0,
    nlv: float = NLV,
    sig: Signals | None = None,
) -> PortfolioState:
    hedge = HedgeState(
        k=k,
        ratio=ratio,
        hedge_scale=hedge_scale,
        ratio_override=ratio_override,
        signals=signals() if sig is None else sig,
        layer_cost_year=layer_cost_year,
    )
    account = AccountSnapshot("DUTEST001", NOW, nlv, nlv, 0.0)
    return PortfolioState(account, tuple(structures), hedge)


def kinds(intents: Iterable[Intent]) -> list[tuple[IntentKind, StructureKind]]:
    return [(i.kind, i.structure_kind) for i in intents]


def of_kind(intents: Iterable[Intent], kind: StructureKind) -> list[Intent]:
    return [i for i in intents if i.structure_kind is kind]


def strikes_of(intent: Intent) -> list[float]:
    return [leg.contract.strike for leg in intent.legs if isinstance(leg.contract, OptionContract)]


def grid(low: float, high: float, step: float = 1.0) -> tuple[float, ...]:
    return tuple(float(k) for k in np.arange(low, high + step / 2, step))
