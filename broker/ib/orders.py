"""IbOrders: placing, modifying and cancelling limit orders at IB, and reading the fills.

- No order is sent before the managed account is known. An order whose `ref` IB already has
  is never sent again: its state is returned. An order with a leg IB does not know is
  rejected here, never sent.
- A single leg of ratio r is sent as r x quantity contracts: its unit ratio is kept per ref
  (for this session) to read its state back, and to set a new limit, in units.
- Only the client that placed an order can change it: another client's order raises
  OrderRejected. Each change waits up to `order_ack_timeout` for IB's acknowledgement.
- `executions()` returns leg fills with IB's commission: it waits up to `commission_timeout`
  for each commission report and, if one is still missing, raises BrokerUnavailable rather
  than report a fill with a made-up commission (the journal keeps the first version of each
  execution); the job is skipped and the next call or reconcile journals it complete.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from broker.errors import BrokerUnavailable, OrderRejected
from broker.ib import ib_api, mapping
from broker.ib.contract_cache import ContractCache
from broker.ib.session import IbSession
from broker.orders import Fill, Order, OrderState, OrderStatus

log = structlog.get_logger("alvh.ib")

PENDING_IB_STATUSES = frozenset({"", "PendingSubmit", "ApiPending"})
MODIFY_SENT = "Modify"  # the trade log entry both libraries add when a modification is sent


class IbOrders:
    """Orders and executions through the session, on cached contracts."""

    def __init__(self, session: IbSession, contracts: ContractCache) -> None:
        self._session = session
        self._contracts = contracts
        self._unit_ratios: dict[str, int] = {}

    async def place_order(self, order: Order) -> OrderState:
        """Send a DAY limit order (once per ref) and return its state after IB's answer."""
        session = self._session
        ib = session.ready()
        account = session.require_account()  # never an order before the account is read
        existing = mapping.find_trade(ib.trades(), order.ref)
        if existing is not None:
            log.info("order already at IB: not sent again", order_ref=order.ref)
            return self._state(existing)
        contract = await self._contracts.order_contract(order)
        if contract is None:
            return _unknown_leg_rejection(order, self._contracts)
        ib_order = mapping.ib_limit_order(order, contract, account)
        self._unit_ratios[order.ref] = mapping.order_terms(order)[2]
        trade = session.send(lambda: session.ready().placeOrder(contract, ib_order), order.ref)
        log.info(
            "order sent to IB",
            order_ref=order.ref,
            order_id=ib_order.orderId,
            action=ib_order.action,
            quantity=ib_order.totalQuantity,
            limit=ib_order.lmtPrice,
            legs=[leg.contract.key for leg in order.legs],
        )
        await session.wait_until(
            lambda: trade.orderStatus.status not in PENDING_IB_STATUSES,
            session.settings.order_ack_timeout,
        )
        return self._state(trade)

    async def modify_order(self, ref: str, limit_price: float) -> OrderState:
        """Change the limit of a working order (a final order's state is returned as is)."""
        session = self._session
        trade = await self._trade(ref)
        if trade is None:
            raise OrderRejected(f"IB has no order {ref} to modify")
        state = self._state(trade)
        if state.status.is_final:
            return state
        self._own(trade, ref)
        ratio = self._unit_ratios.get(ref, 1)
        trade.order.lmtPrice = mapping.ib_limit(
            limit_price, trade.contract, trade.order.action, ratio
        )
        session.send(lambda: session.ready().placeOrder(trade.contract, trade.order), ref)
        await session.wait_until(
            lambda: not trade.log or trade.log[-1].message != MODIFY_SENT,
            session.settings.order_ack_timeout,
        )
        return self._state(trade)

    async def cancel_order(self, ref: str) -> OrderState:
        """Cancel a working order (a final order's state is returned as is)."""
        session = self._session
        trade = await self._trade(ref)
        if trade is None:
            raise OrderRejected(f"IB has no order {ref} to cancel")
        if self._state(trade).status.is_final:
            return self._state(trade)
        self._own(trade, ref)
        session.send(lambda: session.ready().cancelOrder(trade.order), ref)
        await session.wait_until(
            lambda: self._state(trade).status.is_final, session.settings.order_ack_timeout
        )
        return self._state(trade)

    async def order_state(self, ref: str) -> OrderState | None:
        """Return the state of an order by ref, None when IB has none."""
        trade = await self._trade(ref)
        return self._state(trade) if trade is not None else None

    async def open_orders(self) -> list[OrderState]:
        """Return the bot's orders still working at IB."""
        ib = self._session.ready()
        await self._session.call(ib.reqOpenOrdersAsync(), "open orders")
        states = [self._state(t) for t in ib.openTrades() if t.order.orderRef]
        return [s for s in states if not s.status.is_final]

    async def executions(self, since: datetime | None = None) -> list[Fill]:
        """Return the account's leg fills with their commissions, by time."""
        session = self._session
        ib = session.ready()
        account = session.require_account()
        when = mapping.execution_filter_time(since) if since is not None else ""
        answer = await session.call(
            ib.reqExecutionsAsync(ib_api.ExecutionFilter(acctCode=account, time=when)),
            "executions",
        )
        known = {f.execution.execId: f for f in ib.fills()}  # their reports fill in place
        fills = [
            known.get(f.execution.execId, f)
            for f in answer
            if mapping.is_leg_fill(f) and mapping.domain_contract(f.contract) is not None
        ]
        if since is not None:
            fills = [f for f in fills if mapping.execution_time(f) >= since]
        timeout = session.settings.commission_timeout
        await session.wait_until(lambda: all(mapping.has_commission(f) for f in fills), timeout)
        lacking = [f.execution.execId for f in fills if not mapping.has_commission(f)]
        if lacking:
            raise BrokerUnavailable(
                f"IB sent no commission report for executions {', '.join(lacking)} within "
                f"{timeout:g} s; they are reported once it arrives"
            )
        out = [fill for fill in map(mapping.domain_fill, fills) if fill is not None]
        return sorted(out, key=lambda f: (f.time, f.exec_id))

    async def _trade(self, ref: str) -> ib_api.Trade | None:
        """Return the trade of an order ref; ask IB for open and completed orders if needed."""
        ib = self._session.ready()
        trade = mapping.find_trade(ib.trades(), ref)
        if trade is None:
            await self._session.call(ib.reqAllOpenOrdersAsync(), "open orders")
            await self._session.call(ib.reqCompletedOrdersAsync(False), "completed orders")
            trade = mapping.find_trade(ib.trades(), ref)
        return trade

    def _state(self, trade: ib_api.Trade) -> OrderState:
        return mapping.order_state(trade, self._unit_ratios.get(trade.order.orderRef, 1))

    def _own(self, trade: ib_api.Trade, ref: str) -> None:
        client_id = self._session.settings.client_id
        if trade.order.clientId != client_id:
            raise OrderRejected(
                f"order {ref} was placed by IB client {trade.order.clientId}, not by this one "
                f"({client_id}): only that client can change it"
            )


def _unknown_leg_rejection(order: Order, contracts: ContractCache) -> OrderState:
    """Return the REJECTED state of an order with a leg IB does not know (never sent)."""
    unknown = [leg.contract.key for leg in order.legs if contracts.ever_unknown(leg.contract.key)]
    return OrderState(
        order.ref,
        "",
        OrderStatus.REJECTED,
        0,
        order.quantity,
        order.limit_price,
        None,
        f"IB does not know {', '.join(unknown) or 'a leg'}",
    )
