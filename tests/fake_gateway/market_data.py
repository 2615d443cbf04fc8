"""Market-data requests: reqMktData (snapshot or stream), cancelMktData, reqMarketDataType.

Modeling choices:
- Every request answers tickReqParams, then marketDataType, then the ticks (ticks.py); a
  snapshot ends with tickSnapshotEnd, a stream is refreshed whenever the venue's clock moves.
- Live data not subscribed (a knob): a request of type 1 or 2 gets error 354 and nothing
  else; a request after reqMarketDataType(3 or 4) gets warning 10167, then marketDataType 3
  (or 4) and delayed ticks. When live data is subscribed, live data is sent whatever type was
  asked (as TWS does: "if live data is available a user will always receive it").
- An unknown or ambiguous contract gets error 200 with the request id.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from broker.contracts import FutureContract, IndexContract, OptionContract
from broker.market import Quote
from broker.orders import Leg
from broker.sim.exchange import SimExchange

from .contract_lookup import (
    ContractQuery,
    legs_of,
    read_combo_legs,
    resolve_one,
)
from .core import Client, GatewayCore
from .messages import (
    error,
    market_data_type,
    tick_req_params,
    tick_snapshot_end,
)
from .ticks import (
    Subscription,
    Target,
    TickSet,
    combo_ticks,
    index_ticks,
    option_ticks,
    quote_ticks,
    tick_messages,
)
from .wire import FieldReader

NO_DEFINITION = "No security definition has been found for the request"
NOT_SUBSCRIBED = (
    "Requested market data is not subscribed. Check API status by selecting the Account menu "
    "then under Management choose Market Data Subscription Manager and/or Delayed Market Data"
)
DISPLAYING_DELAYED = "Requested market data is not subscribed. Displaying delayed market data."
LIVE, FROZEN, DELAYED, DELAYED_FROZEN = 1, 2, 3, 4


async def tick_sets(exchange: SimExchange, targets: Sequence[Target]) -> list[TickSet]:
    """Return the current ticks of each target (options and futures priced in one batch)."""
    out = [TickSet()] * len(targets)
    options = [(i, t) for i, t in enumerate(targets) if isinstance(t, OptionContract)]
    futures = [(i, t) for i, t in enumerate(targets) if isinstance(t, FutureContract)]
    if options:
        quotes = await exchange.option_quotes([t for _, t in options])
        for (i, _), quote in zip(options, quotes, strict=True):
            out[i] = option_ticks(quote)
    if futures:
        fquotes = await exchange.future_quotes([t for _, t in futures])
        for (i, _), fquote in zip(futures, fquotes, strict=True):
            out[i] = quote_ticks(fquote)
    for i, target in enumerate(targets):
        if isinstance(target, IndexContract):
            bars = await exchange.daily_bars(target, 1)
            close = bars[-1].close if bars else math.nan
            out[i] = index_ticks(await exchange.index_quote(target), close)
        elif isinstance(target, tuple):
            out[i] = combo_ticks(target, await _leg_quotes(exchange, target))
    return out


async def _leg_quotes(exchange: SimExchange, legs: tuple[Leg, ...]) -> list[Quote]:
    options = [leg.contract for leg in legs if isinstance(leg.contract, OptionContract)]
    futures = [leg.contract for leg in legs if isinstance(leg.contract, FutureContract)]
    by_key = {q.contract.key: q.quote for q in await exchange.option_quotes(options)}
    by_key.update({q.contract.key: q for q in await exchange.future_quotes(futures)})
    return [by_key[leg.contract.key] for leg in legs]


def _min_tick(target: Target) -> float:
    return 0.01 if isinstance(target, IndexContract) else 0.05


async def req_mkt_data(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """1: answer a snapshot, or start a stream."""
    reader.skip(1)  # version
    req_id = reader.integer()
    query = ContractQuery.read(reader)
    target: Target | None
    if query.sec_type == "BAG":
        legs = legs_of(read_combo_legs(reader, with_order_fields=False), core.registry)
        target = tuple(legs) if legs else None
    else:
        target = await resolve_one(query, core.exchange, core.registry)
    if reader.boolean():  # delta-neutral contract
        reader.skip(3)
    reader.skip(1)  # generic tick list
    snapshot = reader.boolean()
    if target is None:
        client.send(error(req_id, 200, NO_DEFINITION))
        return
    requested = client.market_data_type
    if core.knobs.live_data_subscribed:
        delayed, data_type = False, FROZEN if requested in (FROZEN, DELAYED_FROZEN) else LIVE
    elif requested in (DELAYED, DELAYED_FROZEN):
        client.send(error(req_id, 10167, DISPLAYING_DELAYED))
        delayed, data_type = True, requested
    else:
        client.send(error(req_id, 354, NOT_SUBSCRIBED))
        return
    client.send(tick_req_params(req_id, _min_tick(target)))
    client.send(market_data_type(req_id, data_type))
    ticks = (await tick_sets(core.exchange, [target]))[0]
    for message in tick_messages(req_id, ticks, delayed):
        client.send(message)
    if snapshot:
        client.send(tick_snapshot_end(req_id))
    else:
        client.subscriptions[req_id] = Subscription(req_id, target, delayed, ticks)


async def cancel_mkt_data(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """2: stop a stream."""
    reader.skip(1)
    client.subscriptions.pop(reader.integer(), None)


async def req_market_data_type(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """59: set the kind of data this client's next requests get; restate the live streams'."""
    reader.skip(1)
    client.market_data_type = reader.integer(LIVE)
    for sub in client.subscriptions.values():
        live = FROZEN if client.market_data_type in (FROZEN, DELAYED_FROZEN) else LIVE
        client.send(market_data_type(sub.req_id, DELAYED if sub.delayed else live))


async def stream(core: GatewayCore) -> None:
    """Send every stream what changed since its client last heard."""
    subs = [(c, s) for c in core.open_clients() for s in c.subscriptions.values()]
    if not subs:
        return
    sets = await tick_sets(core.exchange, [s.target for _, s in subs])
    for (client, sub), ticks in zip(subs, sets, strict=True):
        for message in tick_messages(sub.req_id, ticks, sub.delayed, sub.last):
            client.send(message)
        sub.last = ticks
