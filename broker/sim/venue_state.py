"""Everything the simulated venue keeps about its paper account, as plain dataclasses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from broker.contracts import FutureContract, OptionContract
from broker.orders import Fill, Order, OrderState, OrderStatus

Held = OptionContract | FutureContract


@dataclass
class Holding:
    """A signed position and the cash paid for it (price x multiplier x quantity)."""

    contract: Held
    quantity: int = 0
    cost: float = 0.0


@dataclass
class WorkingOrder:
    """An order the venue has accepted, and what became of it."""

    order: Order
    broker_id: str
    placed_at: datetime
    status: OrderStatus = OrderStatus.WORKING
    filled: int = 0
    limit_price: float = 0.0
    avg_fill_price: float | None = None
    message: str = ""
    last_match_at: datetime | None = None

    @property
    def is_live(self) -> bool:
        return self.status in (OrderStatus.WORKING, OrderStatus.PARTIAL)

    def state(self) -> OrderState:
        return OrderState(
            self.order.ref,
            self.broker_id,
            self.status,
            self.filled,
            self.order.quantity - self.filled,
            self.limit_price,
            self.avg_fill_price,
            self.message,
        )


@dataclass(frozen=True, slots=True)
class Settlement:
    """A position settled in cash at expiry."""

    time: datetime
    contract: Held
    quantity: int
    price: float


@dataclass
class VenueState:
    """The paper account at the venue: the only thing a restart needs."""

    account_id: str
    cash: float
    clock: datetime | None = None
    session: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    next_order_id: int = 1
    holdings: dict[str, Holding] = field(default_factory=dict)
    orders: dict[str, WorkingOrder] = field(default_factory=dict)
    executions: list[Fill] = field(default_factory=list)
    settlements: list[Settlement] = field(default_factory=list)
