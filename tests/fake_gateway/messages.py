"""Encoders of the gateway's session, contract, market-data and account messages.

One function per outgoing message id, each writing its fields out in wire order for server
versions 176..178 (no field of these messages differs between them). Exact arities matter:
the clients unpack tickPrice (7), tickOptionComputation (12), position (16), updatePortfolio
(20), nextValidId and managedAccounts (3) as fixed tuples. Orders live in order_messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .contracts import Details, WireContract
from .wire import Fields, num, num_or


def handshake(version: int, connection_time: str) -> Fields:
    """The server's first frame: exactly two fields, no message id."""
    return [str(version), connection_time]


def error(req_id: int, code: int, text: str) -> Fields:
    """4: an error or warning about a request (-1: about the connection)."""
    return ["4", "2", str(req_id), str(code), text, ""]


def next_valid_id(order_id: int) -> Fields:
    """9: the next order id the client may use."""
    return ["9", "1", str(order_id)]


def managed_accounts(accounts: Sequence[str]) -> Fields:
    """15: the accounts this login manages."""
    return ["15", "1", ",".join(accounts)]


def current_time(epoch_seconds: int) -> Fields:
    """49: the gateway's clock."""
    return ["49", "1", str(epoch_seconds)]


def contract_data(req_id: int, details: Details) -> Fields:
    """10: one contract-details row (server version >= 164: no version field)."""
    c = details.wire
    return [
        "10", str(req_id), c.symbol, c.sec_type, details.last_trade or c.expiry,
        num(c.strike), c.right, c.exchange, c.currency, c.local_symbol, details.market_name,
        c.trading_class, str(c.con_id), num(details.min_tick), c.multiplier,
        details.order_types, c.exchange, "1", str(details.under_con_id), details.long_name,
        "", details.contract_month, "", "", "", "US/Eastern", "", "", "", "",
        "0",  # no secIds
        "0", details.under_symbol, details.under_sec_type, "", details.real_expiration, "",
        "1", "1", "1",
    ]  # fmt: skip


def contract_data_end(req_id: int) -> Fields:
    """52: the end of a contract-details answer."""
    return ["52", "1", str(req_id)]


def sec_def_opt_params(
    req_id: int,
    exchange: str,
    under_con_id: int,
    trading_class: str,
    multiplier: str,
    expiries: Sequence[str],
    strikes: Sequence[float],
) -> Fields:
    """75: the expiries and strikes of one trading class on one exchange."""
    return [
        "75", str(req_id), exchange, str(under_con_id), trading_class, multiplier,
        str(len(expiries)), *expiries, str(len(strikes)), *(num(k) for k in strikes),
    ]  # fmt: skip


def sec_def_opt_params_end(req_id: int) -> Fields:
    """76: the end of an option-chain answer."""
    return ["76", str(req_id)]


def tick_price(req_id: int, tick_type: int, price: float, size: float) -> Fields:
    """1: a price tick with its size (exactly 7 fields; attribute mask 0)."""
    return ["1", "6", str(req_id), str(tick_type), num(price), num(size), "0"]


def tick_size(req_id: int, tick_type: int, size: float) -> Fields:
    """2: a size tick."""
    return ["2", "6", str(req_id), str(tick_type), num(size)]


@dataclass(frozen=True, slots=True)
class OptionComputation:
    """Model values of an option in IB's units (vega per vol point, theta per day)."""

    implied_vol: float
    delta: float
    price: float
    pv_dividend: float
    gamma: float
    vega: float
    theta: float
    underlying: float


def tick_option_computation(req_id: int, tick_type: int, comp: OptionComputation) -> Fields:
    """21: option greeks (exactly 12 fields); IB's sentinels -1/-2 stand for 'not computed'."""
    return [
        "21", str(req_id), str(tick_type), "1",
        num_or(comp.implied_vol, "-1"), num_or(comp.delta, "-2"), num_or(comp.price, "-1"),
        num_or(comp.pv_dividend, "-1"), num_or(comp.gamma, "-2"), num_or(comp.vega, "-2"),
        num_or(comp.theta, "-2"), num_or(comp.underlying, "-1"),
    ]  # fmt: skip


def tick_snapshot_end(req_id: int) -> Fields:
    """57: the end of a snapshot."""
    return ["57", "1", str(req_id)]


def market_data_type(req_id: int, data_type: int) -> Fields:
    """58: which kind of data (1 live, 2 frozen, 3 delayed, 4 delayed frozen) follows."""
    return ["58", "1", str(req_id), str(data_type)]


def tick_req_params(req_id: int, min_tick: float) -> Fields:
    """81: the minimum tick, the BBO exchange and the snapshot permissions of a request."""
    return ["81", str(req_id), num(min_tick), "9c0001", "3"]


@dataclass(frozen=True, slots=True)
class Bar:
    """One daily bar as sent: the day as YYYYMMDD and its prices."""

    day: str
    open: float
    high: float
    low: float
    close: float


def historical_data(req_id: int, start: str, end: str, bars: Sequence[Bar]) -> Fields:
    """17: historical bars (volume, average and count -1: an index has no trades)."""
    fields = ["17", str(req_id), start, end, str(len(bars))]
    for bar in bars:
        fields += [bar.day, num(bar.open), num(bar.high), num(bar.low), num(bar.close)]
        fields += ["-1", "-1", "-1"]
    return fields


def position(account: str, contract: WireContract, quantity: float, avg_cost: float) -> Fields:
    """61: one position (exactly 16 fields)."""
    return ["61", "3", account, *contract.fields(), num(quantity), num(avg_cost, 6)]


def position_end() -> Fields:
    """62: the end of the positions."""
    return ["62", "1"]


def account_value(key: str, value: str, currency: str, account: str) -> Fields:
    """6: one account value."""
    return ["6", "2", key, value, currency, account]


@dataclass(frozen=True, slots=True)
class PortfolioLine:
    """A position valued at the mark, as updatePortfolio carries it."""

    contract: WireContract
    quantity: float
    market_price: float
    market_value: float
    avg_cost: float
    unrealized: float


def portfolio_value(line: PortfolioLine, account: str) -> Fields:
    """7: one portfolio line (exactly 20 fields; the exchange goes in primaryExchange)."""
    return [
        "7", "8", *line.contract.fields(),
        num(line.quantity), num(line.market_price, 6), num(line.market_value, 2),
        num(line.avg_cost, 6), num(line.unrealized, 2), "0", account,
    ]  # fmt: skip


def account_time(hh_mm: str) -> Fields:
    """8: the time of the last account update."""
    return ["8", "1", hh_mm]


def account_download_end(account: str) -> Fields:
    """54: the end of the first account-update answer."""
    return ["54", "1", account]


def account_update_multi(req_id: int, account: str, key: str, value: str, currency: str) -> Fields:
    """73: one account value of a multi-account subscription (no model code)."""
    return ["73", "1", str(req_id), account, "", key, value, currency]


def account_update_multi_end(req_id: int) -> Fields:
    """74: the end of a multi-account answer."""
    return ["74", "1", str(req_id)]


def account_summary(req_id: int, account: str, tag: str, value: str, currency: str) -> Fields:
    """63: one account-summary tag."""
    return ["63", "1", str(req_id), account, tag, value, currency]


def account_summary_end(req_id: int) -> Fields:
    """64: the end of an account summary."""
    return ["64", "1", str(req_id)]


def open_order_end() -> Fields:
    """53: the end of the open orders."""
    return ["53", "1"]


def completed_orders_end() -> Fields:
    """102: the end of the completed orders."""
    return ["102"]


def exec_details_end(req_id: int) -> Fields:
    """55: the end of an executions answer."""
    return ["55", "1", str(req_id)]
