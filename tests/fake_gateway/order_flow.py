"""Order requests: placeOrder (new, modify, what-if), cancelOrder, reqGlobalCancel, open orders.

Modeling choices (TWS's sequences, as clients observe them):
- New order: openOrder + orderStatus "Submitted" (filled 0) acknowledge it, even when the
  venue filled it at once; its executions and the "Filled" status follow (executions.py).
- Reject (the knob, a refused field, or the venue's own refusal): openOrder + orderStatus
  "PreSubmitted", error 201 "Order rejected - reason:...", then openOrder + orderStatus
  "Inactive" (the knob may say "Cancelled"). ib_async marks the trade Cancelled on the 201,
  then Inactive; ib_insync 0.9.86 too, but its Trade.isDone() does not count Inactive.
- An order whose contract or legs are unknown gets error 200 with the order id.
- Modify (same clientId and orderId): the venue's limit changes, then openOrder +
  orderStatus; a quantity change is ignored. A finished order gets error 104 instead.
- Cancel: orderStatus "Cancelled", then error 202 "Order Canceled - reason:"; an unknown
  order gets 10147, a finished one 161.
- What-if: openOrder with whatIf=1, status PreSubmitted and the venue's margin before and
  after (initial = maintenance margin, equity with loan = net liquidation) and the venue's
  commission estimate; nothing reaches the venue.
- reqOpenOrders answers the client's own orders and adopted ones; reqAllOpenOrders all.
"""

from __future__ import annotations

from dataclasses import replace

from broker.contracts import FutureContract, OptionContract
from broker.orders import Leg, Order, OrderStatus, Side
from broker.sim.fees import FeeSchedule
from broker.sim.listings import product_of

from .contract_lookup import legs_of, resolve_one
from .contracts import WireContract, bag_wire
from .core import Client, GatewayCore
from .executions import adopt_all, send_state
from .knobs import OrderDisconnect
from .market_data import NO_DEFINITION
from .messages import error, open_order_end
from .order_messages import ComboLegView, MarginView, open_order
from .orders import (
    OrderRecord,
    PlaceOrderRequest,
    completion_time,
    order_problem,
    read_place_order,
    venue_legs,
    venue_limit,
    venue_perm_id,
)
from .wire import FieldReader

Translated = tuple[WireContract, tuple[ComboLegView, ...], tuple[Leg, ...]]


async def _translate(core: GatewayCore, request: PlaceOrderRequest) -> Translated | None:
    """Return the order's wire contract, echoed combo legs and venue legs (None: unknown)."""
    if request.contract.sec_type == "BAG":
        legs = legs_of(list(request.legs), core.registry)
        if not legs:
            return None
        first = legs[0].contract
        echoed = tuple(
            ComboLegView(core.registry.con_id(leg.contract), leg.ratio, leg.side.value,
                         leg.contract.exchange)
            for leg in legs
        )  # fmt: skip
        return bag_wire(first.symbol, first.exchange), echoed, venue_legs(request, legs)
    contract = await resolve_one(request.contract, core.exchange, core.registry)
    if not isinstance(contract, OptionContract | FutureContract):
        return None
    leg = Leg(contract, Side.BUY)
    return core.registry.describe(contract), (), venue_legs(request, [leg])


def _record(
    client: Client, request: PlaceOrderRequest, translated: Translated, perm_id: int, ref: str
) -> OrderRecord:
    wire, echoed, legs = translated
    return OrderRecord(
        request.order_id, client.client_id or 0, perm_id, ref, request.order_ref, wire,
        request.action, request.quantity, request.order_type, request.limit,
        request.tif or "DAY", request.account, echoed, legs,
    )  # fmt: skip


def _reject(core: GatewayCore, record: OrderRecord, reason: str, status: str = "Inactive") -> None:
    owners = core.owners(record.client_id)
    record.status = "PreSubmitted"
    send_state(owners, record, with_open_order=True)
    core.send_to(owners, error(record.order_id, 201, f"Order rejected - reason:{reason}"))
    record.status = status
    record.completed_time = completion_time(core.now())
    send_state(owners, record, with_open_order=True)


async def place_order(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """3: a new order, a modification, or a what-if."""
    request = read_place_order(reader, client.version)
    if request.what_if:
        await _what_if(core, client, request)
        return
    existing = core.book.get(client.client_id or 0, request.order_id)
    if existing is not None:
        await _modify(core, client, existing, request)
        return
    point = core.knobs.take_order_disconnect()
    if point is OrderDisconnect.BEFORE_VENUE:
        client.close()
        return
    translated = await _translate(core, request)
    if translated is None:
        client.send(error(request.order_id, 200, NO_DEFINITION))
        return
    problem = order_problem(request)
    reason, status = core.knobs.take_reject() or (problem, "Inactive")
    if reason:
        record = _record(client, request, translated, core.book.refused_perm_id(), "")
        core.book.add(record)
        _reject(core, record, reason, status)
        return
    taken = set(core.exchange.state.orders)
    ref = core.book.venue_ref_for(request, client.client_id or 0, taken)
    order = Order(ref, translated[2], int(request.quantity), venue_limit(request))
    state = await core.exchange.place_order(order)
    perm_id = venue_perm_id(core.exchange.state.orders[ref])
    record = _record(client, request, translated, perm_id, ref)
    core.book.add(record)
    if point is OrderDisconnect.BEFORE_ACK:
        client.close()
        return
    if state.status is OrderStatus.REJECTED:
        _reject(core, record, state.message)
        return
    record.status = "Submitted"
    send_state(core.owners(record.client_id), record, with_open_order=True)
    if point is OrderDisconnect.AFTER_ACK:
        client.close()


async def _modify(
    core: GatewayCore, client: Client, record: OrderRecord, request: PlaceOrderRequest
) -> None:
    if record.is_done or not record.venue_ref:
        client.send(error(request.order_id, 104, "Cannot modify a filled or cancelled order."))
        return
    await core.exchange.modify_order(record.venue_ref, venue_limit(request))
    record.limit = request.limit
    send_state(core.owners(record.client_id), record, with_open_order=True)


async def _what_if(core: GatewayCore, client: Client, request: PlaceOrderRequest) -> None:
    translated = await _translate(core, request)
    if translated is None:
        client.send(error(request.order_id, 200, NO_DEFINITION))
        return
    problem = order_problem(request)
    if problem:
        client.send(error(request.order_id, 201, f"Order rejected - reason:{problem}"))
        return
    legs = translated[2]
    quantity = int(request.quantity)
    before = await core.exchange.account()
    impact = await core.exchange.what_if(Order("what-if", legs, quantity, venue_limit(request)))
    commission = _commission(core.exchange.fees, legs, quantity)
    margins = MarginView(
        before.maintenance_margin, before.maintenance_margin, before.net_liquidation,
        impact.maintenance_margin_after, impact.maintenance_margin_after,
        impact.net_liquidation, commission,
    )  # fmt: skip
    record = _record(client, request, translated, 0, "")
    record.status = "PreSubmitted"
    client.send(open_order(replace(record.view(), what_if=margins), client.version))


def _commission(fees: FeeSchedule, legs: tuple[Leg, ...], quantity: int) -> float:
    total = 0.0
    for leg in legs:
        product = product_of(leg.contract)
        if product is not None:
            total += fees.charge(product, leg.ratio * quantity)
    return total


async def cancel_order(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """4: cancel one of the client's orders."""
    reader.skip(1)
    order_id = reader.integer()
    record = core.book.get(client.client_id or 0, order_id)
    if record is None:
        text = f"OrderId {order_id} that needs to be cancelled is not found."
        client.send(error(order_id, 10147, text))
        return
    await _cancel(core, record, client)


async def _cancel(core: GatewayCore, record: OrderRecord, client: Client) -> None:
    if record.is_done or not record.venue_ref:
        text = "Cancel attempted when order is not in a cancellable state. Order permId ="
        client.send(error(record.order_id, 161, f"{text}{record.perm_id}"))
        return
    await core.exchange.cancel_order(record.venue_ref)
    working = core.exchange.state.orders[record.venue_ref]
    if working.status is not OrderStatus.CANCELLED:
        return  # it filled first: report_activity tells
    record.sync(working, core.now())
    owners = core.owners(record.client_id)
    send_state(owners, record, with_open_order=False)
    core.send_to(owners, error(record.order_id, 202, "Order Canceled - reason:"))


async def req_global_cancel(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """58: cancel every working order of every client."""
    for record in core.book.records():
        if not record.is_done and record.venue_ref:
            await _cancel(core, record, client)


async def req_open_orders(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """5: the client's working orders (and adopted ones), then openOrderEnd."""
    await _open_orders(core, client, everyone=client.client_id == 0)


async def req_all_open_orders(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """16: every working order, then openOrderEnd."""
    await _open_orders(core, client, everyone=True)


async def _open_orders(core: GatewayCore, client: Client, everyone: bool) -> None:
    adopt_all(core)
    for record in core.book.records():
        mine = record.client_id in (client.client_id, 0)
        if not record.is_done and record.venue_ref and (everyone or mine):
            send_state([client], record, with_open_order=True)
    client.send(open_order_end())
