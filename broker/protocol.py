"""The Broker protocol: what the bot needs from any venue, in domain types only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from broker.account import AccountSnapshot, MarginImpact, Position
from broker.contracts import FutureContract, IndexContract, OptionContract
from broker.market import DailyBar, OptionQuote, Quote
from broker.orders import Fill, Order, OrderState


class Broker(Protocol):
    """A venue: the simulated paper exchange or Interactive Brokers."""

    async def connect(self) -> None:
        """Open the session; raise BrokerUnavailable when the venue cannot be reached."""

    async def disconnect(self) -> None:
        """Close the session."""

    async def account(self) -> AccountSnapshot:
        """Return balances and margin now."""

    async def positions(self) -> list[Position]:
        """Return every non-zero position."""

    async def index_quote(self, index: IndexContract) -> Quote:
        """Return the current quote of an index."""

    async def daily_bars(self, index: IndexContract, days: int) -> list[DailyBar]:
        """Return up to `days` completed daily bars of an index, oldest first (none of today).

        SPX and VIX bars are prices; AD-NYSE bars carry NYSE net advances of each session.
        """

    async def option_expiries(self, symbol: str, trading_class: str) -> list[date]:
        """Return the listed expiries of an option class, ascending."""

    async def option_strikes(self, symbol: str, trading_class: str, expiry: date) -> list[float]:
        """Return the listed strikes of one expiry, ascending."""

    async def option_quotes(self, contracts: Sequence[OptionContract]) -> list[OptionQuote]:
        """Return quotes with greeks, in the order asked (NaN fields where unknown)."""

    async def future_expiries(self, symbol: str, trading_class: str) -> list[date]:
        """Return the listed expiries of a futures class (VIX: trading class VX), ascending."""

    async def future_quotes(self, contracts: Sequence[FutureContract]) -> list[Quote]:
        """Return futures quotes in the order asked (NaN fields where unknown)."""

    async def what_if(self, order: Order) -> MarginImpact:
        """Return the margin and excess liquidity the account would have after `order` fills."""

    async def place_order(self, order: Order) -> OrderState:
        """Send a limit order; the venue keeps `order.ref` so a restart can find it."""

    async def modify_order(self, ref: str, limit_price: float) -> OrderState:
        """Change the limit of a working order."""

    async def cancel_order(self, ref: str) -> OrderState:
        """Cancel a working order; a filled order stays filled."""

    async def order_state(self, ref: str) -> OrderState | None:
        """Return the state of an order by its reference, or None when the venue never saw it."""

    async def open_orders(self) -> list[OrderState]:
        """Return the orders still working."""

    async def executions(self, since: datetime | None = None) -> list[Fill]:
        """Return executions (per leg, with commissions), optionally since a time."""
