"""The gateway's shared state: the venue, conIds, orders, knobs, connected clients.

Every handler and the poll loop work on one GatewayCore. `lock` serializes everything that
touches the venue and reports order activity, so a client never sees an execution before
the acknowledgement of its order, and one execution is never reported twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from broker.sim.exchange import SimExchange

from .contracts import ContractRegistry
from .knobs import Knobs
from .orders import OrderBook
from .ticks import Subscription
from .wire import Fields


@dataclass(frozen=True, slots=True)
class Received:
    """One message a client sent: its client id (None before startApi), message id, fields
    and the server version negotiated with that client."""

    client_id: int | None
    msg_id: int
    fields: tuple[str, ...]
    version: int


class Client(Protocol):
    """What the core needs of a connected client (tests.fake_gateway.session.Session)."""

    client_id: int | None
    version: int
    market_data_type: int
    subscriptions: dict[int, Subscription]
    wants_positions: bool
    wants_account: bool

    @property
    def is_open(self) -> bool: ...

    def send(self, fields: Fields) -> None: ...

    def close(self) -> None: ...


class GatewayCore:
    """State shared by the connections of one fake gateway (it survives restarts)."""

    def __init__(self, exchange: SimExchange, account_id: str, server_version: int) -> None:
        self.exchange = exchange
        self.account_id = account_id
        self.server_version = server_version
        self.registry = ContractRegistry()
        self.book = OrderBook()
        self.knobs = Knobs()
        self.clients: list[Client] = []
        self.received: list[Received] = []
        self.lock = asyncio.Lock()
        self.exec_cursor = 0
        self.settlement_cursor = 0
        self.last_account_push: datetime | None = None

    def now(self) -> datetime:
        """Return the venue's clock (virtual time)."""
        return self.exchange.clock()

    def open_clients(self) -> list[Client]:
        return [c for c in self.clients if c.is_open and c.client_id is not None]

    def owners(self, client_id: int) -> list[Client]:
        """Return the clients that hear about an order: its own client and master clients
        (everyone, for orders adopted from the venue with client id 0)."""
        if client_id == 0:
            return self.open_clients()
        return [c for c in self.open_clients() if c.client_id in (client_id, 0)]

    def send_to(self, clients: Sequence[Client], fields: Fields) -> None:
        for client in clients:
            client.send(fields)

    def broadcast(self, fields: Fields) -> None:
        self.send_to(self.open_clients(), fields)
