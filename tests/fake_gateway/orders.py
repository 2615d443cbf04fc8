"""Orders between the wire and the venue: placeOrder decoding, order records, translation.

Modeling choices:
- placeOrder is read field by field as the clients encode it at the negotiated version, up
  to whatIf; the ~40 fields after it (conditions, mifid, peg options...) are ignored.
- A single contract BUY is one bought leg at +limit; a SELL is one sold leg at -limit (the
  venue's limit is a net debit, negative for a credit). A BAG BUY keeps its legs' actions
  and the limit as sent (negative = credit, as in broker.orders); a BAG SELL reverses every
  leg and negates the limit. IB-side prices are venue prices times `sign` (+1 BUY, -1 SELL).
- MKT orders become limits far through the market (they fill at the venue's natural price).
- Each IB order (clientId, orderId) is its own venue order. Its venue reference is the
  orderRef, suffixed "~2", "~3"... when that reference was already used, so a client that
  sends the same orderRef twice gets two orders (and two fills), exactly as with IB.
- permIds are 700000000 + the venue's order id (stable across restarts); orders the gateway
  refuses itself (the reject knob) get 600000000 + a counter.
- Venue orders the gateway did not place (an earlier gateway over the same venue file) are
  adopted with clientId 0 and the venue's order id as orderId.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from broker.orders import Leg, Order, OrderStatus, Side
from broker.sim.venue_state import WorkingOrder

from .contract_lookup import ContractQuery, read_combo_legs
from .contracts import WireContract
from .order_messages import ComboLegView, OrderView
from .wire import FieldReader

VENUE_PERM_BASE = 700_000_000
GATEWAY_PERM_BASE = 600_000_000
MARKET_LIMIT = 1e7
FA_PROFILE_DROPPED = 177

IB_STATUS = {
    OrderStatus.PENDING: "PreSubmitted",
    OrderStatus.WORKING: "Submitted",
    OrderStatus.PARTIAL: "Submitted",
    OrderStatus.FILLED: "Filled",
    OrderStatus.CANCELLED: "Cancelled",
    OrderStatus.REJECTED: "Inactive",
}
DONE_STATUSES = frozenset({"Filled", "Cancelled", "Inactive", "ApiCancelled"})


@dataclass(frozen=True, slots=True)
class PlaceOrderRequest:
    """The fields of a placeOrder message the fake acts on."""

    order_id: int
    contract: ContractQuery
    action: str
    quantity: float
    order_type: str
    limit: float
    tif: str
    account: str
    order_ref: str
    legs: tuple[tuple[int, int, str], ...]  # (conId, ratio, action) of a BAG's legs
    what_if: bool

    @property
    def sign(self) -> int:
        return -1 if self.action == "SELL" else 1


def read_place_order(reader: FieldReader, version: int) -> PlaceOrderRequest:
    """Decode placeOrder (after its message id) as the clients encode it up to whatIf."""
    order_id = reader.integer()
    contract = ContractQuery.read(reader)
    reader.skip(2)  # secIdType, secId
    action = reader.text().upper()
    quantity = reader.number(0.0)
    order_type = reader.text().upper()
    limit = reader.number()
    reader.skip(1)  # auxPrice
    tif = reader.text()
    reader.skip(1)  # ocaGroup
    account = reader.text()
    reader.skip(2)  # openClose, origin
    order_ref = reader.text()
    reader.skip(8)  # transmit, parentId, blockOrder, sweepToFill, displaySize, trigger, rth, hidden
    legs: list[tuple[int, int, str]] = []
    if contract.sec_type == "BAG":
        legs = read_combo_legs(reader, with_order_fields=True)
        reader.skip(reader.integer())  # order combo leg prices
        reader.skip(2 * reader.integer())  # smart combo routing params
    reader.skip(7 + (1 if version < FA_PROFILE_DROPPED else 0))  # shares alloc ... faProfile
    reader.skip(22)  # modelCode ... volatilityType
    if reader.text():  # deltaNeutralOrderType
        reader.skip(9)
    else:
        reader.skip(1)
    reader.skip(6)  # continuousUpdate ... scaleSubsLevelSize
    increment = reader.number()
    if math.isfinite(increment) and increment > 0:
        reader.skip(7)
    reader.skip(3)  # scaleTable, activeStartTime, activeStopTime
    if reader.text():  # hedgeType
        reader.skip(1)
    reader.skip(4)  # optOutSmartRouting, clearingAccount, clearingIntent, notHeld
    if reader.boolean():  # delta-neutral contract
        reader.skip(3)
    if reader.text():  # algoStrategy
        reader.skip(2 * reader.integer())
    reader.skip(1)  # algoId
    what_if = reader.boolean()
    return PlaceOrderRequest(
        order_id, contract, action, quantity, order_type, limit, tif, account, order_ref,
        tuple(legs), what_if,
    )  # fmt: skip


def venue_limit(request: PlaceOrderRequest) -> float:
    """Return the venue's net limit per unit for an IB order (see the module docstring)."""
    if request.order_type == "MKT":
        return MARKET_LIMIT
    return request.sign * request.limit


def venue_legs(request: PlaceOrderRequest, legs: list[Leg]) -> tuple[Leg, ...]:
    """Return the legs the venue trades: a SELL reverses every leg."""
    return tuple(leg.reversed() if request.sign < 0 else leg for leg in legs)


def order_problem(request: PlaceOrderRequest) -> str | None:
    """Return why the gateway refuses an order outright, or None."""
    if request.action not in ("BUY", "SELL"):
        return f"action {request.action!r} is not BUY or SELL"
    if request.order_type not in ("LMT", "MKT"):
        return f"order type {request.order_type!r} is not supported (LMT or MKT)"
    if request.order_type == "LMT" and not math.isfinite(request.limit):
        return "a limit order needs a limit price"
    if request.quantity <= 0 or request.quantity != int(request.quantity):
        return f"quantity {request.quantity:g} is not a positive whole number"
    return None


@dataclass
class OrderRecord:
    """One IB order and what the clients were last told about it."""

    order_id: int
    client_id: int
    perm_id: int
    venue_ref: str
    order_ref: str
    contract: WireContract
    action: str
    quantity: float
    order_type: str
    limit: float
    tif: str
    account: str
    legs: tuple[ComboLegView, ...]
    venue_legs: tuple[Leg, ...]
    status: str = "PendingSubmit"
    filled: float = 0.0
    avg_fill_price: float = math.nan
    last_fill_price: float = math.nan
    completed_time: str = ""
    reported: set[str] = field(default_factory=set)

    @property
    def sign(self) -> int:
        return -1 if self.action == "SELL" else 1

    @property
    def is_done(self) -> bool:
        return self.status in DONE_STATUSES

    def view(self) -> OrderView:
        return OrderView(
            self.order_id, self.client_id, self.perm_id, self.contract, self.action,
            self.quantity, self.order_type, self.limit, self.tif, self.account, self.order_ref,
            self.legs, self.status, self.filled, self.completed_time,
        )  # fmt: skip

    def sync(self, working: WorkingOrder, now: datetime) -> bool:
        """Take the venue's state; return True when the status or the fill count changed."""
        status = IB_STATUS[working.status]
        filled = float(working.filled)
        changed = (status, filled) != (self.status, self.filled)
        if working.avg_fill_price is not None:
            self.avg_fill_price = self.sign * working.avg_fill_price
        if status in DONE_STATUSES and not self.completed_time:
            self.completed_time = completion_time(now)
        self.status, self.filled = status, filled
        if working.limit_price != MARKET_LIMIT and math.isfinite(working.limit_price):
            self.limit = self.sign * working.limit_price
        return changed


def completion_time(now: datetime) -> str:
    return now.strftime("%Y%m%d %H:%M:%S %Z")


class OrderBook:
    """Every order the gateway has seen, by (clientId, orderId), venue reference and permId."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[int, int], OrderRecord] = {}
        self._by_venue: dict[str, OrderRecord] = {}
        self._refused = 0

    def get(self, client_id: int, order_id: int) -> OrderRecord | None:
        """Return a client's order; a master client (id 0) also finds adopted orders."""
        record = self._by_key.get((client_id, order_id))
        if record is None and client_id == 0:
            matches = [r for r in self._by_key.values() if r.order_id == order_id]
            record = matches[0] if len(matches) == 1 else None
        return record

    def by_venue_ref(self, ref: str) -> OrderRecord | None:
        return self._by_venue.get(ref)

    def records(self) -> list[OrderRecord]:
        return list(self._by_key.values())

    def add(self, record: OrderRecord) -> None:
        self._by_key[(record.client_id, record.order_id)] = record
        if record.venue_ref:
            self._by_venue[record.venue_ref] = record

    def next_order_id(self, client_id: int) -> int:
        """Return the next order id a client may use (1 for a new client)."""
        used = [r.order_id for (c, _), r in self._by_key.items() if c == client_id]
        return max(used, default=0) + 1

    def refused_perm_id(self) -> int:
        self._refused += 1
        return GATEWAY_PERM_BASE + self._refused

    def venue_ref_for(self, request: PlaceOrderRequest, client_id: int, taken: set[str]) -> str:
        """Return an unused venue reference for a new IB order."""
        base = request.order_ref or f"ib-c{client_id}-o{request.order_id}"
        ref, copy = base, 1
        while ref in taken or ref in self._by_venue:
            copy += 1
            ref = f"{base}~{copy}"
        return ref


def venue_perm_id(working: WorkingOrder) -> int:
    """Return the permId of a venue order (stable: the venue's own order id)."""
    return VENUE_PERM_BASE + int(working.broker_id) if working.broker_id.isdigit() else 0


def adopted_action(order: Order) -> str:
    """Adopted orders are shown as bought combos (or the single leg's own side)."""
    if len(order.legs) == 1:
        return "BUY" if order.legs[0].side is Side.BUY else "SELL"
    return "BUY"
