"""IbBroker: the Broker protocol on IB Gateway or TWS, through ib_async (or ib_insync).

This module does the I/O; every translation is in broker.ib.mapping and broker.ib.local_greeks.

Session
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
Market data
- Snapshots (`reqTickersAsync`) in bursts of `snapshot_batch` contracts. "Not subscribed"
  answers (354, 10089, 10090, 10167) switch the session to delayed data (type 3) with one
  warning, and the request that met it is asked again once.
- Option greeks are IB's model greeks; when they are missing or NaN they are computed locally
  (broker.ib.local_greeks) on the SPX index or on the VIX future of the option's expiry.
- Contracts are qualified once and their conIds cached; contracts IB does not know are
  remembered for the day and quote as NaN (never traded). Chains and futures listings are
  cached per day; an expiry's strikes come from its contract details (which also fill the
  conId cache), falling back to reqSecDefOptParams' strikes of the whole class.
Orders and fills
- An order whose `ref` IB already has is never sent again: its state is returned.
- `executions()` returns leg fills with IB's commission: it waits up to `commission_timeout`
  for each commission report and, if one is still missing, raises BrokerUnavailable rather
  than report a fill with a made-up commission (the journal keeps the first version of each
  execution); the job is skipped and the next call or reconcile journals it complete.
- `what_if()` asks IB (`whatIfOrderAsync`); with `[ib] what_if = false` it estimates from
  IB's current maintenance margin plus the change of the risk-based margin of
  broker.margin over the positions with and without the order.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from typing import TypeVar

import structlog

from broker.account import AccountSnapshot, MarginImpact, Position
from broker.calendar import NY, TradingCalendar, default_calendar
from broker.contracts import Contract as DomainContract
from broker.contracts import (
    FutureContract,
    IndexContract,
    OptionContract,
    Right,
    TradableContract,
)
from broker.errors import BrokerUnavailable, OrderRejected
from broker.ib import ib_api, local_greeks, mapping
from broker.ib.settings import IbSettings
from broker.margin import portfolio_margin
from broker.market import DailyBar, OptionQuote, Quote, is_usable_price
from broker.orders import Fill, Order, OrderState, OrderStatus

log = structlog.get_logger("alvh.ib")

T = TypeVar("T")
ReconnectHook = Callable[[], Awaitable[object]]

DELAYED = 3
POLL_SECONDS = 0.02
PENDING_IB_STATUSES = frozenset({"", "PendingSubmit", "ApiPending"})
MODIFY_SENT = "Modify"  # the trade log entry both libraries add when a modification is sent


class IbBroker:
    """The Broker protocol on IB Gateway/TWS (see the module docstring for its behaviour)."""

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
        self._contracts: dict[str, ib_api.Contract] = {}
        self._unknown: dict[str, date] = {}
        self._chains: dict[str, tuple[date, list[ib_api.OptionChain]]] = {}
        self._expiries: dict[tuple[str, str], tuple[date, list[date]]] = {}
        self._strikes: dict[tuple[str, str, date], tuple[date, list[float]]] = {}
        self._futures: dict[tuple[str, str], tuple[date, list[date]]] = {}
        self._unit_ratios: dict[str, int] = {}
        self.ib.disconnectedEvent += self._on_disconnected
        self.ib.errorEvent += self._on_error

    # -- session ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """Return the gateway port (the engine's paper guard refuses live ports)."""
        return self.settings.port

    @property
    def account_id(self) -> str | None:
        """Return the managed account read at connect, None before."""
        return self._account

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
        if self._reconnect_task is not None and not self._reconnect_task.done():
            return f"reconnecting (attempt {self._reconnect_attempt})"
        return "not connected"

    async def connect(self) -> None:
        """Open the API session and read the managed account; BrokerUnavailable if unreachable."""
        if self._session_up and self.ib.isConnected():
            return
        task = self._reconnect_task
        if task is not None and not task.done():  # connect now instead of at the next attempt
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._closing = False
        await self._open_session()

    async def disconnect(self) -> None:
        """Close the session and stop reconnecting."""
        self._closing = True
        self._session_up = False
        task = self._reconnect_task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self.ib.disconnect()
        log.info("disconnected from IB")

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
        if self._reconnect_task is not None and not self._reconnect_task.done():
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

    def _on_error(self, req_id: int, code: int, message: str, contract: object = None) -> None:
        self._errors = [*self._errors[-49:], (req_id, code, message)]
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

    def _errors_since(self, mark: int) -> list[str]:
        fresh = min(self._error_count - mark, len(self._errors))
        return [f"IB {code}: {text}" for _, code, text in self._errors[-fresh:]] if fresh else []

    # -- helpers ---------------------------------------------------------------------------
    def _ready(self) -> ib_api.IB:
        """Return the IB client when calls can be made; else raise BrokerUnavailable."""
        if not (self._session_up and self.ib.isConnected()):
            if self._reconnect_task is not None and not self._reconnect_task.done():
                raise BrokerUnavailable(f"IB is reconnecting (attempt {self._reconnect_attempt})")
            raise BrokerUnavailable("not connected to IB")
        if self._servers_down:
            raise BrokerUnavailable("IB Gateway has lost its connection to IB's servers (1100)")
        return self.ib

    def _account_id(self) -> str:
        if self._account is None:
            raise BrokerUnavailable("the IB account is not known yet: connect first")
        return self._account

    async def _call(self, work: Awaitable[T], what: str, timeout: float | None = None) -> T:
        limit = timeout or self.settings.request_timeout
        try:
            return await asyncio.wait_for(work, limit)
        except TimeoutError as exc:
            raise BrokerUnavailable(f"IB did not answer {what} within {limit:g} s") from exc
        except (ConnectionError, OSError) as exc:
            raise BrokerUnavailable(f"IB connection lost during {what}: {exc}") from exc

    def _send(self, send: Callable[[], T], what: str) -> T:
        try:
            return send()
        except (ConnectionError, OSError) as exc:
            raise BrokerUnavailable(f"IB connection lost sending {what}: {exc}") from exc

    async def _wait_until(self, done: Callable[[], bool], timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done():
            if loop.time() >= deadline or not self.ib.isConnected():
                return False
            await asyncio.sleep(POLL_SECONDS)
        return True

    def _now(self) -> datetime:
        return self._clock()

    def _today(self) -> date:
        return self._now().astimezone(NY).date()

    def _trading_calendar(self) -> TradingCalendar:
        if self._calendar is None:
            self._calendar = default_calendar()
        return self._calendar

    async def _qualify(self, contracts: Sequence[DomainContract]) -> list[ib_api.Contract | None]:
        """Return each contract's qualified IB contract (cached), None where IB knows none."""
        today = self._today()
        todo: dict[str, ib_api.Contract] = {}
        for contract in contracts:
            key = contract.key
            if key in self._contracts or self._unknown.get(key) == today or key in todo:
                continue
            todo[key] = mapping.ib_contract(contract)
        if todo:
            ib = self._ready()
            await self._call(
                ib.qualifyContractsAsync(*todo.values()), f"lookup of {len(todo)} contracts"
            )
            for key, found in todo.items():  # qualified in place: a conId means IB knows it
                if found.conId:
                    self._contracts[key] = found
                else:
                    self._unknown[key] = today
                    log.warning("IB does not know this contract", contract=key)
        return [self._contracts.get(c.key) for c in contracts]

    def _remember(self, pairs: Sequence[tuple[TradableContract, ib_api.Contract]]) -> None:
        for domain, contract in pairs:
            if contract.secType == "OPT":
                contract.exchange = mapping.OPTION_ROUTE
            self._contracts.setdefault(domain.key, contract)

    async def _snapshots(self, contracts: Sequence[ib_api.Contract]) -> dict[int, ib_api.Ticker]:
        """Return snapshot tickers by conId, in bursts of `snapshot_batch`."""
        unique = list({c.conId: c for c in contracts}.values())
        out: dict[int, ib_api.Ticker] = {}
        step = self.settings.snapshot_batch
        for start in range(0, len(unique), step):
            for ticker in await self._snapshot_burst(unique[start : start + step]):
                if ticker.contract is not None:
                    out[ticker.contract.conId] = ticker
        return out

    async def _snapshot_burst(self, contracts: Sequence[ib_api.Contract]) -> list[ib_api.Ticker]:
        ib = self._ready()
        data_type = self._data_type
        what = f"quotes of {len(contracts)} contracts"
        tickers = await self._call(ib.reqTickersAsync(*self._fresh(contracts)), what)
        if self._data_type != data_type:  # switched to delayed during the request: ask again
            tickers = await self._call(self._ready().reqTickersAsync(*self._fresh(contracts)), what)
        return tickers

    def _fresh(self, contracts: Sequence[ib_api.Contract]) -> Sequence[ib_api.Contract]:
        """Blank the library's cached ticker of each contract before a new snapshot."""
        for contract in contracts:
            ticker = self.ib.ticker(contract)
            if ticker is not None:
                mapping.reset_ticker(ticker)
        return contracts

    # -- market data -----------------------------------------------------------------------
    async def index_quote(self, index: IndexContract) -> Quote:
        self._ready()
        now = self._now()
        [contract] = await self._qualify([index])
        if contract is None:
            return mapping.index_quote(index, None, now)
        tickers = await self._snapshots([contract])
        return mapping.index_quote(index, tickers.get(contract.conId), now)

    async def daily_bars(self, index: IndexContract, days: int) -> list[DailyBar]:
        ib = self._ready()
        if days <= 0:
            return []
        [contract] = await self._qualify([index])
        if contract is None:
            return []
        bars = await self._call(
            ib.reqHistoricalDataAsync(
                contract,
                endDateTime="",
                durationStr=mapping.history_duration(days),
                barSizeSetting="1 day",
                whatToShow="TRADES",
                useRTH=True,
                formatDate=1,
                timeout=0,  # the adapter's own timeout applies (and raises)
            ),
            f"daily bars of {index.key}",
            self.settings.history_timeout,
        )
        return mapping.completed_bars(bars, self._now(), self._trading_calendar())[-days:]

    async def _option_params(self, symbol: str) -> list[ib_api.OptionChain]:
        today = self._today()
        cached = self._chains.get(symbol)
        if cached is not None and cached[0] == today:
            return cached[1]
        ib = self._ready()
        [underlying] = await self._qualify([IndexContract(symbol)])
        if underlying is None:
            return []
        chains = await self._call(
            ib.reqSecDefOptParamsAsync(symbol, "", "IND", underlying.conId),
            f"option classes of {symbol}",
        )
        if chains:
            self._chains[symbol] = (today, list(chains))
        return list(chains)

    async def option_expiries(self, symbol: str, trading_class: str) -> list[date]:
        today = self._today()
        cached = self._expiries.get((symbol, trading_class))
        if cached is not None and cached[0] == today:
            return list(cached[1])
        expiries = mapping.chain_expiries(await self._option_params(symbol), trading_class, today)
        if expiries:
            self._expiries[(symbol, trading_class)] = (today, expiries)
        return list(expiries)

    async def option_strikes(self, symbol: str, trading_class: str, expiry: date) -> list[float]:
        today = self._today()
        key = (symbol, trading_class, expiry)
        cached = self._strikes.get(key)
        if cached is not None and cached[0] == today:
            return list(cached[1])
        ib = self._ready()
        probe = ib_api.Option(
            symbol,
            mapping.ib_date(expiry),
            exchange=mapping.OPTION_ROUTE,
            currency=mapping.CURRENCY,
            tradingClass=trading_class,
        )
        details = await self._call(
            ib.reqContractDetailsAsync(probe),
            f"contracts of {trading_class} {expiry}",
            self.settings.history_timeout,
        )
        pairs = mapping.listed_contracts(details)
        self._remember(pairs)
        strikes = mapping.option_strikes([d for d, _ in pairs], trading_class, expiry)
        if not strikes:
            strikes = mapping.chain_strikes(await self._option_params(symbol), trading_class)
            log.info("strikes of the whole class used for one expiry", expiry=str(expiry))
        if strikes:
            self._strikes[key] = (today, strikes)
        return list(strikes)

    async def option_quotes(self, contracts: Sequence[OptionContract]) -> list[OptionQuote]:
        if not contracts:
            return []
        self._ready()
        now = self._now()
        qualified = await self._qualify(contracts)
        tickers = await self._snapshots([q for q in qualified if q is not None])
        quotes = [
            mapping.option_quote(c, tickers.get(q.conId) if q is not None else None, now)
            for c, q in zip(contracts, qualified, strict=True)
        ]
        return await self._with_local_greeks(quotes, now)

    async def _with_local_greeks(
        self, quotes: list[OptionQuote], now: datetime
    ) -> list[OptionQuote]:
        lacking = [q for q in quotes if not q.greeks.is_finite() and math.isfinite(q.quote.mid)]
        if not lacking:
            return quotes
        need = [q for q in lacking if not is_usable_price(q.underlying_price)]
        prices = await self._underlying_prices([q.contract for q in need])
        log.debug(
            "greeks computed locally: IB sent none",
            contracts=[q.contract.key for q in lacking],
        )
        return local_greeks.fill_missing_greeks(
            quotes, prices, now, self.settings.greeks_rate, self.settings.greeks_dividend_yield
        )

    async def _underlying_prices(self, options: Sequence[OptionContract]) -> dict[str, float]:
        """Return the price of each option's underlying (SPX index, VIX future) by key."""
        wanted: dict[str, IndexContract | FutureContract] = {}
        for option in options:
            underlying = local_greeks.underlying_of(option)
            if underlying is not None:
                wanted[underlying.key] = underlying
        prices: dict[str, float] = {}
        for underlying in wanted.values():
            if isinstance(underlying, IndexContract):
                prices[underlying.key] = (await self.index_quote(underlying)).price
        futures = [u for u in wanted.values() if isinstance(u, FutureContract)]
        for quote in await self.future_quotes(futures):
            prices[quote.contract.key] = quote.price
        return prices

    async def future_expiries(self, symbol: str, trading_class: str) -> list[date]:
        today = self._today()
        cached = self._futures.get((symbol, trading_class))
        if cached is not None and cached[0] == today:
            return list(cached[1])
        ib = self._ready()
        probe = ib_api.Future(symbol, exchange=mapping.FUTURE_EXCHANGE, currency=mapping.CURRENCY)
        details = await self._call(
            ib.reqContractDetailsAsync(probe), f"futures of {symbol}", self.settings.history_timeout
        )
        pairs = mapping.listed_contracts(details)
        self._remember(pairs)
        expiries = mapping.future_expiries([d for d, _ in pairs], trading_class, today)
        if expiries:
            self._futures[(symbol, trading_class)] = (today, expiries)
        return list(expiries)

    async def future_quotes(self, contracts: Sequence[FutureContract]) -> list[Quote]:
        if not contracts:
            return []
        self._ready()
        now = self._now()
        qualified = await self._qualify(contracts)
        tickers = await self._snapshots([q for q in qualified if q is not None])
        return [
            mapping.future_quote(c, tickers.get(q.conId) if q is not None else None, now)
            for c, q in zip(contracts, qualified, strict=True)
        ]

    # -- account ---------------------------------------------------------------------------
    async def account(self) -> AccountSnapshot:
        ib = self._ready()
        account = self._account_id()
        now = self._now()
        try:
            return mapping.account_snapshot(ib.accountValues(account), account, now)
        except BrokerUnavailable:  # no account updates (several accounts): ask for a summary
            summary = await self._call(ib.accountSummaryAsync(account), "the account summary")
            return mapping.account_snapshot(summary, account, now)

    async def positions(self) -> list[Position]:
        ib = self._ready()
        account = self._account_id()
        out = []
        for held in await self._call(ib.reqPositionsAsync(), "positions"):
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
        ib = self._ready()
        account = self._account_id()
        if not self.settings.what_if:
            return await self._estimated_margin(order)
        contract = await self._order_contract(order)
        if contract is None:
            raise BrokerUnavailable(f"what-if for {order.ref}: a leg is unknown to IB")
        ib_order = mapping.ib_limit_order(order, contract, account)
        snapshot = await self.account()
        mark = self._error_count
        answer = await self._call(ib.whatIfOrderAsync(contract, ib_order), f"what-if {order.ref}")
        try:
            return mapping.margin_impact(answer, snapshot.net_liquidation)
        except BrokerUnavailable as exc:
            errors = self._errors_since(mark)
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
        prices: dict[tuple[str, date], float] = {}
        per_future = self.settings.future_margin
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

    async def _group_prices(self, groups: set[tuple[str, date]]) -> dict[tuple[str, date], float]:
        prices: dict[tuple[str, date], float] = {}
        for symbol, expiry in groups:
            option = OptionContract(symbol, symbol, expiry, 1.0, Right.CALL)
            found = await self._underlying_prices([option])
            underlying = local_greeks.underlying_of(option)
            key = underlying.key if underlying is not None else ""
            prices[(symbol, expiry)] = found.get(key, math.nan)
        return prices

    # -- orders ----------------------------------------------------------------------------
    async def _order_contract(self, order: Order) -> ib_api.Contract | None:
        qualified = await self._qualify([leg.contract for leg in order.legs])
        legs = [q for q in qualified if q is not None]
        if len(legs) != len(order.legs):
            return None
        return mapping.combo_contract(order, legs) if order.is_combo else legs[0]

    async def _trade(self, ref: str) -> ib_api.Trade | None:
        """Return the trade of an order ref; ask IB for open and completed orders if needed."""
        ib = self._ready()
        trade = mapping.find_trade(ib.trades(), ref)
        if trade is None:
            await self._call(ib.reqAllOpenOrdersAsync(), "open orders")
            await self._call(ib.reqCompletedOrdersAsync(False), "completed orders")
            trade = mapping.find_trade(ib.trades(), ref)
        return trade

    def _state(self, trade: ib_api.Trade) -> OrderState:
        return mapping.order_state(trade, self._unit_ratios.get(trade.order.orderRef, 1))

    def _own(self, trade: ib_api.Trade, ref: str) -> None:
        if trade.order.clientId != self.settings.client_id:
            raise OrderRejected(
                f"order {ref} was placed by IB client {trade.order.clientId}, not by this one "
                f"({self.settings.client_id}): only that client can change it"
            )

    async def place_order(self, order: Order) -> OrderState:
        ib = self._ready()
        account = self._account_id()  # never an order before the managed account is read
        existing = mapping.find_trade(ib.trades(), order.ref)
        if existing is not None:
            log.info("order already at IB: not sent again", order_ref=order.ref)
            return self._state(existing)
        contract = await self._order_contract(order)
        if contract is None:
            unknown = [leg.contract.key for leg in order.legs if leg.contract.key in self._unknown]
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
        ib_order = mapping.ib_limit_order(order, contract, account)
        self._unit_ratios[order.ref] = mapping.order_terms(order)[2]
        trade = self._send(lambda: self._ready().placeOrder(contract, ib_order), order.ref)
        log.info(
            "order sent to IB",
            order_ref=order.ref,
            order_id=ib_order.orderId,
            action=ib_order.action,
            quantity=ib_order.totalQuantity,
            limit=ib_order.lmtPrice,
            legs=[leg.contract.key for leg in order.legs],
        )
        await self._wait_until(
            lambda: trade.orderStatus.status not in PENDING_IB_STATUSES,
            self.settings.order_ack_timeout,
        )
        return self._state(trade)

    async def modify_order(self, ref: str, limit_price: float) -> OrderState:
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
        self._send(lambda: self._ready().placeOrder(trade.contract, trade.order), ref)
        await self._wait_until(
            lambda: not trade.log or trade.log[-1].message != MODIFY_SENT,
            self.settings.order_ack_timeout,
        )
        return self._state(trade)

    async def cancel_order(self, ref: str) -> OrderState:
        trade = await self._trade(ref)
        if trade is None:
            raise OrderRejected(f"IB has no order {ref} to cancel")
        if self._state(trade).status.is_final:
            return self._state(trade)
        self._own(trade, ref)
        self._send(lambda: self._ready().cancelOrder(trade.order), ref)
        await self._wait_until(
            lambda: self._state(trade).status.is_final, self.settings.order_ack_timeout
        )
        return self._state(trade)

    async def order_state(self, ref: str) -> OrderState | None:
        trade = await self._trade(ref)
        return self._state(trade) if trade is not None else None

    async def open_orders(self) -> list[OrderState]:
        ib = self._ready()
        await self._call(ib.reqOpenOrdersAsync(), "open orders")
        states = [self._state(t) for t in ib.openTrades() if t.order.orderRef]
        return [s for s in states if not s.status.is_final]

    async def executions(self, since: datetime | None = None) -> list[Fill]:
        ib = self._ready()
        account = self._account_id()
        when = mapping.execution_filter_time(since) if since is not None else ""
        answer = await self._call(
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
        await self._wait_until(
            lambda: all(mapping.has_commission(f) for f in fills),
            self.settings.commission_timeout,
        )
        lacking = [f.execution.execId for f in fills if not mapping.has_commission(f)]
        if lacking:
            raise BrokerUnavailable(
                f"IB sent no commission report for executions {', '.join(lacking)} within "
                f"{self.settings.commission_timeout:g} s; they are reported once it arrives"
            )
        out = [fill for fill in map(mapping.domain_fill, fills) if fill is not None]
        return sorted(out, key=lambda f: (f.time, f.exec_id))


def _margin(
    holdings: list[tuple[TradableContract, int]],
    prices: dict[tuple[str, date], float],
    per_future: float,
) -> tuple[float, set[tuple[str, date]]]:
    """Return broker.margin's margin of holdings and the underlyings it needed a price for."""
    asked: set[tuple[str, date]] = set()

    def underlying(symbol: str, expiry: date) -> float:
        asked.add((symbol, expiry))
        return prices.get((symbol, expiry), math.nan)

    return portfolio_margin(holdings, underlying, per_future), asked
