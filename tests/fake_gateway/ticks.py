"""Market data as ticks: what one contract's quote says, and the messages that carry it.

Modeling choices:
- Options and futures: bid, ask and their displayed sizes from the venue's book; "last" is
  the model value (the venue has no trades). A zero bid (nobody bids for an option worth
  less than a tick) goes out as IB's "no bid": price -1, size 0.
- Option greeks go out as model greeks (tick 13, delayed 83) in IB's units: vega per vol
  point (the venue's per 1.00 / 100), theta per calendar day (per year / 365); undPrice is
  the SPX level for SPX options and the VIX future of the same expiry for VIX options.
  pvDividend is not computed (-1). NaN greeks become IB's "not computed" sentinels.
- Indexes: last and the previous session's close, no bid or ask (AD-NYSE has no intraday
  value in the simulator: only its close).
- BAG: ask = the venue's combo natural for buying, bid = minus the natural for selling,
  sizes = the smallest displayed size over the legs per ratio.
- Delayed data uses the delayed tick types (66-71, 75, 83) with the same values.
- A stream sends only what changed: a new price as tickPrice, a new size alone as tickSize.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from broker.contracts import Contract
from broker.market import OptionQuote, Quote
from broker.orders import Leg
from broker.sim.exchange import combo_natural

from .messages import (
    OptionComputation,
    tick_option_computation,
    tick_price,
    tick_size,
)
from .wire import Fields

DAYS_PER_YEAR = 365.0
VOL_POINTS = 100.0


@dataclass(frozen=True, slots=True)
class TickTypes:
    bid: int
    ask: int
    last: int
    close: int
    bid_size: int
    ask_size: int
    model: int


LIVE = TickTypes(bid=1, ask=2, last=4, close=9, bid_size=0, ask_size=3, model=13)
DELAYED = TickTypes(bid=66, ask=67, last=68, close=75, bid_size=69, ask_size=70, model=83)
NAN = math.nan


@dataclass(frozen=True, slots=True)
class TickSet:
    """Everything one contract's market data says at one instant (NaN: nothing)."""

    bid: float = NAN
    bid_size: float = NAN
    ask: float = NAN
    ask_size: float = NAN
    last: float = NAN
    close: float = NAN
    model: OptionComputation | None = None
    has_book: bool = True


def _size(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def quote_ticks(quote: Quote) -> TickSet:
    """Ticks of a tradable quote (an option's or a future's book)."""
    bid = quote.bid if math.isfinite(quote.bid) and quote.bid > 0 else NAN
    return TickSet(
        bid, _size(quote.bid_size), quote.ask, _size(quote.ask_size), quote.last
    )  # fmt: skip


def option_ticks(quote: OptionQuote) -> TickSet:
    """Ticks of an option: its book and its model greeks in IB's units."""
    g = quote.greeks
    model = OptionComputation(
        g.iv, g.delta, quote.quote.last, NAN, g.gamma, g.vega / VOL_POINTS,
        g.theta / DAYS_PER_YEAR, quote.underlying_price,
    )  # fmt: skip
    base = quote_ticks(quote.quote)
    return TickSet(base.bid, base.bid_size, base.ask, base.ask_size, base.last, model=model)


def index_ticks(quote: Quote, close: float) -> TickSet:
    """Ticks of an index: its level and the previous close."""
    return TickSet(last=quote.last, close=close, has_book=False)


def combo_ticks(legs: Sequence[Leg], quotes: Sequence[Quote]) -> TickSet:
    """Ticks of a BAG from its legs' quotes (nothing when a leg has no sane market)."""
    if any(q.problem() is not None for q in quotes):
        return TickSet()
    buy, _ = combo_natural(legs, quotes)
    sell, _ = combo_natural([leg.reversed() for leg in legs], quotes)
    sizes = [
        min(_size(q.ask_size), _size(q.bid_size)) // leg.ratio
        for leg, q in zip(legs, quotes, strict=True)
    ]
    size = float(min(sizes))
    return TickSet(-sell, size, buy, size, NAN)


def _changed(new: float, old: float | None) -> bool:
    if old is None:
        return True
    if math.isnan(new) and math.isnan(old):
        return False
    return new != old


def _side(
    req_id: int, price_type: int, size_type: int, price: float, size: float,
    before: tuple[float, float] | None,
) -> list[Fields]:  # fmt: skip
    old_price, old_size = before if before else (None, None)
    if not math.isfinite(price):
        return [tick_price(req_id, price_type, -1, 0)] if _changed(price, old_price) else []
    if _changed(price, old_price):
        return [tick_price(req_id, price_type, price, size)]
    if _changed(size, old_size):
        return [tick_size(req_id, size_type, size)]
    return []


def tick_messages(
    req_id: int, ticks: TickSet, delayed: bool, before: TickSet | None = None
) -> list[Fields]:
    """Return the messages that bring a client from `before` (None: nothing) to `ticks`."""
    types = DELAYED if delayed else LIVE
    out: list[Fields] = []
    if ticks.has_book:
        old_bid = (before.bid, before.bid_size) if before else None
        old_ask = (before.ask, before.ask_size) if before else None
        out += _side(req_id, types.bid, types.bid_size, ticks.bid, ticks.bid_size, old_bid)
        out += _side(req_id, types.ask, types.ask_size, ticks.ask, ticks.ask_size, old_ask)
    if math.isfinite(ticks.last) and _changed(ticks.last, before.last if before else None):
        out.append(tick_price(req_id, types.last, ticks.last, 0))
    if math.isfinite(ticks.close) and _changed(ticks.close, before.close if before else None):
        out.append(tick_price(req_id, types.close, ticks.close, 0))
    if ticks.model is not None and (before is None or before.model != ticks.model):
        out.append(tick_option_computation(req_id, types.model, ticks.model))
    return out


Target = Contract | tuple[Leg, ...]


@dataclass
class Subscription:
    """A streaming market-data request: what it watches and what its client last got."""

    req_id: int
    target: Target
    delayed: bool
    last: TickSet | None = None
