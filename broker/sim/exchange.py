"""The simulated paper exchange: a Broker over the simulated market.

It fills a limit order when its net limit is at or through the combo's mid (and fills it at
the mid), charges a commission per contract, settles SPXW options in cash at the expiry
day's close, and reports net liquidation and risk-based margin (broker.margin).
Time comes from an injected clock, so replay and the paced daemon drive it alike.
"""

from __future__ import annotations

import itertools
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from broker.account import AccountSnapshot, MarginImpact, Position
from broker.contracts import IndexContract, OptionContract, Right, TradableContract
from broker.errors import BrokerUnavailable
from broker.margin import option_margin
from broker.market import OptionQuote, Quote
from broker.orders import Fill, Order, OrderState, OrderStatus, Side
from broker.sim.market import SimMarket

PRICE_EPSILON = 1e-9


@dataclass
class _Holding:
    contract: TradableContract
    quantity: int = 0
    cost: float = 0.0  # cash paid for the open quantity, commissions excluded


@dataclass
class _Working:
    order: Order
    broker_id: str
    status: OrderStatus = OrderStatus.WORKING
    filled: int = 0
    limit_price: float = 0.0
    avg_fill_price: float | None = None
    message: str = ""

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
    contract: TradableContract
    quantity: int
    price: float


@dataclass
class SimAccount:
    """Everything the venue keeps about the paper account."""

    account_id: str
    cash: float
    holdings: dict[str, _Holding] = field(default_factory=dict)
    orders: dict[str, _Working] = field(default_factory=dict)
    executions: list[Fill] = field(default_factory=list)
    settlements: list[Settlement] = field(default_factory=list)


class SimExchange:
    """A Broker implementation backed by SimMarket; see the module docstring for its rules."""

    def __init__(
        self,
        market: SimMarket,
        clock: Callable[[], datetime],
        account_id: str,
        starting_cash: float,
        commission_per_contract: float,
    ) -> None:
        self.market = market
        self.clock = clock
        self.commission_per_contract = commission_per_contract
        self.book = SimAccount(account_id, starting_cash)
        self._ids = itertools.count(1)
        # Execution ids must stay unique across restarts of the venue process, because the
        # journal treats an id it has seen as a duplicate delivery.
        self._session = uuid.uuid4().hex[:8]
        self._connected = False

    # -- session ---------------------------------------------------------------------------
    async def connect(self) -> None:
        self._connected = True
        self._advance()

    async def disconnect(self) -> None:
        self._connected = False

    def _now(self) -> datetime:
        if not self._connected:
            raise BrokerUnavailable("the simulated exchange is not connected")
        return self.clock()

    def _advance(self) -> datetime:
        """Bring the venue to the clock: settle expired positions, match resting orders."""
        now = self._now()
        self._settle_expired(now)
        for working in self.book.orders.values():
            if working.status is OrderStatus.WORKING:
                self._try_fill(working, now)
        return now

    # -- market data -----------------------------------------------------------------------
    async def index_quote(self, index: IndexContract) -> Quote:
        return self.market.index_quote(index, self._advance())

    async def option_expiries(self, symbol: str, trading_class: str) -> list[date]:
        if (symbol, trading_class) != ("SPX", "SPXW"):
            return []
        return self.market.expiries(self._advance())

    async def option_strikes(self, symbol: str, trading_class: str, expiry: date) -> list[float]:
        if (symbol, trading_class) != ("SPX", "SPXW"):
            return []
        return self.market.strikes(self._advance())

    async def option_quotes(self, contracts: Sequence[OptionContract]) -> list[OptionQuote]:
        return self.market.option_quotes(contracts, self._advance())

    # -- account ---------------------------------------------------------------------------
    async def positions(self) -> list[Position]:
        self._advance()
        return [
            Position(h.contract, h.quantity, h.cost / h.quantity)
            for h in self.book.holdings.values()
            if h.quantity
        ]

    async def account(self) -> AccountSnapshot:
        now = self._advance()
        holdings = [(h.contract, h.quantity) for h in self.book.holdings.values()]
        return AccountSnapshot(
            self.book.account_id,
            now,
            self._net_liquidation(now),
            self.book.cash,
            self._margin(holdings, now),
        )

    async def what_if(self, order: Order) -> MarginImpact:
        now = self._advance()
        after = {k: h.quantity for k, h in self.book.holdings.items()}
        contracts = {k: h.contract for k, h in self.book.holdings.items()}
        for leg in order.legs:
            key = leg.contract.key
            contracts[key] = leg.contract
            after[key] = after.get(key, 0) + leg.signed_ratio * order.quantity
        margin = self._margin([(contracts[k], q) for k, q in after.items()], now)
        nlv = self._net_liquidation(now)
        return MarginImpact(margin, nlv - margin, nlv)

    def _margin(self, holdings: list[tuple[TradableContract, int]], now: datetime) -> float:
        spx, _ = self.market.levels(now)
        return option_margin(holdings, {"SPX": spx})

    def _net_liquidation(self, now: datetime) -> float:
        options = [h.contract for h in self.book.holdings.values() if h.quantity]
        quotes = self.market.option_quotes(
            [c for c in options if isinstance(c, OptionContract)], now
        )
        marks = {q.contract.key: q.quote.mid for q in quotes}
        value = 0.0
        for holding in self.book.holdings.values():
            mark = marks.get(holding.contract.key, 0.0)
            value += holding.quantity * holding.contract.multiplier * mark
        return self.book.cash + value

    # -- orders ----------------------------------------------------------------------------
    async def place_order(self, order: Order) -> OrderState:
        now = self._advance()
        if order.ref in self.book.orders:
            return self.book.orders[order.ref].state()  # the same reference is never sent twice
        working = _Working(order, str(next(self._ids)), limit_price=order.limit_price)
        self.book.orders[order.ref] = working
        problem = self._order_problem(order, now)
        if problem:
            working.status, working.message = OrderStatus.REJECTED, problem
            return working.state()
        self._try_fill(working, now)
        return working.state()

    def _order_problem(self, order: Order, now: datetime) -> str | None:
        if order.quantity <= 0 or not order.legs:
            return "order has no quantity or no legs"
        if not math.isfinite(order.limit_price):
            return "limit price is not a number"
        listed = set(self.market.expiries(now))
        for leg in order.legs:
            contract = leg.contract
            if not isinstance(contract, OptionContract) or contract.trading_class != "SPXW":
                return f"{contract.key} is not traded on this venue"
            if contract.expiry not in listed:
                return f"{contract.key}: expiry {contract.expiry} is not listed"
            if contract.strike % 5:
                return f"{contract.key}: strike {contract.strike:g} is not listed"
        return None

    async def modify_order(self, ref: str, limit_price: float) -> OrderState:
        now = self._advance()
        working = self.book.orders[ref]
        if working.status is OrderStatus.WORKING:
            working.limit_price = limit_price
            self._try_fill(working, now)
        return working.state()

    async def cancel_order(self, ref: str) -> OrderState:
        self._advance()
        working = self.book.orders[ref]
        if working.status is OrderStatus.WORKING:
            working.status = OrderStatus.CANCELLED
        return working.state()

    async def order_state(self, ref: str) -> OrderState | None:
        self._advance()
        working = self.book.orders.get(ref)
        return working.state() if working else None

    async def open_orders(self) -> list[OrderState]:
        self._advance()
        return [w.state() for w in self.book.orders.values() if w.status is OrderStatus.WORKING]

    async def executions(self, since: datetime | None = None) -> list[Fill]:
        self._advance()
        return [f for f in self.book.executions if since is None or f.time >= since]

    def _try_fill(self, working: _Working, now: datetime) -> None:
        order = working.order
        quotes = self.market.option_quotes([leg.contract for leg in order.legs], now)  # type: ignore[misc]
        mids = [q.quote.mid for q in quotes]
        if any(not math.isfinite(m) for m in mids):
            return  # no sane market: the order rests
        net_mid = sum(leg.signed_ratio * mid for leg, mid in zip(order.legs, mids, strict=True))
        if working.limit_price < net_mid - PRICE_EPSILON:
            return
        units = order.quantity - working.filled
        for leg, mid in zip(order.legs, mids, strict=True):
            self._execute(order.ref, leg.contract, leg.signed_ratio * units, mid, now)
        working.filled = order.quantity
        working.status = OrderStatus.FILLED
        working.avg_fill_price = net_mid

    def _execute(
        self, ref: str, contract: TradableContract, signed_qty: int, price: float, now: datetime
    ) -> None:
        quantity = abs(signed_qty)
        commission = round(self.commission_per_contract * quantity, 2)
        side_buy = signed_qty > 0
        fill = Fill(
            exec_id=f"sim-{self._session}-{len(self.book.executions) + 1:06d}",
            order_ref=ref,
            contract=contract,
            side=_side(side_buy),
            quantity=quantity,
            price=price,
            commission=commission,
            time=now,
        )
        self.book.executions.append(fill)
        self.book.cash -= signed_qty * contract.multiplier * price + commission
        holding = self.book.holdings.setdefault(contract.key, _Holding(contract))
        _apply(holding, signed_qty, price * contract.multiplier)
        if holding.quantity == 0:
            del self.book.holdings[contract.key]

    def _settle_expired(self, now: datetime) -> None:
        for key, holding in list(self.book.holdings.items()):
            contract = holding.contract
            if not isinstance(contract, OptionContract):
                continue
            if now < self.market.expiry_time(contract.expiry):
                continue
            settle = self.market.settlement_price(contract.expiry)
            if contract.right is Right.CALL:
                intrinsic = max(0.0, settle - contract.strike)
            else:
                intrinsic = max(0.0, contract.strike - settle)
            self.book.cash += holding.quantity * contract.multiplier * intrinsic
            self.book.settlements.append(Settlement(now, contract, holding.quantity, intrinsic))
            del self.book.holdings[key]


def _side(buy: bool) -> Side:
    return Side.BUY if buy else Side.SELL


def _apply(holding: _Holding, signed_qty: int, unit_cost: float) -> None:
    """Update quantity and cost basis; a reducing trade releases cost pro rata."""
    if holding.quantity == 0 or (holding.quantity > 0) == (signed_qty > 0):
        holding.quantity += signed_qty
        holding.cost += signed_qty * unit_cost
        return
    closing = min(abs(signed_qty), abs(holding.quantity))
    per_unit = holding.cost / holding.quantity
    direction = 1 if signed_qty > 0 else -1
    holding.cost -= per_unit * closing * -direction
    holding.quantity += direction * closing
    rest = abs(signed_qty) - closing
    if rest:
        holding.quantity += direction * rest
        holding.cost += direction * rest * unit_cost
