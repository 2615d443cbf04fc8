"""End to end on IB: the limit walk and the what-if margin, as the gateway sees them.

- A condor nobody will fill: the order is sent at mid, modified on the 0.05 grid every 30 s
  of venue time toward the natural price (never past it), then cancelled; one IB order id
  throughout, nothing journaled as filled.
- The liquidity check asks IB's what-if margin: a what-if that leaves too little excess
  liquidity refuses the condor before any order is sent, and the refusal carries IB's figures.
"""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from itertools import pairwise
from pathlib import Path

from bot.jobs import JobName
from bot.pricing_walk import walk_prices
from broker.account import MarginImpact
from broker.calendar import NY
from broker.contracts import OptionContract
from broker.orders import Order, OrderState, OrderStatus, order_ref
from broker.sim.exchange import SimExchange
from broker.sim.history import DailyHistory
from strategies.pricing_of_legs import net_mid, net_natural

from .e2e_system import MONDAY, ib_system

CANCEL_ORDER = 4
PLACE_ORDER = 3  # orders and what-ifs alike
CONDOR_INTENT = 1
STEPS, STEP_SECONDS, TICK = 4, 30.0, 0.05  # config/default.toml [execution]
ENTRY = datetime.combine(MONDAY, time(10, 0), tzinfo=NY)


class IlliquidExchange(SimExchange):
    """A venue where nothing trades; it remembers each limit it is given and, when an order
    arrives, the mid and natural price of its legs at that instant."""

    limits: list[float]
    mid_and_natural: tuple[float, float] | None = None

    async def place_order(self, order: Order) -> OrderState:
        options = [leg.contract for leg in order.legs if isinstance(leg.contract, OptionContract)]
        assert len(options) == len(order.legs), "the test expects an option combo"
        quotes = {q.contract.key: q for q in await self.option_quotes(options)}
        self.mid_and_natural = net_mid(order.legs, quotes), net_natural(order.legs, quotes)
        self.limits = [order.limit_price]
        return await super().place_order(order)

    async def modify_order(self, ref: str, limit_price: float) -> OrderState:
        self.limits.append(limit_price)
        return await super().modify_order(ref, limit_price)

    def _try_fill(self, *_: object) -> None:
        return  # no counterparty at any price


class MarginHungryExchange(SimExchange):
    """A venue whose what-if answer leaves 10% of net liquidation as excess liquidity."""

    async def what_if(self, order: Order) -> MarginImpact:
        honest = await super().what_if(order)
        nlv = honest.net_liquidation
        return MarginImpact(0.9 * nlv, 0.1 * nlv, nlv)


def on_the_grid(price: float) -> bool:
    return math.isclose(price / TICK, round(price / TICK), abs_tol=1e-6)


async def test_unfilled_condor_walks_from_mid_to_natural_on_the_tick_then_is_cancelled(
    tmp_path: Path, history: DailyHistory
) -> None:
    async with ib_system(tmp_path, history, venue=IlliquidExchange) as system:
        await system.at(9, 40, JobName.SIGNALS)
        await system.at(10, 0, JobName.CONDOR_ENTRY)

        venue = system.exchange
        assert isinstance(venue, IlliquidExchange) and venue.mid_and_natural is not None
        mid, natural = venue.mid_and_natural
        assert natural > mid  # a credit combo bought back is dearer at the natural price
        ladder = walk_prices(mid, natural, STEPS, TICK)
        assert len(ladder) == STEPS + 1
        assert venue.limits == ladder  # what reached the venue through IB: the whole walk
        assert ladder[-1] == natural  # the floor: never past the natural price
        assert all(on_the_grid(p) for p in ladder[:-1])
        assert all(a < b for a, b in pairwise(ladder))  # toward natural

        ref = order_ref(CONDOR_INTENT)
        sent = system.gateway.orders_received(ref)
        assert len(sent) == STEPS + 1  # the new order and four modifications
        assert len({o.order_id for o in sent}) == 1  # all on one IB order id
        assert all(on_the_grid(o.limit) for o in sent[:-1])
        assert [abs(o.limit) for o in sent] == [abs(p) for p in ladder]  # IB's sign convention
        cancels = system.gateway.requests(CANCEL_ORDER)
        assert [int(c.fields[2]) for c in cancels] == [sent[0].order_id]
        # 30 s between steps and 30 s after the last before the cancel, on the venue's clock
        assert system.clock.now() - ENTRY == timedelta(seconds=STEP_SECONDS * (STEPS + 1))

        assert system.journal.intent_status(CONDOR_INTENT) == "cancelled"
        assert system.journal.order_history(ref)[-1].status is OrderStatus.CANCELLED
        assert system.journal.fill_count() == 0
        assert system.journal.open_structures() == []


async def test_ib_what_if_margin_refuses_a_condor_before_any_order(
    tmp_path: Path, history: DailyHistory
) -> None:
    async with ib_system(tmp_path, history, venue=MarginHungryExchange) as system:
        await system.at(9, 40, JobName.SIGNALS)
        await system.at(10, 0, JobName.CONDOR_ENTRY)

        assert system.gateway.requests(PLACE_ORDER), "no what-if reached the gateway"
        assert system.gateway.orders_received() == []  # only what-ifs: no order was sent
        [refused] = system.intents()
        assert refused.status == "rejected"
        nlv = (await system.exchange.account()).net_liquidation
        assert refused.status_message.startswith("risk check: excess liquidity after the trade")
        assert f"${0.1 * nlv:,.0f} is below 30% of net liquidation" in refused.status_message
        assert system.journal.open_structures() == []
