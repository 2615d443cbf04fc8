"""FakeGateway: an IB Gateway on loopback that speaks the TWS wire protocol over a SimExchange.

The gateway translates; the venue decides prices, fills, positions, cash and margin. Resting
orders fill as the venue's (virtual) clock moves: every POLL_INTERVAL wall seconds, when the
clock has moved, the gateway brings the venue to it, reports executions and status changes,
refreshes market-data streams and (every 3 venue minutes) account subscribers. The same
happens after every request. `restart()` drops every client, refuses connections for the
downtime, and listens again on the same port with the same venue and order records, like the
nightly gateway restart. The knobs below break things on purpose for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from broker.errors import AlvhError
from broker.sim.exchange import SimExchange

from .account import push_if_due
from .core import GatewayCore, Received
from .executions import adopt_all, report_activity
from .knobs import OrderDisconnect
from .market_data import stream
from .messages import error
from .orders import PlaceOrderRequest, read_place_order
from .session import Session
from .wire import FieldReader, Fields

log = logging.getLogger("fake_gateway")
POLL_INTERVAL = 0.02
CONNECTIVITY_LOST = "Connectivity between IB and Trader Workstation has been lost."
RESTORED_MAINTAINED = (
    "Connectivity between IB and Trader Workstation has been restored - data maintained. "
    "All data farms are connected: usfarm; ushmds; secdefil."
)
RESTORED_LOST = "Connectivity between IB and Trader Workstation has been restored - data lost."
DEFAULT_REJECT = (
    "YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION YOUR EQUITY WITH "
    "LOAN VALUE MUST EXCEED THE INITIAL MARGIN"
)


class FakeGateway:
    """A fake IB Gateway backed by a simulated exchange (see the module docstring)."""

    def __init__(
        self,
        exchange: SimExchange,
        account_id: str = "DU1234567",
        server_version: int = 176,
        host: str = "127.0.0.1",
    ) -> None:
        self.host = host
        self.port = 0
        self.poll_interval = POLL_INTERVAL
        self._core = GatewayCore(exchange, account_id, server_version)
        self._server: asyncio.Server | None = None
        self._poller: asyncio.Task[None] | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._last_clock: datetime | None = None

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> int:
        """Bind a free port (or the one given before), start polling; return the port."""
        core = self._core
        core.exec_cursor = len(core.exchange.state.executions)  # old fills are not news
        core.settlement_cursor = len(core.exchange.state.settlements)
        adopt_all(core)
        for fill in core.exchange.state.executions:
            record = core.book.by_venue_ref(fill.order_ref)
            if record is not None:
                record.reported.add(fill.exec_id)
        await self._listen()
        self._poller = asyncio.create_task(self._poll_loop())
        return self.port

    async def stop(self) -> None:
        """Stop polling, drop every client and stop listening."""
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        await self._close_listener()

    async def restart(self, downtime: float = 0.0) -> None:
        """Drop every client, refuse connections for `downtime` seconds, listen again."""
        await self._close_listener()
        await asyncio.sleep(downtime)
        await self._listen()

    async def disconnect_clients(self) -> None:
        """Close every client's socket now (the gateway keeps listening)."""
        for client in list(self._core.clients):
            client.close()
        await self._wait_connections()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close_listener(self) -> None:
        if self._server is not None:
            self._server.close()
            for client in list(self._core.clients):
                client.close()
            await self._server.wait_closed()
            self._server = None
        await self._wait_connections()

    async def _wait_connections(self) -> None:
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=2.0)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(self._core, reader, writer)
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self._core.clients.append(session)
        try:
            await session.run()
        finally:
            self._core.clients.remove(session)
            self._connections.discard(task)

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                await self.sync()
            except AlvhError as exc:  # venue closed or out of history: nothing to report
                log.debug("fake gateway poll: %s", exc)
            except Exception:
                log.exception("fake gateway poll failed")

    async def sync(self) -> None:
        """Bring the venue to its clock and tell clients what changed (what the poll does)."""
        core = self._core
        async with core.lock:
            now = core.now()
            moved = now != self._last_clock
            if moved:
                self._last_clock = now
                await core.exchange.open_orders()  # the venue matches resting orders
            await report_activity(core)
            if moved:
                await stream(core)
                await push_if_due(core)

    # -- knobs -----------------------------------------------------------------------------
    @property
    def account_id(self) -> str:
        """Return the account the gateway is logged in to."""
        return self._core.account_id

    @account_id.setter
    def account_id(self, value: str) -> None:
        """Log the gateway in to another account (clients see it from their next session)."""
        self._core.account_id = value

    @property
    def live_data_subscribed(self) -> bool:
        """False: live market data requests get error 354 (delayed ones 10167 + data)."""
        return self._core.knobs.live_data_subscribed

    @live_data_subscribed.setter
    def live_data_subscribed(self, value: bool) -> None:
        self._core.knobs.live_data_subscribed = value

    def drop_next_reply(self, msg_id: int, count: int = 1) -> None:
        """Leave the next `count` requests with message id `msg_id` unanswered."""
        self._core.knobs.drops[msg_id] += count

    def delay_replies(self, seconds: float, msg_id: int | None = None) -> None:
        """Wait `seconds` before answering requests of `msg_id` (None: every request)."""
        self._core.knobs.delays[msg_id] = seconds

    def disconnect_on_next(self, msg_id: int) -> None:
        """Close the client's socket when its next request with `msg_id` arrives."""
        self._core.knobs.disconnects[msg_id] += 1

    def disconnect_on_next_order(self, point: OrderDisconnect = OrderDisconnect.AFTER_ACK) -> None:
        """Close the socket of the client that sends the next order, at `point`."""
        self._core.knobs.order_disconnect = point

    def reject_next_order(
        self, reason: str = DEFAULT_REJECT, status: str = "Inactive", count: int | None = 1
    ) -> None:
        """Refuse the next `count` new orders (None: every one from now on) with error 201, then
        `status` (Inactive as TWS mostly does, or Cancelled); they never reach the venue.
        What-ifs and modifications are answered as usual."""
        if status not in ("Inactive", "Cancelled"):
            raise ValueError(f"a rejected order ends Inactive or Cancelled, not {status!r}")
        if count is not None and count < 1:
            raise ValueError(f"count is a number of orders (>= 1) or None, not {count!r}")
        knobs = self._core.knobs
        knobs.reject_reason, knobs.reject_status, knobs.rejects_left = reason, status, count

    def connectivity_lost(self) -> None:
        """Tell every client: error 1100, connectivity between IB and TWS lost."""
        self._core.broadcast(error(-1, 1100, CONNECTIVITY_LOST))

    def connectivity_restored(self, data_lost: bool = False) -> None:
        """Tell every client: 1102 (data maintained) or 1101 (data lost)."""
        code, text = (1101, RESTORED_LOST) if data_lost else (1102, RESTORED_MAINTAINED)
        self._core.broadcast(error(-1, code, text))

    def send_raw(self, fields: Fields) -> None:
        """Send any message to every client (to check how a client copes with it)."""
        self._core.broadcast(fields)

    # -- records ---------------------------------------------------------------------------
    @property
    def exchange(self) -> SimExchange:
        return self._core.exchange

    @property
    def server_version(self) -> int:
        return self._core.server_version

    @property
    def received(self) -> list[Received]:
        """Every message the clients sent, in arrival order."""
        return list(self._core.received)

    def requests(self, msg_id: int) -> list[Received]:
        """Return the received messages with one message id."""
        return [r for r in self._core.received if r.msg_id == msg_id]

    def orders_received(self, order_ref: str | None = None) -> list[PlaceOrderRequest]:
        """Return the placeOrder messages (not what-ifs, modifications included) received,
        optionally only those carrying `order_ref`."""
        decoded = [read_place_order(FieldReader(r.fields, 1), r.version) for r in self.requests(3)]
        return [
            o for o in decoded if not o.what_if and (order_ref is None or o.order_ref == order_ref)
        ]

    @property
    def client_ids(self) -> list[int]:
        """The client ids connected now."""
        return [c.client_id for c in self._core.open_clients() if c.client_id is not None]
