"""IbAccount: balances, positions and the margin an order would need, from IB.

- `account()` reads the managed account's values (account updates); with several accounts
  (no account updates) it asks for the account summary instead.
- `positions()` keeps the managed account's positions in contracts the bot trades; a non-zero
  position in any other contract is logged, never returned.
- `what_if()` asks IB (`whatIfOrderAsync`): excess liquidity after = equity with loan after -
  maintenance after, and IB's error text is added when the answer carries no margin. With
  `[ib] what_if = false` it estimates from IB's current maintenance margin plus the change of
  the risk-based margin of broker.margin over the positions with and without the order; an
  underlying is priced (by IbMarketData) only when that margin needs it (net short calls).
"""

from __future__ import annotations

import math
from datetime import date

import structlog

from broker.account import AccountSnapshot, MarginImpact, Position
from broker.contracts import OptionContract, Right, TradableContract
from broker.errors import BrokerUnavailable
from broker.ib import local_greeks, mapping
from broker.ib.contract_cache import ContractCache
from broker.ib.market_data import IbMarketData
from broker.ib.session import IbSession
from broker.margin import portfolio_margin
from broker.orders import Order

log = structlog.get_logger("alvh.ib")

Holdings = list[tuple[TradableContract, int]]
GroupPrices = dict[tuple[str, date], float]


class IbAccount:
    """The account's balances, positions and what-if margin through the session."""

    def __init__(
        self, session: IbSession, contracts: ContractCache, market_data: IbMarketData
    ) -> None:
        self._session = session
        self._contracts = contracts
        self._market_data = market_data

    async def account(self) -> AccountSnapshot:
        """Return the managed account's balances and margin now."""
        session = self._session
        ib = session.ready()
        account = session.require_account()
        now = session.now()
        try:
            return mapping.account_snapshot(ib.accountValues(account), account, now)
        except BrokerUnavailable:  # no account updates (several accounts): ask for a summary
            summary = await session.call(ib.accountSummaryAsync(account), "the account summary")
            return mapping.account_snapshot(summary, account, now)

    async def positions(self) -> list[Position]:
        """Return the managed account's non-zero positions in contracts the bot trades."""
        session = self._session
        ib = session.ready()
        account = session.require_account()
        out = []
        for held in await session.call(ib.reqPositionsAsync(), "positions"):
            if held.account != account:
                continue
            position = mapping.domain_position(held)
            if position is not None:
                out.append(position)
            elif round(held.position):
                log.warning(
                    "position in a contract the bot does not trade",
                    contract=held.contract.localSymbol or held.contract.symbol,
                    quantity=held.position,
                )
        return out

    async def what_if(self, order: Order) -> MarginImpact:
        """Return the margin and excess liquidity after `order` fills (IB's, or estimated)."""
        session = self._session
        ib = session.ready()
        account = session.require_account()
        if not session.settings.what_if:
            return await self._estimated_margin(order)
        contract = await self._contracts.order_contract(order)
        if contract is None:
            raise BrokerUnavailable(f"what-if for {order.ref}: a leg is unknown to IB")
        ib_order = mapping.ib_limit_order(order, contract, account)
        snapshot = await self.account()
        mark = session.error_mark()
        answer = await session.call(ib.whatIfOrderAsync(contract, ib_order), f"what-if {order.ref}")
        try:
            return mapping.margin_impact(answer, snapshot.net_liquidation)
        except BrokerUnavailable as exc:
            errors = session.errors_since(mark)
            if errors:
                raise BrokerUnavailable(f"{exc}: {errors[-1]}") from None
            raise

    async def _estimated_margin(self, order: Order) -> MarginImpact:
        """Estimate the margin after `order` with broker.margin (`[ib] what_if = false`)."""
        snapshot = await self.account()
        held = {p.contract.key: (p.contract, p.quantity) for p in await self.positions()}
        after = dict(held)
        for leg in order.legs:
            contract, quantity = after.get(leg.contract.key, (leg.contract, 0))
            after[leg.contract.key] = (contract, quantity + leg.signed_ratio * order.quantity)
        prices: GroupPrices = {}
        per_future = self._session.settings.future_margin
        before_margin, asked = _margin(list(held.values()), prices, per_future)
        after_margin, asked_after = _margin(list(after.values()), prices, per_future)
        if asked | asked_after:
            prices = await self._group_prices(asked | asked_after)
            before_margin, _ = _margin(list(held.values()), prices, per_future)
            after_margin, _ = _margin(list(after.values()), prices, per_future)
        if not math.isfinite(after_margin - before_margin):
            raise BrokerUnavailable(f"no underlying price to estimate the margin of {order.ref}")
        maintenance = snapshot.maintenance_margin + after_margin - before_margin
        nlv = snapshot.net_liquidation
        return MarginImpact(maintenance, nlv - maintenance, nlv)

    async def _group_prices(self, groups: set[tuple[str, date]]) -> GroupPrices:
        prices: GroupPrices = {}
        for symbol, expiry in groups:
            option = OptionContract(symbol, symbol, expiry, 1.0, Right.CALL)
            found = await self._market_data.underlying_prices([option])
            underlying = local_greeks.underlying_of(option)
            key = underlying.key if underlying is not None else ""
            prices[(symbol, expiry)] = found.get(key, math.nan)
        return prices


def _margin(
    holdings: Holdings, prices: GroupPrices, per_future: float
) -> tuple[float, set[tuple[str, date]]]:
    """Return broker.margin's margin of holdings and the underlyings it needed a price for."""
    asked: set[tuple[str, date]] = set()

    def underlying(symbol: str, expiry: date) -> float:
        asked.add((symbol, expiry))
        return prices.get((symbol, expiry), math.nan)

    return portfolio_margin(holdings, underlying, per_future), asked
