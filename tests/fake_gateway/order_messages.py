"""Encoders of the order messages: openOrder, completedOrder, orderStatus, execDetails,
commissionReport.

Written out field by field after the ib_async 2.1 decoders (identical to ib_insync 0.9.86's at
server version 176). Version differences: at 177 and above faProfile is gone from openOrder
and completedOrder; at 178 and above execDetails ends with pendingPriceRevision. The fake
sends a blank deltaNeutralOrderType (so no delta-neutral block), no conditions, no algo, no
scale fields. Margin fields are IB's unset double except in what-if answers. Execution
times are "YYYYMMDD HH:MM:SS UTC" (the venue's virtual clock), which both clients parse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from .contracts import WireContract
from .wire import UNSET_DOUBLE, Fields, flag, num, num_or

FA_PROFILE_DROPPED = 177
PENDING_PRICE_REVISION_ADDED = 178


@dataclass(frozen=True, slots=True)
class ComboLegView:
    """One leg of a BAG as openOrder echoes it."""

    con_id: int
    ratio: int
    action: str
    exchange: str


@dataclass(frozen=True, slots=True)
class MarginView:
    """A what-if answer: margin and equity with loan before and after the order."""

    init_before: float
    maint_before: float
    equity_before: float
    init_after: float
    maint_after: float
    equity_after: float
    commission: float


@dataclass(frozen=True, slots=True)
class OrderView:
    """What openOrder, completedOrder and orderStatus say about one order."""

    order_id: int
    client_id: int
    perm_id: int
    contract: WireContract
    action: str
    quantity: float
    order_type: str
    limit: float
    tif: str
    account: str
    order_ref: str
    legs: tuple[ComboLegView, ...]
    status: str
    filled: float = 0.0
    completed_time: str = ""
    what_if: MarginView | None = None


@dataclass(frozen=True, slots=True)
class ExecView:
    """One execution as execDetails carries it (a leg, or the BAG as a whole)."""

    order_id: int
    client_id: int
    perm_id: int
    contract: WireContract
    exec_id: str
    time: datetime
    account: str
    side: str
    shares: float
    price: float
    cum_qty: float
    avg_price: float
    order_ref: str


def _legs(view: OrderView) -> Fields:
    fields = [str(len(view.legs))]
    for leg in view.legs:
        fields += [str(leg.con_id), str(leg.ratio), leg.action, leg.exchange, "0", "0", "", "-1"]
    return fields


def _margins(view: OrderView) -> Fields:
    m = view.what_if
    if m is None:
        return [UNSET_DOUBLE] * 9 + [UNSET_DOUBLE] * 3 + ["", ""]
    amounts = [
        m.init_before, m.maint_before, m.equity_before,
        m.init_after - m.init_before, m.maint_after - m.maint_before,
        m.equity_after - m.equity_before,
        m.init_after, m.maint_after, m.equity_after,
    ]  # fmt: skip
    commission = num(m.commission, 2)
    return [num(a, 2) for a in amounts] + [commission, commission, commission, "USD", ""]


def open_order(view: OrderView, version: int) -> Fields:
    """5: an order with its state (or a what-if answer when `view.what_if` is set)."""
    fields = [
        "5", str(view.order_id), *view.contract.fields(),
        view.action, num(view.quantity), view.order_type, num_or(view.limit, ""), "",
        view.tif, "", view.account, "", "0", view.order_ref, str(view.client_id),
        str(view.perm_id), "0", "0", "0", "", "", "", "", "",
    ]  # fmt: skip
    if version < FA_PROFILE_DROPPED:
        fields.append("")  # faProfile
    fields += [
        "", "", "", "", "", "0", "", "-1", "0", "", "", "", "", "", "", "0", "0", "0", "",
        "0", "0", "0", "", "0", "0", "", "0", "", "",  # ... volatilityType, deltaNeutral
        "0", "0", "", "", "", "", "",  # continuousUpdate ... comboLegsDescrip
    ]  # fmt: skip
    fields += _legs(view)
    fields += ["0", "0", "", "", "", ""]  # order combo legs, smart params, scale, hedgeType
    fields += ["0", "", "", "0", "0", ""]  # optOutSmartRouting ... dncPresent, algoStrategy
    fields += ["0", flag(view.what_if is not None), view.status, *_margins(view), "0", "0"]
    fields += ["0"]  # no conditions
    fields += ["", "", "", "", "", "", "", "0", "", "", "", "", "0", "0", "0", "0"]
    fields += ["", "", "0"]  # duration, postToAts, autoCancelParent
    fields += ["", "", "", "", ""]  # minTradeQty ... midOffsetAtHalf
    return fields


def completed_order(view: OrderView, version: int) -> Fields:
    """101: a finished order (no orderId or clientId), ending with its completion."""
    fields = [
        "101", *view.contract.fields(),
        view.action, num(view.quantity), view.order_type, num_or(view.limit, ""), "",
        view.tif, "", view.account, "", "0", view.order_ref, str(view.perm_id),
        "0", "0", "0", "", "", "", "",
    ]  # fmt: skip
    if version < FA_PROFILE_DROPPED:
        fields.append("")  # faProfile
    fields += [
        "", "", "", "", "", "0", "", "-1", "", "", "", "", "", "", "0", "0", "", "0", "0",
        "", "0", "", "",  # ... deltaNeutralOrderType, deltaNeutralAuxPrice
        "0", "0", "", "", "",  # continuousUpdate ... comboLegsDescrip
    ]  # fmt: skip
    fields += _legs(view)
    fields += ["0", "0", "", "", "", ""]  # order combo legs, smart params, scale, hedgeType
    fields += ["", "", "0", "0", ""]  # clearingAccount ... dncPresent, algoStrategy
    fields += ["0", view.status, "0", "0", "0"]  # solicited, status, randomize x2, conditions
    fields += [
        "", "", "", "0", "0", "", num(view.filled), "0", "0", "", "0", "0", "0",
        view.completed_time, view.status,
    ]  # fmt: skip
    fields += ["", "", "", "", ""]  # minTradeQty ... midOffsetAtHalf
    return fields


def order_status(view: OrderView, avg_fill_price: float, last_fill_price: float) -> Fields:
    """3: an order's status, fill count and prices."""
    remaining = max(view.quantity - view.filled, 0.0) if view.status != "Cancelled" else 0.0
    return [
        "3", str(view.order_id), view.status, num(view.filled), num(remaining),
        num(avg_fill_price if math.isfinite(avg_fill_price) else 0.0), str(view.perm_id), "0",
        num(last_fill_price if math.isfinite(last_fill_price) else 0.0), str(view.client_id),
        "", "0",
    ]  # fmt: skip


def exec_time(time: datetime) -> str:
    """Return an execution time as both clients parse it."""
    return time.astimezone(UTC).strftime("%Y%m%d %H:%M:%S UTC")


def exec_details(req_id: int, e: ExecView, version: int) -> Fields:
    """11: one execution (31 fields; 32 from version 178). reqId -1 is a live fill."""
    fields = [
        "11", str(req_id), str(e.order_id), *e.contract.fields(), e.exec_id, exec_time(e.time),
        e.account, e.contract.exchange, e.side, num(e.shares), num(e.price, 6), str(e.perm_id),
        str(e.client_id), "0", num(e.cum_qty), num(e.avg_price, 6), e.order_ref, "", "", "", "2",
    ]  # fmt: skip
    if version >= PENDING_PRICE_REVISION_ADDED:
        fields.append("0")
    return fields


def commission_report(exec_id: str, commission: float) -> Fields:
    """59: the commission of one leg execution (exactly 8 fields)."""
    return ["59", "1", exec_id, num(commission, 2), "USD", UNSET_DOUBLE, UNSET_DOUBLE, ""]
