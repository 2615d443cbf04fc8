"""Carry out an approved intent: journal it, send it, work the limit, journal fills and the result.

Record intent, then act: the intent row exists before the order, and the order carries
`alvh-<intent id>` so a restart finds it at the venue instead of sending it again.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from bot.clock import Clock
from bot.config import ExecutionConfig
from bot.pricing_walk import walk_prices
from bot.snapshots import quotes_of
from broker.orders import Fill, Order, OrderState, OrderStatus, order_ref
from broker.protocol import Broker
from broker.structures import Intent, IntentKind
from storage.journal import Journal
from strategies.pricing_of_legs import leg_problems, net_mid, net_natural

log = structlog.get_logger("alvh.executor")


@dataclass(frozen=True)
class Outcome:
    """What became of one intent."""

    intent_id: int
    status: OrderStatus
    filled: int
    avg_price: float | None
    structure_id: int | None


class Executor:
    """Sends orders for intents and books what filled."""

    def __init__(
        self, broker: Broker, journal: Journal, clock: Clock, config: ExecutionConfig
    ) -> None:
        self.broker = broker
        self.journal = journal
        self.clock = clock
        self.config = config

    async def execute(self, intent: Intent) -> Outcome:
        """Journal `intent`, work its order from mid to natural, and book the result."""
        intent_id = self.journal.record_intent(intent, self.clock.now())
        ref = order_ref(intent_id)
        bound = log.bind(intent_id=intent_id, order_ref=ref)
        bound.info("intent", kind=intent.kind.value, reason=intent.reason, qty=intent.quantity)
        prices = await self._price_ladder(intent)
        if prices is None:
            self.journal.set_intent_status(intent_id, "failed", "no usable quotes to price it")
            bound.warning("intent not sent: no usable quotes")
            return Outcome(intent_id, OrderStatus.CANCELLED, 0, None, None)
        order = Order(ref, intent.legs, intent.quantity, prices[0])
        placed_at = self.clock.now()
        self.journal.record_order(intent_id, order, placed_at)
        state = await self.broker.place_order(order)
        self._record(state, bound)
        for price in prices[1:]:
            if state.status.is_final:
                break
            await self.clock.sleep(self.config.step_seconds)
            state = await self._poll(ref, state, bound)
            if state.status.is_final:
                break
            state = await self.broker.modify_order(ref, price)
            self._record(state, bound)
        if not state.status.is_final:
            await self.clock.sleep(self.config.step_seconds)
            state = await self._poll(ref, state, bound)
        if not state.status.is_final:
            state = await self.broker.cancel_order(ref)
            self._record(state, bound)
        return await self.settle(intent_id, intent, state, await self.broker.executions(placed_at))

    async def _price_ladder(self, intent: Intent) -> list[float] | None:
        by_key = await quotes_of(self.broker, (leg.contract for leg in intent.legs))
        if leg_problems(intent.legs, by_key):
            return None
        mid = net_mid(intent.legs, by_key)
        natural = net_natural(intent.legs, by_key)
        return walk_prices(mid, natural, self.config.walk_steps, self.config.tick)

    async def _poll(
        self, ref: str, last: OrderState, bound: structlog.typing.FilteringBoundLogger
    ) -> OrderState:
        """Ask the venue for the order's state; journal it when it changed."""
        state = await self.broker.order_state(ref) or last
        if (state.status, state.filled, state.limit_price) != (
            last.status,
            last.filled,
            last.limit_price,
        ):
            self._record(state, bound)
        return state

    def _record(self, state: OrderState, bound: structlog.typing.FilteringBoundLogger) -> None:
        self.journal.record_order_state(state, self.clock.now())
        bound.info("order", status=state.status.value, limit=state.limit_price, filled=state.filled)

    async def settle(
        self, intent_id: int, intent: Intent, state: OrderState, executions: list[Fill]
    ) -> Outcome:
        """Journal the order's fills among `executions`, then open or close the structure.

        Shared with reconcile, which passes the executions it has already fetched.
        """
        ref = order_ref(intent_id)
        for fill in executions:
            if fill.order_ref == ref and self.journal.record_fill(fill):
                log.info(
                    "fill",
                    intent_id=intent_id,
                    order_ref=ref,
                    exec_id=fill.exec_id,
                    contract=fill.contract.key,
                    side=fill.side.value,
                    qty=fill.quantity,
                    price=fill.price,
                    commission=fill.commission,
                )
        fills = self.journal.fills_for_ref(ref)
        units = state.filled
        if units <= 0:
            status = "rejected" if state.status is OrderStatus.REJECTED else "cancelled"
            self.journal.set_intent_status(intent_id, status, state.message)
            return Outcome(intent_id, state.status, 0, None, None)
        price = sum(f.side.sign * f.price * f.quantity for f in fills) / units
        structure_id = self._book(intent_id, intent, units, price, fills)
        return Outcome(intent_id, state.status, units, price, structure_id)

    def _book(
        self, intent_id: int, intent: Intent, units: int, price: float, fills: list[Fill]
    ) -> int | None:
        now = self.clock.now()
        multiplier = intent.legs[0].contract.multiplier
        if intent.kind is IntentKind.ROLL:
            return self._book_roll(intent_id, intent, units, price, fills)
        if intent.structure_id is None:
            structure_id = self.journal.open_structure(
                intent_id=intent_id,
                engine=intent.engine,
                kind=intent.structure_kind,
                legs=intent.legs,
                quantity=units,
                open_price=price,
                opened_at=now,
                multiplier=multiplier,
            )
            log.info(
                "structure opened",
                structure_id=structure_id,
                intent_id=intent_id,
                qty=units,
                price=round(price, 4),
            )
            return structure_id
        structure_id = intent.structure_id
        opened_by = self.journal.open_intent_id(structure_id)
        open_share = units / max(self.journal.opened_units(structure_id), units)
        commissions = open_share * self.journal.commissions_for_intent(
            opened_by
        ) + self.journal.commissions_for_intent(intent_id)
        closed_id = self.journal.close_structure(
            structure_id,
            close_price=price,
            closed_at=now,
            reason=intent.reason,
            commissions=commissions,
            intent_id=intent_id,
            units=units,
        )
        if units < intent.quantity:
            log.warning(
                "partial close: the rest stays open",
                structure_id=structure_id,
                closed_structure_id=closed_id,
                closed=units,
                left=intent.quantity - units,
            )
        log.info(
            "structure closed",
            structure_id=closed_id,
            intent_id=intent_id,
            qty=units,
            price=round(price, 4),
            reason=intent.reason,
        )
        return closed_id

    def _book_roll(
        self, intent_id: int, intent: Intent, units: int, price: float, fills: list[Fill]
    ) -> int:
        """Close the rolled structure and open its replacement; return the new structure's id.

        The roll's fills split into the closing legs (contracts of the old structure) and the
        opening ones; the part kept moves across at its mid (`carry_price`), so the old close
        price plus the new open price equals the roll's net price.
        """
        old_id = intent.structure_id
        if old_id is None:
            raise ValueError("a roll intent must name the structure it rolls")
        old = self.journal.structure(old_id)
        if old is None:
            raise KeyError(f"roll of unknown structure {old_id}")
        traded = {leg.contract.key for leg in intent.legs}
        average = _average_prices(fills)
        # Per contract, the closing part is the old leg reversed; the rest of that contract's
        # fill (a wing sold again as the new short) belongs to the new structure.
        closing = sum(
            -leg.signed_ratio * units * average[leg.contract.key]
            for leg in old.legs
            if leg.contract.key in traded and leg.contract.key in average
        )
        close_price = closing / units - intent.carry_price
        opened_by = self.journal.open_intent_id(old_id)
        open_share = units / max(self.journal.opened_units(old_id), units)
        closed_id, new_id = self.journal.roll_structure(
            old_id,
            intent_id=intent_id,
            units=units,
            close_price=close_price,
            new_legs=intent.result_legs,
            new_open_price=price - close_price,
            rolled_at=self.clock.now(),
            reason=intent.reason,
            net_price=price,
            commissions=open_share * self.journal.commissions_for_intent(opened_by),
        )
        log.info(
            "structure rolled",
            structure_id=closed_id,
            new_structure_id=new_id,
            intent_id=intent_id,
            qty=units,
            net_price=round(price, 4),
            reason=intent.reason,
        )
        return new_id


def _average_prices(fills: list[Fill]) -> dict[str, float]:
    """Return the average fill price per contract key."""
    totals: dict[str, tuple[float, int]] = {}
    for fill in fills:
        paid, qty = totals.get(fill.contract.key, (0.0, 0))
        totals[fill.contract.key] = (paid + fill.price * fill.quantity, qty + fill.quantity)
    return {key: paid / qty for key, (paid, qty) in totals.items() if qty}
