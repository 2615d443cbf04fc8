"""Pure translation between the domain model and IB's objects (no I/O, no clock reads).

Conventions:
- Contracts: SPX/SPXW and VIX options route SMART in USD with their trading class; VIX futures
  trade on CFE (trading class VX, multiplier 1000); indexes keep their exchange (SPX and VIX
  on CBOE, AD-NYSE on NYSE). From IB back to the domain, a contract takes the domain's default
  exchange (keys and equality never depend on IB's routing field).
- Orders are DAY limit orders carrying `orderRef = Order.ref`. A combo is a BAG bought with
  the domain's net limit unchanged: positive is a debit, negative a credit (IB accepts
  negative combo limits). A single leg is bought or sold at the positive per-contract price.
- Limits are rounded to the product's tick toward the passive side (down for a buy, up for a
  sell), so rounding never pays more than the price asked: combos 0.05 (SPX complex tick);
  single SPX options 0.05 below 3.00 and 0.10 from 3.00; VIX options and VIX futures 0.05.
- Statuses: see IB_STATUS; an order cancelled by an IB error before any fill is REJECTED with
  IB's message (201 and the like); 202 is an ordinary cancel confirmation.
- Fills are per leg: BAG-level executions (IB sends one per combo fill besides the legs')
  are not fills of a leg and are dropped. Commissions come from the commission report.
- Greeks from IB are converted to broker.pricing's units: IB quotes vega per vol point and
  theta per calendar day; the domain carries vega per 1.00 of vol and theta per year.
- Index quotes have no book (IB's index bid/ask differ between ib_async and ib_insync): the
  price is the last trade, else the previous close.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

from broker.account import AccountSnapshot, MarginImpact, Position
from broker.calendar import NY, TradingCalendar
from broker.contracts import (
    Contract as DomainContract,
)
from broker.contracts import (
    FutureContract,
    IndexContract,
    OptionContract,
    Right,
    TradableContract,
)
from broker.errors import BrokerUnavailable, ConfigError
from broker.ib import ib_api
from broker.market import DailyBar, Greeks, OptionQuote, Quote
from broker.orders import Fill, Order, OrderState, OrderStatus, Side
from broker.vix_calendar import vix_expiry

CURRENCY = "USD"
OPTION_ROUTE = "SMART"
FUTURE_EXCHANGE = "CFE"
COMBO_TICK = 0.05
SPX_TICK_BELOW_3 = 0.05
SPX_TICK_FROM_3 = 0.10
DEFAULT_TICK = 0.05
_TICK_EPSILON = 1e-6  # in ticks: a price this close to a tick is on it (float noise)
_UNSET_ABOVE = 1e300  # UNSET_DOUBLE (1.797e308) and anything near it means "no value"
_EPOCH_YEAR = 1971

VOL_POINTS = 100.0  # IB vega is per vol point; the domain's per 1.00 of vol
DAYS_PER_YEAR = 365.0  # IB theta is per calendar day; the domain's per year

# IB error codes the adapter acts on.
CONNECTIVITY_LOST = 1100
CONNECTIVITY_RESTORED = frozenset({1101, 1102})
DELAYED_DATA_AVAILABLE = frozenset({354, 10089, 10090, 10167})  # not subscribed: use delayed
ORDER_CANCELLED = 202  # "Order Canceled - reason:" confirms a cancel, it is no rejection

IB_STATUS: dict[str, OrderStatus] = {
    "": OrderStatus.PENDING,  # created locally, nothing heard yet
    "PendingSubmit": OrderStatus.PENDING,
    "ApiPending": OrderStatus.PENDING,
    "PreSubmitted": OrderStatus.WORKING,
    "Submitted": OrderStatus.WORKING,
    "ApiUpdate": OrderStatus.WORKING,  # ib_async: an update of a live order
    "ValidationError": OrderStatus.WORKING,  # ib_async: a warning; the order is still live
    "PendingCancel": OrderStatus.WORKING,  # live until IB confirms the cancel
    "Cancelled": OrderStatus.CANCELLED,
    "ApiCancelled": OrderStatus.CANCELLED,
    "Filled": OrderStatus.FILLED,
    "Inactive": OrderStatus.REJECTED,  # received, then rejected or held: not working
}

EXECUTION_SIDES = {"BOT": Side.BUY, "SLD": Side.SELL, "BUY": Side.BUY, "SELL": Side.SELL}
ACCOUNT_TAGS = ("NetLiquidation", "TotalCashValue", "MaintMarginReq")


# -- numbers -----------------------------------------------------------------------------------


def ib_number(value: object) -> float:
    """Return a finite float, or NaN for None, text that is no number, NaN, inf or UNSET."""
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    if not math.isfinite(number) or abs(number) >= _UNSET_ABOVE:
        return math.nan
    return number


def _price(value: object) -> float:
    """Return a price >= 0, NaN for IB's -1 "no price" and every other non-price."""
    number = ib_number(value)
    return number if number >= 0 else math.nan


def _size(value: object) -> float:
    number = ib_number(value)
    return number if number >= 0 else math.nan


# -- contracts ---------------------------------------------------------------------------------


def ib_date(day: date) -> str:
    """Return IB's YYYYMMDD form of a date."""
    return day.strftime("%Y%m%d")


def parse_ib_date(text: str) -> date | None:
    """Return the date of IB's "YYYYMMDD" (a trailing time and zone are ignored), else None."""
    head = text.strip().split(" ")[0] if text else ""
    if len(head) != 8 or not head.isdigit():
        return None
    try:
        return date(int(head[:4]), int(head[4:6]), int(head[6:]))
    except ValueError:
        return None


def ib_contract(contract: DomainContract) -> ib_api.Contract:
    """Return the IB contract of a domain contract (not yet qualified: no conId)."""
    if isinstance(contract, IndexContract):
        return ib_api.Index(contract.symbol, contract.exchange, CURRENCY)
    if isinstance(contract, OptionContract):
        return ib_api.Option(
            contract.symbol,
            ib_date(contract.expiry),
            contract.strike,
            contract.right.value,
            OPTION_ROUTE,
            multiplier=str(contract.multiplier),
            currency=CURRENCY,
            tradingClass=contract.trading_class,
        )
    return ib_api.Future(
        contract.symbol,
        ib_date(contract.expiry),
        exchange=contract.exchange,
        multiplier=str(contract.multiplier),
        currency=CURRENCY,
        tradingClass=contract.trading_class,
    )


def _right(text: str) -> Right | None:
    head = text.strip().upper()[:1]
    return Right(head) if head in ("C", "P") else None


def _multiplier(text: str, default: int) -> int:
    number = ib_number(text) if text else math.nan
    return round(number) if math.isfinite(number) and number > 0 else default


def domain_contract(contract: ib_api.Contract) -> TradableContract | None:
    """Return the domain contract of an IB option or future, None for anything else."""
    symbol = contract.symbol
    trading_class = contract.tradingClass or symbol
    if contract.secType == "OPT":
        expiry = parse_ib_date(contract.lastTradeDateOrContractMonth)
        right = _right(contract.right)
        if not symbol or expiry is None or right is None:
            return None
        strike = ib_number(contract.strike)
        if not (math.isfinite(strike) and strike > 0):
            return None
        multiplier = _multiplier(contract.multiplier, 100)
        return OptionContract(symbol, trading_class, expiry, strike, right, multiplier)
    if contract.secType == "FUT":
        expiry = parse_ib_date(contract.lastTradeDateOrContractMonth)
        month = contract.lastTradeDateOrContractMonth.strip()
        if expiry is None and symbol == "VIX" and len(month) == 6 and month.isdigit():
            expiry = vix_expiry(int(month[:4]), int(month[4:]))  # a contract month only
        if not symbol or expiry is None:
            return None
        return FutureContract(symbol, trading_class, expiry, _multiplier(contract.multiplier, 1000))
    return None


def combo_contract(order: Order, leg_contracts: Sequence[ib_api.Contract]) -> ib_api.Contract:
    """Return the BAG of a combo order from its legs' qualified contracts (in leg order)."""
    if len(leg_contracts) != len(order.legs):
        raise ValueError(f"{order.ref}: {len(order.legs)} legs but {len(leg_contracts)} contracts")
    symbols = {leg.contract.symbol for leg in order.legs}
    if len(symbols) != 1:
        raise ValueError(f"{order.ref}: a combo needs one underlying, not {sorted(symbols)}")
    kinds = {type(leg.contract) for leg in order.legs}
    if len(kinds) != 1:
        raise ValueError(f"{order.ref}: a combo cannot mix options and futures")
    exchange = FUTURE_EXCHANGE if kinds == {FutureContract} else OPTION_ROUTE
    legs = []
    for leg, contract in zip(order.legs, leg_contracts, strict=True):
        if not contract.conId:
            raise ValueError(f"{order.ref}: leg {leg.contract.key} has no IB conId")
        legs.append(
            ib_api.ComboLeg(
                conId=contract.conId, ratio=leg.ratio, action=leg.side.value, exchange=exchange
            )
        )
    return ib_api.Contract(
        secType="BAG",
        symbol=symbols.pop(),
        exchange=exchange,
        currency=CURRENCY,
        comboLegs=legs,
    )


# -- orders ------------------------------------------------------------------------------------


def single_tick(contract: TradableContract | None, price: float) -> float:
    """Return the tick of a single-leg order's per-contract price."""
    if isinstance(contract, OptionContract) and contract.symbol == "SPX":
        return SPX_TICK_BELOW_3 if abs(price) < 3.0 else SPX_TICK_FROM_3
    return DEFAULT_TICK


def round_limit(price: float, tick: float, action: str) -> float:
    """Round to the tick toward the passive side: down for a BUY, up for a SELL."""
    if not math.isfinite(price):
        raise ValueError(f"limit price is not a number: {price}")
    steps = price / tick
    buy = action == "BUY"
    n = math.floor(steps + _TICK_EPSILON) if buy else math.ceil(steps - _TICK_EPSILON)
    return round(n * tick, 2) + 0.0  # + 0.0 turns -0.0 into 0.0


def ib_limit(price: float, contract: ib_api.Contract, action: str, ratio: int = 1) -> float:
    """Return IB's limit for a domain net price per unit, on a BAG or a single contract."""
    if contract.secType == "BAG":
        return round_limit(price if action == "BUY" else -price, COMBO_TICK, action)
    per_contract = (price if action == "BUY" else -price) / ratio
    return round_limit(per_contract, single_tick(domain_contract(contract), per_contract), action)


def domain_price(price: float, contract: ib_api.Contract, action: str, ratio: int = 1) -> float:
    """Return the domain's net price per unit of an IB price (the inverse of ib_limit)."""
    signed = price if action == "BUY" else -price
    return signed if contract.secType == "BAG" else signed * ratio


def order_terms(order: Order) -> tuple[str, float, int]:
    """Return (IB action, total quantity, unit ratio) of a domain order.

    A combo is one BAG bought `quantity` times; a single leg of ratio r is r x quantity
    contracts (its unit ratio, needed to read its fills back in units).
    """
    if not order.legs:
        raise ValueError(f"{order.ref}: an order needs at least one leg")
    if order.quantity <= 0:
        raise ValueError(f"{order.ref}: quantity must be positive, got {order.quantity}")
    if order.is_combo:
        return "BUY", float(order.quantity), 1
    leg = order.legs[0]
    return leg.side.value, float(order.quantity * leg.ratio), leg.ratio


def ib_limit_order(order: Order, contract: ib_api.Contract, account: str) -> ib_api.Order:
    """Return the DAY limit order (transmitted, with orderRef) for a domain order."""
    action, quantity, ratio = order_terms(order)
    limit = ib_limit(order.limit_price, contract, action, ratio)
    return ib_api.LimitOrder(
        action,
        quantity,
        limit,
        orderRef=order.ref,
        tif="DAY",
        transmit=True,
        account=account,
    )


def find_trade(trades: Iterable[ib_api.Trade], ref: str) -> ib_api.Trade | None:
    """Return the trade whose orderRef is `ref` (the latest IB knows), or None."""
    matches = [t for t in trades if ref and t.order.orderRef == ref]
    if not matches:
        return None
    return max(matches, key=lambda t: (t.order.permId, t.order.orderId))


def _filled_contracts(trade: ib_api.Trade) -> float:
    """Return how much filled: IB's status, a completed order's filledQuantity, or the fills."""
    from_status = ib_number(trade.orderStatus.filled)
    completed = ib_number(getattr(trade.order, "filledQuantity", math.nan))
    fills = _own_fills(trade)
    from_fills = sum(f.execution.shares for f in fills)
    candidates = [x for x in (from_status, completed, from_fills) if math.isfinite(x)]
    return max(candidates, default=0.0)


def _own_fills(trade: ib_api.Trade) -> list[ib_api.Fill]:
    """Return the fills that count for the order: BAG-level ones for a combo."""
    if trade.contract.secType == "BAG":
        return [f for f in trade.fills if f.contract.secType == "BAG"]
    return list(trade.fills)


def _avg_fill_price(trade: ib_api.Trade) -> float:
    price = ib_number(trade.orderStatus.avgFillPrice)
    if math.isfinite(price) and price != 0.0:
        return price
    fills = _own_fills(trade)
    shares = sum(f.execution.shares for f in fills)
    if shares <= 0:
        return math.nan
    return sum(f.execution.shares * f.execution.price for f in fills) / shares


def order_error(trade: ib_api.Trade) -> str:
    """Return IB's last error about the order ("IB 201: ..."), or "" when there is none."""
    for entry in reversed(trade.log):
        code = entry.errorCode
        if code and code != ORDER_CANCELLED:
            text = entry.message.split(", contract: ")[0]
            if text.startswith(("Error ", "Warning ")) and ": " in text:
                text = text.split(": ", 1)[1]
            return f"IB {code}: {text}"
    return ""


def domain_status(ib_status: str, filled: int, error: str) -> OrderStatus:
    """Return the domain status of an IB status string, given what filled and any error."""
    status = IB_STATUS.get(ib_status, OrderStatus.WORKING)  # unknown: not final, cancel later
    if status in (OrderStatus.CANCELLED, OrderStatus.REJECTED):
        if filled > 0:
            return OrderStatus.CANCELLED
        return OrderStatus.REJECTED if error or status is OrderStatus.REJECTED else status
    if status in (OrderStatus.PENDING, OrderStatus.WORKING) and filled > 0:
        return OrderStatus.PARTIAL
    return status


def order_state(trade: ib_api.Trade, ratio: int = 1) -> OrderState:
    """Return the domain state of an IB trade; `ratio` converts a single leg back to units."""
    order = trade.order
    action = order.action or "BUY"
    filled = round(_filled_contracts(trade)) // ratio
    quantity = ib_number(order.totalQuantity)
    total = round(quantity) // ratio if math.isfinite(quantity) else filled
    error = order_error(trade)
    status = domain_status(trade.orderStatus.status, filled, error)
    if status is OrderStatus.PARTIAL and filled >= total > 0:
        status = OrderStatus.FILLED  # every unit executed; IB's "Filled" status is on its way
    limit = ib_number(order.lmtPrice)
    avg = _avg_fill_price(trade) if filled > 0 else math.nan
    message = error
    if not message and trade.orderStatus.status not in IB_STATUS:
        message = f"unknown IB order status {trade.orderStatus.status!r}"
    return OrderState(
        ref=order.orderRef,
        broker_order_id=str(order.orderId or order.permId),
        status=status,
        filled=filled,
        remaining=max(total - filled, 0),
        limit_price=domain_price(limit, trade.contract, action, ratio)
        if math.isfinite(limit)
        else math.nan,
        avg_fill_price=domain_price(avg, trade.contract, action, ratio)
        if math.isfinite(avg)
        else None,
        message=message,
    )


# -- executions --------------------------------------------------------------------------------


def has_commission(fill: ib_api.Fill) -> bool:
    """Return True once IB's commission report for this execution has arrived."""
    report = fill.commissionReport
    return bool(report.execId) and math.isfinite(ib_number(report.commission))


def is_leg_fill(fill: ib_api.Fill) -> bool:
    """Return True for the execution of a leg (False for BAG-level executions)."""
    return fill.contract.secType != "BAG"


def execution_time(fill: ib_api.Fill) -> datetime:
    """Return the execution's time, timezone-aware (a naive IB time is read as UTC)."""
    when = fill.execution.time
    if not isinstance(when, datetime) or when.year < _EPOCH_YEAR:
        when = fill.time
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def domain_fill(fill: ib_api.Fill) -> Fill | None:
    """Return the domain fill of a leg execution; None for BAG-level or foreign contracts.

    Raise ValueError when the commission report has not arrived (a fill is never reported
    with a made-up commission: the journal keeps the first version of each execution).
    """
    if not is_leg_fill(fill):
        return None
    contract = domain_contract(fill.contract)
    execution = fill.execution
    side = EXECUTION_SIDES.get(execution.side.upper())
    if contract is None or side is None:
        return None
    if not has_commission(fill):
        raise ValueError(f"execution {execution.execId} has no commission report yet")
    return Fill(
        exec_id=execution.execId,
        order_ref=execution.orderRef,
        contract=contract,
        side=side,
        quantity=round(execution.shares),
        price=float(execution.price),
        commission=float(fill.commissionReport.commission),
        time=execution_time(fill),
    )


def execution_filter_time(since: datetime) -> str:
    """Return the ExecutionFilter time for `since` ("yyyymmdd-hh:mm:ss", UTC)."""
    when = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y%m%d-%H:%M:%S")


# -- account -----------------------------------------------------------------------------------


def choose_account(managed: Sequence[str], configured: str) -> str:
    """Return the account to trade: the configured one (it must be managed) or the only one."""
    accounts = [a for a in managed if a]
    if configured:
        if configured not in accounts:
            raise ConfigError(
                f"[ib] account = {configured!r} is not managed by this IB login "
                f"(it manages: {', '.join(accounts) or 'none'})"
            )
        return configured
    if len(accounts) == 1:
        return accounts[0]
    if not accounts:
        raise BrokerUnavailable("IB reported no managed account for this login")
    raise ConfigError(
        f"this IB login manages several accounts ({', '.join(accounts)}): set [ib] account"
    )


def account_snapshot(
    values: Iterable[ib_api.AccountValue], account_id: str, time: datetime
) -> AccountSnapshot:
    """Return the account's USD balances; BrokerUnavailable when IB has not sent them all."""
    found: dict[str, float] = {}
    for value in values:
        if value.account == account_id and value.currency == CURRENCY and value.tag in ACCOUNT_TAGS:
            number = ib_number(value.value)
            if math.isfinite(number):
                found[value.tag] = number
    missing = [tag for tag in ACCOUNT_TAGS if tag not in found]
    if missing:
        raise BrokerUnavailable(
            f"IB has not reported {', '.join(missing)} in USD for account {account_id} yet"
        )
    return AccountSnapshot(
        account_id=account_id,
        time=time,
        net_liquidation=found["NetLiquidation"],
        cash=found["TotalCashValue"],
        maintenance_margin=found["MaintMarginReq"],
    )


def domain_position(position: ib_api.Position) -> Position | None:
    """Return the domain position (None for a zero or foreign one); avgCost is per contract."""
    quantity = round(position.position)
    contract = domain_contract(position.contract)
    if contract is None or quantity == 0:
        return None
    return Position(contract, quantity, float(position.avgCost))


def margin_impact(state: object, net_liquidation: float) -> MarginImpact:
    """Return the margin after an order from IB's what-if answer.

    Excess liquidity after = equity with loan after - maintenance margin after (IB's own
    definition); BrokerUnavailable when the answer carries no margin.
    """
    if not isinstance(state, ib_api.OrderState):
        raise BrokerUnavailable("IB gave no what-if answer for the order")
    maintenance = ib_number(state.maintMarginAfter)
    if not math.isfinite(maintenance):
        reason = state.warningText or "no reason given"
        raise BrokerUnavailable(f"IB's what-if answer has no margin ({reason})")
    equity = ib_number(state.equityWithLoanAfter)
    base = equity if math.isfinite(equity) else net_liquidation
    return MarginImpact(maintenance, base - maintenance, net_liquidation)


# -- quotes ------------------------------------------------------------------------------------


QUOTE_FIELDS = ("bid", "ask", "last", "close", "bidSize", "askSize", "lastSize")
GREEKS_FIELDS = ("modelGreeks", "bidGreeks", "askGreeks", "lastGreeks")


def reset_ticker(ticker: ib_api.Ticker) -> None:
    """Blank what a snapshot fills in (the library reuses one Ticker per contract).

    Without it a field IB leaves out of a new snapshot would keep an old value and pass
    for fresh. Mutates the library's object; no I/O.
    """
    for name in QUOTE_FIELDS:
        setattr(ticker, name, math.nan)
    for name in GREEKS_FIELDS:
        setattr(ticker, name, None)
    ticker.time = None


def _ticker_time(ticker: ib_api.Ticker, now: datetime) -> datetime:
    when = ticker.time
    if isinstance(when, datetime):
        return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return now


def index_quote(index: IndexContract, ticker: ib_api.Ticker | None, now: datetime) -> Quote:
    """Return an index quote: no book, the last trade (else the previous close) as last."""
    nan = math.nan
    if ticker is None:
        return Quote(index, nan, nan, nan, now)
    last = ib_number(ticker.last)
    if not math.isfinite(last) or last == -1.0:
        last = ib_number(ticker.close)
    if last == -1.0:
        last = nan
    return Quote(index, nan, nan, last, _ticker_time(ticker, now))


def _book(ticker: ib_api.Ticker, zero_bid_when_none: bool) -> tuple[float, float, float, float]:
    """Return bid, ask, bid size, ask size; IB's -1 bid is "no buyer" (0) for options."""
    bid, bid_size = _price(ticker.bid), _size(ticker.bidSize)
    if zero_bid_when_none and ib_number(ticker.bid) == -1.0:
        bid, bid_size = 0.0, 0.0
    ask = _price(ticker.ask)
    if ask == 0.0:
        ask = math.nan
    return bid, ask, bid_size, _size(ticker.askSize)


def future_quote(contract: FutureContract, ticker: ib_api.Ticker | None, now: datetime) -> Quote:
    """Return a futures quote (NaN where IB has nothing)."""
    nan = math.nan
    if ticker is None:
        return Quote(contract, nan, nan, nan, now)
    bid, ask, bid_size, ask_size = _book(ticker, zero_bid_when_none=False)
    last = _price(ticker.last)
    return Quote(contract, bid, ask, last, _ticker_time(ticker, now), bid_size, ask_size)


def ib_greeks(computation: ib_api.OptionComputation | None) -> Greeks | None:
    """Return IB's model greeks in the domain's units, or None when any is missing.

    IB's markers for "not computed" (-1 for the vol, -2 for the greeks, UNSET) count as
    missing; vega is scaled from per vol point to per 1.00, theta from per day to per year.
    """
    if computation is None:
        return None
    iv = ib_number(computation.impliedVol)
    raw = [ib_number(x) for x in (computation.delta, computation.gamma, computation.vega)]
    theta = ib_number(computation.theta)
    if not (math.isfinite(iv) and iv > 0) or not math.isfinite(theta) or theta == -2.0:
        return None
    if any(not math.isfinite(x) or x == -2.0 for x in raw):
        return None
    delta, gamma, vega = raw
    if vega < 0:
        return None
    return Greeks(iv, delta, gamma, vega * VOL_POINTS, theta * DAYS_PER_YEAR)


def option_quote(
    contract: OptionContract, ticker: ib_api.Ticker | None, now: datetime
) -> OptionQuote:
    """Return an option quote with IB's model greeks (NaN greeks when IB sent none)."""
    nan = math.nan
    missing = Greeks(nan, nan, nan, nan, nan)
    if ticker is None:
        return OptionQuote(Quote(contract, nan, nan, nan, now), missing, nan)
    bid, ask, bid_size, ask_size = _book(ticker, zero_bid_when_none=True)
    last = _price(ticker.last)
    quote = Quote(contract, bid, ask, last, _ticker_time(ticker, now), bid_size, ask_size)
    model = ticker.modelGreeks
    underlying = _price(model.undPrice) if model is not None else nan
    if underlying == 0.0:
        underlying = nan
    return OptionQuote(quote, ib_greeks(model) or missing, underlying)


# -- history -----------------------------------------------------------------------------------


def history_duration(sessions: int) -> str:
    """Return an IB durationStr covering `sessions` daily bars plus holidays and today."""
    if sessions <= 0:
        raise ValueError(f"sessions must be positive, got {sessions}")
    days = math.ceil(sessions * 7 / 5) + 10
    return f"{days} D" if days <= 365 else f"{math.ceil(days / 365)} Y"


def _bar_day(bar: ib_api.BarData) -> date:
    when = bar.date
    if isinstance(when, datetime):
        aware = when if when.tzinfo is not None else when.replace(tzinfo=NY)
        return aware.astimezone(NY).date()
    return when


def completed_bars(
    bars: Iterable[ib_api.BarData], now: datetime, calendar: TradingCalendar
) -> list[DailyBar]:
    """Return the bars of completed sessions, oldest first: today's only once it has closed."""
    today = now.astimezone(NY).date()
    session = calendar.session(today)
    last_day = today - timedelta(days=1) if session is not None and now < session.close else today
    by_day = {_bar_day(b): b for b in bars}
    return [
        DailyBar(day, float(b.open), float(b.high), float(b.low), float(b.close))
        for day, b in sorted(by_day.items())
        if day <= last_day
    ]


# -- chains ------------------------------------------------------------------------------------


def chain_expiries(
    chains: Iterable[ib_api.OptionChain], trading_class: str, today: date
) -> list[date]:
    """Return the expiries of a trading class from reqSecDefOptParams, today or later."""
    days = {
        parse_ib_date(text)
        for chain in chains
        if chain.tradingClass == trading_class
        for text in chain.expirations
    }
    return sorted(d for d in days if d is not None and d >= today)


def chain_strikes(chains: Iterable[ib_api.OptionChain], trading_class: str) -> list[float]:
    """Return every strike of a trading class (all expiries together), ascending."""
    strikes = {
        float(k) for chain in chains if chain.tradingClass == trading_class for k in chain.strikes
    }
    return sorted(k for k in strikes if math.isfinite(k) and k > 0)


def listed_contracts(
    details: Iterable[ib_api.ContractDetails],
) -> list[tuple[TradableContract, ib_api.Contract]]:
    """Return (domain, IB) pairs of the options and futures in a contract details answer."""
    pairs = []
    for detail in details:
        contract = detail.contract
        if contract is None:
            continue
        domain = domain_contract(contract)
        if domain is not None:
            pairs.append((domain, contract))
    return pairs


def option_strikes(
    contracts: Iterable[TradableContract], trading_class: str, expiry: date
) -> list[float]:
    """Return the strikes listed for one expiry of a trading class, ascending."""
    return sorted(
        {
            c.strike
            for c in contracts
            if isinstance(c, OptionContract) and c.trading_class == trading_class
            if c.expiry == expiry
        }
    )


def future_expiries(
    contracts: Iterable[TradableContract], trading_class: str, today: date
) -> list[date]:
    """Return the expiries of a futures class after today (a future is done on its expiry day)."""
    return sorted(
        {
            c.expiry
            for c in contracts
            if isinstance(c, FutureContract) and c.trading_class == trading_class
            if c.expiry > today
        }
    )
