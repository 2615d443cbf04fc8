"""IbSession: the API session with IB Gateway/TWS, owned once and shared by composition.

- `connect()` opens the API session (`[ib] connect_timeout`), reads the managed account (no
  order is ever placed before it is known), and sets the market data type. An unreachable
  gateway, a handshake that never completes (a client id already in use) or a dropped socket
  raise BrokerUnavailable with what to check. The paper guard runs in the engine on
  `account()` and `port`.
- A dropped socket (the gateway restarts every night) starts a background task that retries
  with exponential backoff (`reconnect_initial` doubling up to `reconnect_max`), logging each
  attempt; every call made meanwhile raises BrokerUnavailable. After a reconnect, and after
  IB's 1101/1102 "connectivity restored" following a 1100, the `on_reconnected` callbacks run
  (the daemon hooks a reconcile there). During a 1100 (the gateway lost IB's servers, the
  socket is up) calls raise BrokerUnavailable until 1101/1102.
- "Not subscribed" answers (354, 10089, 10090, 10167) switch the session to delayed data
  (type 3) with one warning; `data_type` tells the market data which type a request met.
- Requests go through `call` (an awaited request) and `send` (a fire-and-forget message),
  which turn timeouts and a lost connection into BrokerUnavailable; `ready()` is the guard
  every request starts with. The clock is injected (`now`, `today` in New York).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import TypeVar

import structlog

from broker.calendar import NY, TradingCalendar, default_calendar
from broker.errors import BrokerUnavailable
from broker.ib import ib_api, mapping
from broker.ib.settings import IbSettings

log = structlog.get_logger("alvh.ib")

T = TypeVar("T")
ReconnectHook = Callable[[], Awaitable[object]]

DELAYED = 3
POLL_SECONDS = 0.02
ERRORS_KEPT = 50


class IbSession:
    """The connection to IB: its life cycle, its error handler and the request wrappers."""

    def __init__(
        self,
        settings: IbSettings,
        *,
        ib: ib_api.IB | None = None,
        clock: Callable[[], datetime] | None = None,
        calendar: TradingCalendar | None = None,
    ) -> None:
        self.settings = settings
        self.ib = ib if ib is not None else ib_api.IB()
        self.on_reconnected: list[ReconnectHook] = []
        self._clock = clock or (lambda: datetime.now(UTC))
        self._calendar = calendar
        self._account: str | None = None
        self._data_type = settings.market_data_type_code
        self._closing = False
        self._session_up = False
        self._servers_down = False
        self._reconnect_task: asyncio.Task[None] | None = None
        self._reconnect_attempt = 0
        self._background: set[asyncio.Task[None]] = set()
        self._errors: list[tuple[int, int, str]] = []  # (reqId, code, text), the last 50
        self._error_count = 0
        self.ib.disconnectedEvent += self._on_disconnected
        self.ib.errorEvent += self._on_error

    # -- state -----------------------------------------------------------------------------
    @property
    def account_id(self) -> str | None:
        """Return the managed account read at connect, None before."""
        return self._account

    @property
    def data_type(self) -> int:
        """Return IB's market data type code the session asks for now (3: delayed)."""
        return self._data_type

    @property
    def market_data_type(self) -> str:
        """Return "live" or "delayed": what the session asks IB for now."""
        return "delayed" if self._data_type == DELAYED else "live"

    @property
    def state(self) -> str:
        """Return the connection state in words (for the daemon's heartbeat)."""
        if self._servers_down:
            return "connected; IB Gateway has lost IB's servers (1100)"
        if self._session_up and self.ib.isConnected():
            return f"connected ({self.market_data_type} data)"
        if self._reconnecting():
            return f"reconnecting (attempt {self._reconnect_attempt})"
        return "not connected"

    def _reconnecting(self) -> bool:
        return self._reconnect_task is not None and not self._reconnect_task.done()

    # -- life cycle ------------------------------------------------------------------------
    async def connect(self) -> None:
        """Open the API session and read the managed account; BrokerUnavailable if unreachable."""
        if self._session_up and self.ib.isConnected():
            return
        await self._stop_reconnecting()  # connect now instead of at the next attempt
        self._closing = False
        await self._open_session()

    async def disconnect(self) -> None:
        """Close the session and stop reconnecting."""
        self._closing = True
        self._session_up = False
        await self._stop_reconnecting()
        self.ib.disconnect()
        log.info("disconnected from IB")

    async def _stop_reconnecting(self) -> None:
        task = self._reconnect_task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _open_session(self) -> None:
        s = self.settings
        try:
            await self.ib.connectAsync(
                s.host, s.port, clientId=s.client_id, timeout=s.connect_timeout, account=s.account
            )
        except TimeoutError as exc:
            raise BrokerUnavailable(
                f"IB at {s.host}:{s.port} opened no API session within {s.connect_timeout:g} s: "
                f"is client id {s.client_id} already in use, or is the API not enabled?"
            ) from exc
        except (ConnectionError, OSError) as exc:
            raise BrokerUnavailable(
                f"IB Gateway/TWS is not reachable at {s.host}:{s.port} ({exc or type(exc).__name__}"
                "): is it running, with the API enabled on that port?"
            ) from exc
        try:
            account = mapping.choose_account(self.ib.managedAccounts(), s.account)
        except Exception:
            self.ib.disconnect()
            raise
        self._account = account
        self._servers_down = False
        self._session_up = True
        self._send_market_data_type()
        log.info(
            "connected to IB",
            host=s.host,
            port=s.port,
            client_id=s.client_id,
            account=account,
            library=ib_api.LIBRARY,
            market_data=self.market_data_type,
        )

    def _on_disconnected(self) -> None:
        if self._closing or not self._session_up:
            return  # our own disconnect, or a failed connect attempt
        self._session_up = False
        log.warning("IB connection lost: reconnecting", host=self.settings.host)
        self._start_reconnect()

    def _start_reconnect(self) -> None:
        if self._reconnecting():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.error("IB connection lost outside an event loop: not reconnecting")
            return
        self._reconnect_task = loop.create_task(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        attempt = 0
        while not self._closing:
            attempt += 1
            self._reconnect_attempt = attempt
            delay = self.settings.reconnect_delay(attempt)
            log.info("IB reconnect attempt", attempt=attempt, in_seconds=delay)
            await asyncio.sleep(delay)
            if self._closing:
                return
            try:
                await self._open_session()
            except Exception as exc:  # whatever went wrong, keep trying: it may be restarting
                log.warning("IB reconnect failed", attempt=attempt, error=str(exc))
                continue
            log.info("IB reconnected", attempts=attempt)
            await self._run_reconnected_hooks()
            return

    async def _run_reconnected_hooks(self) -> None:
        for hook in list(self.on_reconnected):
            try:
                await hook()
            except Exception as exc:  # one failing hook must not stop the others
                log.error("on_reconnected hook failed", hook=repr(hook), error=str(exc))

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            await work

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- IB's error messages ---------------------------------------------------------------
    def _on_error(self, req_id: int, code: int, message: str, contract: object = None) -> None:
        self._errors = [*self._errors[-(ERRORS_KEPT - 1) :], (req_id, code, message)]
        self._error_count += 1
        if code == mapping.CONNECTIVITY_LOST:
            if not self._servers_down:
                log.warning("IB Gateway lost its connection to IB (1100): calls wait for it")
            self._servers_down = True
        elif code in mapping.CONNECTIVITY_RESTORED:
            was_down = self._servers_down
            self._servers_down = False
            log.info("IB connectivity restored", code=code)
            self._send_market_data_type()
            if was_down:
                self._spawn(self._run_reconnected_hooks())
        elif code in mapping.DELAYED_DATA_AVAILABLE:
            self._fall_back_to_delayed(code, message)

    def _fall_back_to_delayed(self, code: int, message: str) -> None:
        if self._data_type == DELAYED:
            return
        self._data_type = DELAYED
        log.warning(
            "market data not subscribed: using delayed data (15-20 minutes old) from now on",
            code=code,
            ib_message=message,
        )
        self._send_market_data_type()

    def _send_market_data_type(self) -> None:
        if self.ib.isConnected():
            with contextlib.suppress(ConnectionError):  # a reconnect sends it again
                self.ib.reqMarketDataType(self._data_type)

    def error_mark(self) -> int:
        """Return a mark of IB's error messages so far (for `errors_since`)."""
        return self._error_count

    def errors_since(self, mark: int) -> list[str]:
        """Return IB's error messages received since `mark` (at most the last 50), oldest first."""
        fresh = min(self._error_count - mark, len(self._errors))
        return [f"IB {code}: {text}" for _, code, text in self._errors[-fresh:]] if fresh else []

    # -- requests --------------------------------------------------------------------------
    def ready(self) -> ib_api.IB:
        """Return the IB client when calls can be made; else raise BrokerUnavailable."""
        if not (self._session_up and self.ib.isConnected()):
            if self._reconnecting():
                raise BrokerUnavailable(f"IB is reconnecting (attempt {self._reconnect_attempt})")
            raise BrokerUnavailable("not connected to IB")
        if self._servers_down:
            raise BrokerUnavailable("IB Gateway has lost its connection to IB's servers (1100)")
        return self.ib

    def require_account(self) -> str:
        """Return the managed account; BrokerUnavailable before it is read."""
        if self._account is None:
            raise BrokerUnavailable("the IB account is not known yet: connect first")
        return self._account

    async def call(self, work: Awaitable[T], what: str, timeout: float | None = None) -> T:
        """Await an IB request; BrokerUnavailable on a timeout or a lost connection."""
        limit = timeout or self.settings.request_timeout
        try:
            return await asyncio.wait_for(work, limit)
        except TimeoutError as exc:
            raise BrokerUnavailable(f"IB did not answer {what} within {limit:g} s") from exc
        except (ConnectionError, OSError) as exc:
            raise BrokerUnavailable(f"IB connection lost during {what}: {exc}") from exc

    def send(self, send: Callable[[], T], what: str) -> T:
        """Send a message to IB; BrokerUnavailable when the connection is lost."""
        try:
            return send()
        except (ConnectionError, OSError) as exc:
            raise BrokerUnavailable(f"IB connection lost sending {what}: {exc}") from exc

    async def wait_until(self, done: Callable[[], bool], timeout: float) -> bool:
        """Poll `done` until true (True), the timeout or a dropped connection (False)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done():
            if loop.time() >= deadline or not self.ib.isConnected():
                return False
            await asyncio.sleep(POLL_SECONDS)
        return True

    # -- time ------------------------------------------------------------------------------
    def now(self) -> datetime:
        """Return the injected clock's time."""
        return self._clock()

    def today(self) -> date:
        """Return today's date in New York."""
        return self.now().astimezone(NY).date()

    def trading_calendar(self) -> TradingCalendar:
        """Return the trading calendar (the default one, loaded on first use)."""
        if self._calendar is None:
            self._calendar = default_calendar()
        return self._calendar
