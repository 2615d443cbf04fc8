"""Everything the simulated venue keeps about its paper account, as plain dataclasses.

Memory: the venue keeps in memory only a recent window of its history (`HISTORY_KEPT` of the
venue's own clock): the executions and settlements of that window, and the orders that are
still live or were placed, matched, modified or cancelled in it. A daemon trades for years;
keeping every execution and order grows without bound (about 25,000 Python objects and 1.3 MB
per 20,000 engine cycles, measured with `bench/soak.py --without venue-window`). IB's
reqExecutions likewise answers only recent executions. The venue file (venue_store.py) keeps
everything, and the exchange reads what is older than the window from it when asked
(`executions(since)` with an older `since`, the state of an old order), so `reconcile` still
recovers every fill after a restart, however long ago. A venue without a file (replay, tests)
forgets for good: its account lives only as long as the process, whose journal has by then
booked every older fill.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from broker.contracts import FutureContract, OptionContract
from broker.orders import Fill, Order, OrderState, OrderStatus

Held = OptionContract | FutureContract
HISTORY_KEPT = timedelta(days=7)  # of the venue's clock: the window held in memory
T = TypeVar("T")


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
    updated_at: datetime | None = None  # the venue's last change to it (None in older files)

    @property
    def is_live(self) -> bool:
        return self.status in (OrderStatus.WORKING, OrderStatus.PARTIAL)

    @property
    def last_active(self) -> datetime:
        """Return when the venue last placed, matched, modified or cancelled the order."""
        return max(t for t in (self.placed_at, self.last_match_at, self.updated_at) if t)

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
    orders: dict[str, WorkingOrder] = field(default_factory=dict)  # live and recent ones
    executions: list[Fill] = field(default_factory=list)  # the recent ones, oldest first
    settlements: list[Settlement] = field(default_factory=list)  # the recent ones, oldest first
    execution_count: int = 0  # executions ever made (execution ids count on from it)
    settlement_count: int = 0  # settlements ever made

    def executions_after(self, count: int) -> list[Fill]:
        """Return the executions made after the first `count` ever (a cursor that, unlike an
        index into `executions`, survives `forget_before`); they are all still in memory when
        the cursor is within the window."""
        return _last(self.executions, self.execution_count - count)

    def settlements_after(self, count: int) -> list[Settlement]:
        """Return the settlements made after the first `count` ever (see executions_after)."""
        return _last(self.settlements, self.settlement_count - count)

    def forget_before(self, cutoff: datetime, keep: Collection[str] = ()) -> None:
        """Drop the executions and settlements before `cutoff`, and the orders no longer live
        whose last activity is before it, except the references in `keep` (not saved yet)."""
        self.executions = [f for f in self.executions if f.time >= cutoff]
        self.settlements = [s for s in self.settlements if s.time >= cutoff]
        self.orders = {
            ref: w
            for ref, w in self.orders.items()
            if w.is_live or w.last_active >= cutoff or ref in keep
        }


def _last(history: list[T], count: int) -> list[T]:
    """Return the last `count` items of `history` (none when count <= 0)."""
    return history[max(0, len(history) - count) :] if count > 0 else []
