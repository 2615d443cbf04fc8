"""The simulated paper exchange: a Broker over the simulated market, with its own account file.

Matching (documented in docs/market-model.md):
- A limit order fills when its net limit reaches the modeled natural price, and fills at that
  natural price; otherwise it rests until cancelled, modified, or the market comes to it.
- Single contracts: the natural is the ask for a buy and the bid for a sell.
- Combos: a complex-order book quotes inside the legged market. Its half-spread is the root
  sum of squares of the legs' half-spreads (independent leg quotes), never wider than the
  legged natural; the combo natural is rounded to the 0.05 complex tick against the customer.
  Each leg fills inside its own bid/ask, at prices that sum to the combo price.
- Displayed size: one instant fills at most the displayed size of every leg (per ratio); the
  rest stays working (status partial) and may fill at a later instant.
- Charges per contract by product (broker.sim.fees); cash settlement at expiry by product
  (broker.sim.listings); risk-based margin (broker.margin) with VIX futures at a configured
  initial margin. Futures are marked to market without moving cash until they close.
- With a VenueStore the account lives in its own file and is saved before each answer, so a
  restarted daemon finds the same account, positions, orders and executions.
- Memory: the venue holds the last `HISTORY_KEPT` (7 days of its clock) of executions,
  settlements and finished orders, and forgets older ones once a day (venue_state.py); with a
  file, what it forgot is read back from the file when asked for, so every answer is the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from broker.account import AccountSnapshot, MarginImpact, Position
from broker.contracts import FutureContract, IndexContract, OptionContract, Right
from broker.errors import BrokerUnavailable
from broker.margin import portfolio_margin
from broker.market import DailyBar, OptionQuote, Quote
from broker.orders import Fill, Leg, Order, OrderState, OrderStatus, Side
from broker.sim.fees import FeeSchedule
from broker.sim.listings import Product, product_of
from broker.sim.market import SimMarket
from broker.sim.venue_state import (
    HISTORY_KEPT,
    Held,
    Holding,
    Settlement,
    VenueState,
    WorkingOrder,
)
from broker.sim.venue_store import VenueFileError, VenueStore

PRICE_EPSILON = 1e-9
COMBO_TICK = 0.05
SAVE_CLOCK_EVERY = timedelta(minutes=15)
FORGET_EVERY = timedelta(days=1)  # of the venue's clock
DEFAULT_FUTURE_MARGIN = 8000.0


class SimExchange:
    """A Broker implementation backed by SimMarket; see the module docstring for its rules."""

    def __init__(
        self,
        market: SimMarket,
        clock: Callable[[], datetime],
        account_id: str,
        starting_cash: float,
        fees: FeeSchedule | None = None,
        future_initial_margin: float = DEFAULT_FUTURE_MARGIN,
        store: VenueStore | None = None,
    ) -> None:
        self.market = market
        self.clock = clock
        self.fees = fees or FeeSchedule()
        self.future_initial_margin = future_initial_margin
        self.store = store
        loaded = store.load(HISTORY_KEPT) if store is not None else None
        if loaded is not None and loaded.account_id != account_id:
            raise VenueFileError(
                f"{store.path if store else ''} holds paper account {loaded.account_id}, "
                f"not {account_id}: use the account id it holds, or another venue file"
            )
        self.state = loaded or VenueState(account_id, starting_cash)
        self.resumed = loaded is not None
        self._changed: set[str] = set()
        self._live = {ref for ref, w in self.state.orders.items() if w.is_live}
        # (the held keys, the first instant one of them settles): a cycle's many calls skip the
        # per-holding settlement check until a holding changes or that instant comes
        self._next_settlement: tuple[tuple[str, ...], datetime | None] = ((), None)
        # (holdings as (key, quantity), margin): margin without prices, kept while they hold
        self._margin_memo: tuple[tuple[tuple[str, int], ...], float] | None = None
        self._dirty = False
        self._saved_clock = self.state.clock
        # history before this instant may be only in the file (None: all of it is in memory)
        saved = self.state.clock
        self._forgot_before: datetime | None = (
            None if loaded is None or saved is None else saved - HISTORY_KEPT
        )
        self._connected = False
        self._closed = False

    # -- session ---------------------------------------------------------------------------
    async def connect(self) -> None:
        """Open the session; raise MarketDataEnded when the clock is outside the history."""
        if self._closed:
            raise BrokerUnavailable("this simulated venue closed its file: start a new one")
        self._connected = True
        self.market.levels(self._advance())
        self._commit()

    async def disconnect(self) -> None:
        """Save everything, then close the venue file (and release its lock)."""
        if self._connected:
            self._dirty = True
            self._commit()
        self._connected = False
        if self.store is not None:
            self.store.close()
            self._closed = True

    @property
    def saved_clock(self) -> datetime | None:
        """Return the venue's clock as last saved (where a restarted simulation resumes)."""
        return self.state.clock

    def _now(self) -> datetime:
        if not self._connected:
            raise BrokerUnavailable("the simulated exchange is not connected")
        return self.clock()

    def _advance(self) -> datetime:
        """Bring the venue to the clock: settle expired positions, match resting orders."""
        now = self._now()
        if self.state.clock is None or now > self.state.clock:
            self.state.clock = now
        self._settle_expired(now)
        for ref in sorted(self._live, key=lambda r: self.state.orders[r].placed_at):
            working = self.state.orders[ref]
            if working.is_live:  # cancelled or filled since it was listed here
                self._try_fill(working, now)
        self._live = {ref for ref in self._live if self.state.orders[ref].is_live}
        return now

    def _commit(self) -> None:
        """Save what changed (and the clock now and then) before answering."""
        if self.store is None:  # nothing to save
            self._changed.clear()
            self._dirty = False
            self._forget_old_history()
            return
        clock = self.state.clock
        clock_due = clock is not None and (
            self._saved_clock is None or clock - self._saved_clock >= SAVE_CLOCK_EVERY
        )
        if not (self._dirty or self._changed or clock_due):
            return
        self.store.save(self.state, self._changed)
        self._changed.clear()
        self._dirty = False
        self._saved_clock = clock
        self._forget_old_history()

    def _forget_old_history(self) -> None:
        """Once a day, drop from memory the history older than HISTORY_KEPT (saved already)."""
        clock = self.state.clock
        if clock is None:
            return
        cutoff = clock - HISTORY_KEPT
        if self._forgot_before is not None and cutoff - self._forgot_before < FORGET_EVERY:
            return
        self.state.forget_before(cutoff, keep=self._changed)
        self._forgot_before = cutoff

    def _touch(self, working: WorkingOrder, now: datetime) -> None:
        """Note a change of the order: saved at the next commit, held in memory a window on."""
        working.updated_at = now
        self._changed.add(working.order.ref)

    def _order(self, ref: str) -> WorkingOrder | None:
        """Return the order `ref`: from memory, else (one forgotten) from the venue file."""
        working = self.state.orders.get(ref)
        if working is None and self.store is not None and self._forgot_before is not None:
            working = self.store.order(ref)
        return working

    def _known_order(self, ref: str) -> WorkingOrder:
        working = self._order(ref)
        if working is None:
            raise KeyError(ref)
        return working

    # -- market data -----------------------------------------------------------------------
    async def index_quote(self, index: IndexContract) -> Quote:
        now = self._advance()
        self._commit()
        return self.market.index_quote(index, now)

    async def daily_bars(self, index: IndexContract, days: int) -> list[DailyBar]:
        now = self._advance()
        self._commit()
        return self.market.daily_bars(index, now, days)

    async def option_expiries(self, symbol: str, trading_class: str) -> list[date]:
        now = self._advance()
        self._commit()
        return self.market.listings.option_expiries(symbol, trading_class, now)

    async def option_strikes(self, symbol: str, trading_class: str, expiry: date) -> list[float]:
        now = self._advance()
        self._commit()
        if expiry not in self.market.listings.option_expiries(symbol, trading_class, now):
            return []
        if symbol == "VIX":
            return self.market.listings.option_strikes("VIX", 0.0)
        spx, _ = self.market.levels(now)
        return self.market.listings.option_strikes(symbol, spx)

    async def future_expiries(self, symbol: str, trading_class: str) -> list[date]:
        now = self._advance()
        self._commit()
        return self.market.listings.future_expiries(symbol, trading_class, now)

    async def option_quotes(self, contracts: Sequence[OptionContract]) -> list[OptionQuote]:
        now = self._advance()
        self._commit()
        return self.market.option_quotes(contracts, now)

    async def future_quotes(self, contracts: Sequence[FutureContract]) -> list[Quote]:
        now = self._advance()
        self._commit()
        return self.market.future_quotes(contracts, now)

    # -- account ---------------------------------------------------------------------------
    async def positions(self) -> list[Position]:
        self._advance()
        self._commit()
        return [
            Position(h.contract, h.quantity, h.cost / h.quantity)
            for h in self.state.holdings.values()
            if h.quantity
        ]

    async def account(self) -> AccountSnapshot:
        now = self._advance()
        self._commit()
        holdings = [(h.contract, h.quantity) for h in self.state.holdings.values()]
        return AccountSnapshot(
            self.state.account_id,
            now,
            self._net_liquidation(now),
            self.state.cash,
            self._margin(holdings, now),
        )

    async def what_if(self, order: Order) -> MarginImpact:
        now = self._advance()
        self._commit()
        after = {k: h.quantity for k, h in self.state.holdings.items()}
        contracts: dict[str, Held] = {k: h.contract for k, h in self.state.holdings.items()}
        for leg in order.legs:
            key = leg.contract.key
            contracts[key] = leg.contract
            after[key] = after.get(key, 0) + leg.signed_ratio * order.quantity
        margin = self._margin([(contracts[k], q) for k, q in after.items()], now)
        nlv = self._net_liquidation(now)
        return MarginImpact(margin, nlv - margin, nlv)

    def _margin(self, holdings: list[tuple[Held, int]], now: datetime) -> float:
        """Return the margin of `holdings`; kept for the same holdings while it does not
        depend on prices (only a net short call group prices its underlying)."""
        book = tuple((contract.key, quantity) for contract, quantity in holdings)
        if self._margin_memo is not None and self._margin_memo[0] == book:
            return self._margin_memo[1]
        priced = False

        def underlying(symbol: str, expiry: date) -> float:
            nonlocal priced
            priced = True
            if symbol == "VIX":
                return float(self.market.vix_future_prices([expiry], now)[0])
            return self.market.levels(now)[0]

        margin = portfolio_margin(holdings, underlying, self.future_initial_margin)
        self._margin_memo = None if priced else (book, margin)
        return margin

    def _marks(self, now: datetime) -> dict[str, float]:
        held = [h.contract for h in self.state.holdings.values() if h.quantity]
        options = [c for c in held if isinstance(c, OptionContract)]
        futures = [c for c in held if isinstance(c, FutureContract)]
        marks = {q.contract.key: q.quote.mid for q in self.market.option_quotes(options, now)}
        marks.update({q.contract.key: q.mid for q in self.market.future_quotes(futures, now)})
        return marks

    def _net_liquidation(self, now: datetime) -> float:
        marks = self._marks(now)
        value = 0.0
        for holding in self.state.holdings.values():
            mark = marks.get(holding.contract.key, math.nan)
            if not math.isfinite(mark):
                mark = holding.cost / (holding.quantity * holding.contract.multiplier)
            worth = holding.quantity * holding.contract.multiplier * mark
            value += worth - holding.cost if isinstance(holding.contract, FutureContract) else worth
        return self.state.cash + value

    # -- orders ----------------------------------------------------------------------------
    async def place_order(self, order: Order) -> OrderState:
        now = self._advance()
        known = self._order(order.ref)
        if known is not None:
            self._commit()
            return known.state()  # the same reference is never sent twice
        working = WorkingOrder(
            order, str(self.state.next_order_id), now, limit_price=order.limit_price
        )
        self.state.next_order_id += 1
        self.state.orders[order.ref] = working
        self._touch(working, now)
        problem = self._order_problem(order, now)
        if problem:
            working.status, working.message = OrderStatus.REJECTED, problem
        else:
            self._try_fill(working, now)
        if working.is_live:
            self._live.add(order.ref)
        self._commit()
        return working.state()

    def _order_problem(self, order: Order, now: datetime) -> str | None:
        if order.quantity <= 0 or not order.legs:
            return "order has no quantity or no legs"
        if not math.isfinite(order.limit_price):
            return "limit price is not a number"
        symbols = {leg.contract.symbol for leg in order.legs}
        if len(symbols) > 1:
            return f"a combo must have one underlying, not {sorted(symbols)}"
        for leg in order.legs:
            problem = self.market.listings.listing_problem(leg.contract, now)
            if problem:
                return problem
        return None

    async def modify_order(self, ref: str, limit_price: float) -> OrderState:
        now = self._advance()
        working = self._known_order(ref)
        if working.is_live and math.isfinite(limit_price):
            working.limit_price = limit_price
            self._touch(working, now)
            self._try_fill(working, now)
        self._commit()
        return working.state()

    async def cancel_order(self, ref: str) -> OrderState:
        now = self._advance()
        working = self._known_order(ref)
        if working.is_live:
            working.status = OrderStatus.CANCELLED
            self._touch(working, now)
        self._commit()
        return working.state()

    async def order_state(self, ref: str) -> OrderState | None:
        self._advance()
        self._commit()
        working = self._order(ref)
        return working.state() if working else None

    async def open_orders(self) -> list[OrderState]:
        self._advance()
        self._commit()
        return [w.state() for w in self.state.orders.values() if w.is_live]

    async def executions(self, since: datetime | None = None) -> list[Fill]:
        """Return the executions at or after `since` (all when None), oldest first.

        Older than the window held in memory, they come from the venue file; a venue without
        a file answers with the window only (as IB answers only recent executions).
        """
        self._advance()
        self._commit()
        in_memory = self._forgot_before is None or (
            since is not None and since >= self._forgot_before
        )
        if in_memory or self.store is None:
            return [f for f in self.state.executions if since is None or f.time >= since]
        return self.store.executions_since(since)

    # -- matching --------------------------------------------------------------------------
    def _leg_quotes(self, legs: Sequence[Leg], now: datetime) -> list[Quote] | None:
        options = [leg.contract for leg in legs if isinstance(leg.contract, OptionContract)]
        futures = [leg.contract for leg in legs if isinstance(leg.contract, FutureContract)]
        by_key = {q.contract.key: q.quote for q in self.market.option_quotes(options, now)}
        by_key.update({q.contract.key: q for q in self.market.future_quotes(futures, now)})
        quotes = [by_key[leg.contract.key] for leg in legs]
        if any(q.problem() is not None for q in quotes):
            return None
        return quotes

    def _try_fill(self, working: WorkingOrder, now: datetime) -> None:
        if working.last_match_at == now:
            return  # what was displayed at this instant has been taken
        order = working.order
        quotes = self._leg_quotes(order.legs, now)
        if quotes is None:
            return  # no sane market: the order rests
        natural, leg_prices = combo_natural(order.legs, quotes)
        if working.limit_price < natural - PRICE_EPSILON:
            return
        available = min(
            _displayed(q, leg.side) // leg.ratio for leg, q in zip(order.legs, quotes, strict=True)
        )
        units = min(order.quantity - working.filled, int(available))
        if units <= 0:
            return
        for leg, price in zip(order.legs, leg_prices, strict=True):
            self._execute(order.ref, leg.contract, leg.signed_ratio * units, price, now)
        before = working.filled
        working.filled += units
        previous = working.avg_fill_price or 0.0
        working.avg_fill_price = (previous * before + natural * units) / working.filled
        working.status = (
            OrderStatus.FILLED if working.filled == order.quantity else OrderStatus.PARTIAL
        )
        working.last_match_at = now
        self._touch(working, now)

    def _execute(
        self, ref: str, contract: Held, signed_qty: int, price: float, now: datetime
    ) -> None:
        product = product_of(contract)
        assert product is not None  # orders for unlisted products are rejected earlier
        quantity = abs(signed_qty)
        charge = self.fees.charge(product, quantity)
        self.state.execution_count += 1
        fill = Fill(
            exec_id=f"sim-{self.state.session}-{self.state.execution_count:06d}",
            order_ref=ref,
            contract=contract,
            side=Side.BUY if signed_qty > 0 else Side.SELL,
            quantity=quantity,
            price=price,
            commission=charge,
            time=now,
        )
        self.state.executions.append(fill)
        holding = self.state.holdings.setdefault(contract.key, Holding(contract))
        realized = _apply(holding, signed_qty, price * contract.multiplier)
        if product is Product.VIX_FUTURE:
            self.state.cash += realized - charge  # futures move cash only when they close
        else:
            self.state.cash -= signed_qty * contract.multiplier * price + charge
        if holding.quantity == 0:
            del self.state.holdings[contract.key]
        self._dirty = True

    # -- settlement ------------------------------------------------------------------------
    def _first_settlement(self) -> datetime | None:
        """Return the first instant a holding settles (None: nothing held)."""
        keys = tuple(self.state.holdings)
        if keys != self._next_settlement[0]:
            times = [
                self.market.listings.settlement_time(h.contract)
                for h in self.state.holdings.values()
            ]
            self._next_settlement = (keys, min(times, default=None))
        return self._next_settlement[1]

    def _settle_expired(self, now: datetime) -> None:
        listings = self.market.listings
        first = self._first_settlement()
        if first is not None and now >= first:
            self._settle_holdings(now)
        for ref in list(self._live):
            working = self.state.orders[ref]
            if working.is_live and any(
                now >= listings.last_trade_time(leg.contract) for leg in working.order.legs
            ):
                working.status = OrderStatus.CANCELLED
                working.message = "cancelled by the venue: a leg stopped trading"
                self._touch(working, now)

    def _settle_holdings(self, now: datetime) -> None:
        """Settle every holding whose settlement instant has come."""
        listings = self.market.listings
        for key, holding in list(self.state.holdings.items()):
            contract = holding.contract
            if now < listings.settlement_time(contract):
                continue
            settle = self.market.settlement_price(contract)
            if isinstance(contract, FutureContract):
                self.state.cash += holding.quantity * contract.multiplier * settle - holding.cost
                price = settle
            else:
                price = _intrinsic(contract, settle)
                self.state.cash += holding.quantity * contract.multiplier * price
            self.state.settlements.append(Settlement(now, contract, holding.quantity, price))
            self.state.settlement_count += 1
            del self.state.holdings[key]
            self._dirty = True


def combo_natural(legs: Sequence[Leg], quotes: Sequence[Quote]) -> tuple[float, list[float]]:
    """Return the natural net price of buying one unit of `legs`, and each leg's fill price.

    See the module docstring: legs fill inside their own books at prices that sum (by signed
    ratio) to the returned net price.
    """
    mids = [(q.bid + q.ask) / 2 for q in quotes]
    halves = [(q.ask - q.bid) / 2 for q in quotes]
    combo_mid = sum(leg.signed_ratio * m for leg, m in zip(legs, mids, strict=True))
    legged_half = sum(leg.ratio * h for leg, h in zip(legs, halves, strict=True))
    if len(legs) == 1:
        natural = combo_mid + legged_half
    else:
        rss = math.sqrt(sum((leg.ratio * h) ** 2 for leg, h in zip(legs, halves, strict=True)))
        stepped = math.ceil((combo_mid + rss) / COMBO_TICK - 1e-9) * COMBO_TICK
        natural = min(round(stepped, 2), combo_mid + legged_half)
    share = (natural - combo_mid) / legged_half if legged_half > 0 else 0.0
    prices = [m + leg.side.sign * h * share for leg, m, h in zip(legs, mids, halves, strict=True)]
    return natural, prices


def _displayed(quote: Quote, side: Side) -> int:
    size = quote.ask_size if side is Side.BUY else quote.bid_size
    return int(size) if math.isfinite(size) else 10**9


def _intrinsic(contract: OptionContract, settle: float) -> float:
    if contract.right is Right.CALL:
        return max(0.0, settle - contract.strike)
    return max(0.0, contract.strike - settle)


def _apply(holding: Holding, signed_qty: int, unit_cost: float) -> float:
    """Update quantity and cost basis; return the P&L realized by the reducing part."""
    if holding.quantity == 0 or (holding.quantity > 0) == (signed_qty > 0):
        holding.quantity += signed_qty
        holding.cost += signed_qty * unit_cost
        return 0.0
    closing = min(abs(signed_qty), abs(holding.quantity))
    per_unit = holding.cost / holding.quantity
    direction = 1 if signed_qty > 0 else -1
    realized = -direction * closing * (unit_cost - per_unit)
    holding.cost += direction * closing * per_unit
    holding.quantity += direction * closing
    rest = abs(signed_qty) - closing
    if rest:
        holding.quantity += direction * rest
        holding.cost += direction * rest * unit_cost
    return realized
