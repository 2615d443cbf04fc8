"""Executions: venue fills as TWS reports them, live and on reqExecutions.

Modeling choices:
- One venue match of an order (its legs' fills at one instant) is one execution per leg
  (the leg's contract, side and price, the venue's exec id) and, for a combo, one more BAG
  execution (conId 28812380, the combo's net price in the order's own sign, shares = combo
  units, exec id "<first leg's>.bag"): ib_async and ib_insync count a combo's filled
  quantity from the BAG executions only. Commission reports go to the leg executions.
- cumQty and avgPrice accumulate per contract within the order.
- Live: the poll loop and every request call report_activity, which sends new executions
  to the order's owner(s), then status changes (openOrder + orderStatus when the status
  changes, orderStatus alone when only the fill count does), then commission reports, then
  positions and account values to their subscribers (also after the venue settles expired
  positions, which has no execution).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from broker.contracts import TradableContract
from broker.orders import Fill, Side

from .account import push_after_fills
from .contracts import bag_wire
from .core import Client, GatewayCore
from .historical import end_instant
from .messages import completed_orders_end, exec_details_end
from .order_messages import (
    ComboLegView,
    ExecView,
    commission_report,
    completed_order,
    exec_details,
    open_order,
    order_status,
)
from .orders import (
    MARKET_LIMIT,
    OrderRecord,
    adopted_action,
    venue_perm_id,
)
from .wire import FieldReader


@dataclass(frozen=True, slots=True)
class ExecEvent:
    """One venue match of an order: its executions and the legs' commissions."""

    views: tuple[ExecView, ...]
    commissions: tuple[tuple[str, float], ...]
    ib_price: float
    time: datetime


def _side(side: Side) -> str:
    return "BOT" if side is Side.BUY else "SLD"


def exec_events(core: GatewayCore, record: OrderRecord, fills: Sequence[Fill]) -> list[ExecEvent]:
    """Return the executions of an order from all its venue fills, oldest first."""
    cum: dict[str, tuple[float, float]] = {}
    events = []
    for _, group in groupby(fills, key=lambda f: f.time):
        chunk = list(group)
        views = [_leg_view(core, record, fill, cum) for fill in chunk]
        net = sum(
            leg.signed_ratio * fill.price
            for leg, fill in zip(record.venue_legs, chunk, strict=False)
        )
        ib_price = record.sign * net
        if record.contract.sec_type == "BAG":
            units = chunk[0].quantity / record.venue_legs[0].ratio
            views.append(_bag_view(record, chunk[0], units, ib_price, cum))
        commissions = tuple((f.exec_id, f.commission) for f in chunk)
        events.append(ExecEvent(tuple(views), commissions, ib_price, chunk[0].time))
    return events


def _accumulate(
    cum: dict[str, tuple[float, float]], key: str, qty: float, price: float
) -> tuple[float, float]:
    shares, notional = cum.get(key, (0.0, 0.0))
    shares, notional = shares + qty, notional + qty * price
    cum[key] = (shares, notional)
    return shares, notional / shares


def _leg_view(
    core: GatewayCore, record: OrderRecord, fill: Fill, cum: dict[str, tuple[float, float]]
) -> ExecView:
    total, avg = _accumulate(cum, fill.contract.key, fill.quantity, fill.price)
    return ExecView(
        record.order_id, record.client_id, record.perm_id, core.registry.describe(fill.contract),
        fill.exec_id, fill.time, record.account, _side(fill.side), fill.quantity, fill.price,
        total, avg, record.order_ref,
    )  # fmt: skip


def _bag_view(
    record: OrderRecord, first: Fill, units: float, price: float,
    cum: dict[str, tuple[float, float]],
) -> ExecView:  # fmt: skip
    total, avg = _accumulate(cum, "BAG", units, price)
    side = "BOT" if record.action == "BUY" else "SLD"
    return ExecView(
        record.order_id, record.client_id, record.perm_id, record.contract,
        f"{first.exec_id}.bag", first.time, record.account, side, units, price, total, avg,
        record.order_ref,
    )  # fmt: skip


def adopt_all(core: GatewayCore) -> None:
    """Give a record to every venue order the gateway has not placed itself."""
    for ref, working in core.exchange.state.orders.items():
        if core.book.by_venue_ref(ref) is not None:
            continue
        order = working.order
        action = adopted_action(order)
        sign = -1 if action == "SELL" else 1
        if order.is_combo:
            first = order.legs[0].contract
            wire = bag_wire(first.symbol, first.exchange)
            legs = tuple(
                ComboLegView(
                    core.registry.con_id(leg.contract), leg.ratio, leg.side.value,
                    leg.contract.exchange,
                )
                for leg in order.legs
            )  # fmt: skip
        else:
            wire, legs = core.registry.describe(order.legs[0].contract), ()
        limit = sign * working.limit_price if working.limit_price != MARKET_LIMIT else 0.0
        order_id = int(working.broker_id) if working.broker_id.isdigit() else 0
        record = OrderRecord(
            order_id, 0, venue_perm_id(working), ref, ref, wire, action, float(order.quantity),
            "LMT", limit, "DAY", core.account_id, legs, order.legs,
        )  # fmt: skip
        record.sync(working, core.now())
        core.book.add(record)


def send_state(clients: Sequence[Client], record: OrderRecord, with_open_order: bool) -> None:
    """Send an order's openOrder (when asked) and orderStatus to `clients`."""
    view = record.view()
    for client in clients:
        if with_open_order:
            client.send(open_order(view, client.version))
        client.send(order_status(view, record.avg_fill_price, record.last_fill_price))


async def report_activity(core: GatewayCore) -> None:
    """Report new executions and order status changes (see the module docstring)."""
    state = core.exchange.state
    new = state.executions[core.exec_cursor :]
    core.exec_cursor = len(state.executions)
    if new:
        adopt_all(core)
    settled = state.settlements[core.settlement_cursor :]
    core.settlement_cursor = len(state.settlements)
    touched: set[TradableContract] = {f.contract for f in new} | {s.contract for s in settled}
    pending_commissions: list[tuple[list[Client], tuple[tuple[str, float], ...]]] = []
    for ref in dict.fromkeys(fill.order_ref for fill in new):
        record = core.book.by_venue_ref(ref)
        if record is None:
            continue
        owners = core.owners(record.client_id)
        history = [f for f in state.executions if f.order_ref == ref]
        for event in exec_events(core, record, history):
            if event.views[0].exec_id in record.reported:
                continue
            record.reported.update(v.exec_id for v in event.views)
            record.last_fill_price = event.ib_price
            for client in owners:
                for view in event.views:
                    client.send(exec_details(-1, view, client.version))
            pending_commissions.append((owners, event.commissions))
    for record in core.book.records():
        working = state.orders.get(record.venue_ref) if record.venue_ref else None
        if working is None or record.is_done:
            continue
        before = record.status
        if record.sync(working, core.now()):
            send_state(core.owners(record.client_id), record, record.status != before)
    for owners, commissions in pending_commissions:
        for exec_id, amount in commissions:
            core.send_to(owners, commission_report(exec_id, amount))
    if touched:
        await push_after_fills(core, touched)


async def req_executions(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """7: every execution matching the filter (legs, BAGs, commission reports), then the end."""
    reader.skip(1)
    req_id, client_filter = reader.integer(), reader.integer()
    account, since_text = reader.text(), reader.text()
    symbol, sec_type = reader.text().upper(), reader.text().upper()
    reader.skip(1)  # exchange
    side = {"BUY": "BOT", "SELL": "SLD"}.get(reader.text().upper(), "")
    since = _since(since_text, core.now())
    adopt_all(core)
    fills = core.exchange.state.executions
    for ref in dict.fromkeys(f.order_ref for f in fills):
        record = core.book.by_venue_ref(ref)
        if record is None or (client_filter and record.client_id != client_filter):
            continue
        if account and account != core.account_id:
            continue
        for event in exec_events(core, record, [f for f in fills if f.order_ref == ref]):
            if since is not None and event.time < since:
                continue
            for view in event.views:
                if symbol and view.contract.symbol != symbol:
                    continue
                if (sec_type and view.contract.sec_type != sec_type) or (
                    side and view.side != side
                ):
                    continue
                client.send(exec_details(req_id, view, client.version))
            for exec_id, amount in event.commissions:
                client.send(commission_report(exec_id, amount))
    client.send(exec_details_end(req_id))


def _since(text: str, now: datetime) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    if len(text) == 8 and text.isdigit():
        text += " 00:00:00"
    return end_instant(text, now)


async def req_completed_orders(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """99: every finished order, then the end."""
    adopt_all(core)
    for record in core.book.records():
        if record.is_done:
            client.send(completed_order(record.view(), client.version))
    client.send(completed_orders_end())
