"""IbBroker: the Broker protocol on IB Gateway or TWS, through ib_async (or ib_insync).

A facade: each concern lives in a module of its own, composed here around one session, and
every translation is in broker.ib.mapping and broker.ib.local_greeks.
- session.py         `IbSession`: connect/disconnect, reconnect with backoff after a dropped
                     socket, calls refused during a 1100, `on_reconnected` hooks, delayed data
                     on "not subscribed", the request wrappers raising BrokerUnavailable
- contract_cache.py  `ContractCache`: contracts qualified once, conIds cached, unknown ones
                     remembered for the day; an order's contract (a leg or one BAG)
- market_data.py     `IbMarketData`: snapshot quotes in bursts, local greeks, daily bars
- listings.py        `IbListings`: option expiries and strikes, futures listed (per day)
- orders.py          `IbOrders`: place, modify, cancel, order states, executions
- account.py         `IbAccount`: balances, positions, what-if (IB's or estimated) margin
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from broker.account import AccountSnapshot, MarginImpact, Position
from broker.calendar import TradingCalendar
from broker.contracts import FutureContract, IndexContract, OptionContract
from broker.ib import ib_api
from broker.ib.account import IbAccount
from broker.ib.contract_cache import ContractCache
from broker.ib.listings import IbListings
from broker.ib.market_data import IbMarketData
from broker.ib.orders import IbOrders
from broker.ib.session import IbSession, ReconnectHook
from broker.ib.settings import IbSettings
from broker.market import DailyBar, OptionQuote, Quote
from broker.orders import Fill, Order, OrderState


class IbBroker:
    """The Broker protocol on IB Gateway/TWS (see the module docstring for its parts)."""

    def __init__(
        self,
        settings: IbSettings,
        *,
        ib: ib_api.IB | None = None,
        clock: Callable[[], datetime] | None = None,
        calendar: TradingCalendar | None = None,
    ) -> None:
        self.settings = settings
        self._session = IbSession(settings, ib=ib, clock=clock, calendar=calendar)
        contracts = ContractCache(self._session)
        self._market_data = IbMarketData(self._session, contracts)
        self._listings = IbListings(self._session, contracts)
        self._orders = IbOrders(self._session, contracts)
        self._account = IbAccount(self._session, contracts, self._market_data)

    # -- session ---------------------------------------------------------------------------
    @property
    def ib(self) -> ib_api.IB:
        """Return the ib_async (or ib_insync) client of the session."""
        return self._session.ib

    @property
    def on_reconnected(self) -> list[ReconnectHook]:
        """Return the callbacks run after a reconnect or IB's connectivity restored."""
        return self._session.on_reconnected

    @property
    def port(self) -> int:
        """Return the gateway port (the engine's paper guard refuses live ports)."""
        return self.settings.port

    @property
    def account_id(self) -> str | None:
        """Return the managed account read at connect, None before."""
        return self._session.account_id

    @property
    def market_data_type(self) -> str:
        """Return "live" or "delayed": what the session asks IB for now."""
        return self._session.market_data_type

    @property
    def state(self) -> str:
        """Return the connection state in words (for the daemon's heartbeat)."""
        return self._session.state

    async def connect(self) -> None:
        """Open the API session and read the managed account; BrokerUnavailable if unreachable."""
        await self._session.connect()

    async def disconnect(self) -> None:
        """Close the session and stop reconnecting."""
        await self._session.disconnect()

    # -- the rest of the Broker protocol (broker.protocol documents each method) -----------
    async def account(self) -> AccountSnapshot:
        return await self._account.account()

    async def positions(self) -> list[Position]:
        return await self._account.positions()

    async def what_if(self, order: Order) -> MarginImpact:
        return await self._account.what_if(order)

    async def index_quote(self, index: IndexContract) -> Quote:
        return await self._market_data.index_quote(index)

    async def daily_bars(self, index: IndexContract, days: int) -> list[DailyBar]:
        return await self._market_data.daily_bars(index, days)

    async def option_quotes(self, contracts: Sequence[OptionContract]) -> list[OptionQuote]:
        return await self._market_data.option_quotes(contracts)

    async def future_quotes(self, contracts: Sequence[FutureContract]) -> list[Quote]:
        return await self._market_data.future_quotes(contracts)

    async def option_expiries(self, symbol: str, trading_class: str) -> list[date]:
        return await self._listings.option_expiries(symbol, trading_class)

    async def option_strikes(self, symbol: str, trading_class: str, expiry: date) -> list[float]:
        return await self._listings.option_strikes(symbol, trading_class, expiry)

    async def future_expiries(self, symbol: str, trading_class: str) -> list[date]:
        return await self._listings.future_expiries(symbol, trading_class)

    async def place_order(self, order: Order) -> OrderState:
        return await self._orders.place_order(order)

    async def modify_order(self, ref: str, limit_price: float) -> OrderState:
        return await self._orders.modify_order(ref, limit_price)

    async def cancel_order(self, ref: str) -> OrderState:
        return await self._orders.cancel_order(ref)

    async def order_state(self, ref: str) -> OrderState | None:
        return await self._orders.order_state(ref)

    async def open_orders(self) -> list[OrderState]:
        return await self._orders.open_orders()

    async def executions(self, since: datetime | None = None) -> list[Fill]:
        return await self._orders.executions(since)
