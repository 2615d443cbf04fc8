"""Orders and fills: legs of a combo, the order sent to a venue, its state and executions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from broker.contracts import TradableContract

ORDER_REF_PREFIX = "alvh-"


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


@dataclass(frozen=True, slots=True)
class Leg:
    """One leg of a combo: `ratio` contracts of `contract` per combo unit, bought or sold."""

    contract: TradableContract
    side: Side
    ratio: int = 1

    @property
    def signed_ratio(self) -> int:
        return self.side.sign * self.ratio

    def reversed(self) -> Leg:
        return Leg(self.contract, self.side.opposite(), self.ratio)


class OrderStatus(StrEnum):
    PENDING = "pending"  # journaled, not yet acknowledged by the venue
    WORKING = "working"
    PARTIAL = "partial"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def is_final(self) -> bool:
        return self in (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED)


def order_ref(intent_id: int) -> str:
    """Return the reference a venue carries for the order of an intent."""
    return f"{ORDER_REF_PREFIX}{intent_id}"


def intent_id_from_ref(ref: str) -> int | None:
    """Return the intent id in an `alvh-<id>` reference, or None for foreign orders."""
    if not ref.startswith(ORDER_REF_PREFIX):
        return None
    tail = ref[len(ORDER_REF_PREFIX) :]
    return int(tail) if tail.isdigit() else None


@dataclass(frozen=True, slots=True)
class Order:
    """A limit order for `quantity` units of a combo (or a single leg).

    `limit_price` is the net price per unit in the venue's convention: positive is a debit
    paid, negative a credit received (a BAG bought for a credit has a negative limit).
    """

    ref: str
    legs: tuple[Leg, ...]
    quantity: int
    limit_price: float

    @property
    def is_combo(self) -> bool:
        return len(self.legs) > 1


@dataclass(frozen=True, slots=True)
class OrderState:
    """What the venue says about an order now."""

    ref: str
    broker_order_id: str
    status: OrderStatus
    filled: int
    remaining: int
    limit_price: float
    avg_fill_price: float | None = None
    message: str = ""


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of one leg, unique by the venue's `exec_id`."""

    exec_id: str
    order_ref: str
    contract: TradableContract
    side: Side
    quantity: int
    price: float
    commission: float
    time: datetime
