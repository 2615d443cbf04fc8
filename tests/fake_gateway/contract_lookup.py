"""Which listed contracts a request's contract fields name (reqContractDetails, reqMktData...).

Matching rules (what TWS does for the products the fake lists):
- A known conId wins over every other field.
- IND: SPX and VIX on CBOE, AD-NYSE on NYSE.
- OPT: symbol SPX (trading classes SPX and SPXW) or VIX (class VIX). Blank fields match
  anything: an SPX option without a trading class on a monthly expiry matches both classes
  (ambiguous, as with IB). The expiry may be a day (YYYYMMDD) or a month (YYYYMM).
- FUT: VIX on CFE, trading class VX, by expiry day, contract month or local symbol (VXJ8).
- The exchange may be blank, SMART or the product's own; the currency blank or USD.
Only contracts the exchange lists now are returned; anything else is "no security definition".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from broker.contracts import Contract, FutureContract, IndexContract, OptionContract, Right
from broker.orders import Leg, Side
from broker.sim.exchange import SimExchange

from .contracts import ContractRegistry, occ_symbol
from .wire import FieldReader

OPTION_CLASSES = {"SPX": ("SPX", "SPXW"), "VIX": ("VIX",)}
INDEXES = {"SPX": "CBOE", "VIX": "CBOE", "AD-NYSE": "NYSE"}
_STRIKE_TOLERANCE = 1e-6
SIDES = ("BUY", "SELL")


@dataclass(frozen=True, slots=True)
class ContractQuery:
    """The 12 contract fields every request carries, as sent."""

    con_id: int
    symbol: str
    sec_type: str
    expiry: str
    strike: float
    right: str
    multiplier: str
    exchange: str
    primary_exchange: str
    currency: str
    local_symbol: str
    trading_class: str

    @classmethod
    def read(cls, reader: FieldReader) -> ContractQuery:
        """Read conId, symbol, secType, expiry, strike, right, multiplier, exchange,
        primaryExchange, currency, localSymbol, tradingClass."""
        return cls(
            reader.integer(),
            reader.text().upper(),
            reader.text().upper(),
            reader.text().strip(),
            reader.number(0.0),
            reader.text().upper(),
            reader.text().strip(),
            reader.text().upper(),
            reader.text().upper(),
            reader.text().upper(),
            reader.text().strip(),
            reader.text().upper(),
        )


async def resolve(
    query: ContractQuery, exchange: SimExchange, registry: ContractRegistry
) -> list[Contract]:
    """Return every listed contract the query names (empty when none)."""
    if query.con_id > 0:
        known = registry.lookup(query.con_id)
        return [known] if known is not None else []
    if query.currency not in ("", "USD"):
        return []
    if query.sec_type == "IND":
        return _indexes(query)
    if query.sec_type == "OPT":
        return await _options(query, exchange)
    if query.sec_type == "FUT":
        return await _futures(query, exchange, registry)
    return []


def _exchange_ok(query: ContractQuery, own: str) -> bool:
    return query.exchange in ("", "SMART", own)


def _indexes(query: ContractQuery) -> list[Contract]:
    own = INDEXES.get(query.symbol)
    if own is None or not _exchange_ok(query, own):
        return []
    return [IndexContract(query.symbol, own)]


def _expiry_ok(wanted: str, expiry: date) -> bool:
    if not wanted:
        return True
    if len(wanted) == 6:
        return expiry.strftime("%Y%m") == wanted
    return expiry.strftime("%Y%m%d") == wanted[:8]


def _rights(right: str) -> tuple[Right, ...]:
    if right in ("C", "CALL"):
        return (Right.CALL,)
    if right in ("P", "PUT"):
        return (Right.PUT,)
    return (Right.PUT, Right.CALL) if right in ("", "?") else ()


async def _options(query: ContractQuery, exchange: SimExchange) -> list[Contract]:
    classes = OPTION_CLASSES.get(query.symbol, ())
    if query.trading_class:
        classes = tuple(c for c in classes if c == query.trading_class)
    if not _exchange_ok(query, "CBOE") or query.multiplier not in ("", "100"):
        return []
    found: list[Contract] = []
    for trading_class in classes:
        for expiry in await exchange.option_expiries(query.symbol, trading_class):
            if not _expiry_ok(query.expiry, expiry):
                continue
            strikes = await exchange.option_strikes(query.symbol, trading_class, expiry)
            if query.strike:
                strikes = [k for k in strikes if abs(k - query.strike) < _STRIKE_TOLERANCE]
            found.extend(
                OptionContract(query.symbol, trading_class, expiry, strike, right)
                for strike in strikes
                for right in _rights(query.right)
            )
    if query.local_symbol:
        found = [
            c
            for c in found
            if isinstance(c, OptionContract)
            and occ_symbol(c).replace(" ", "") == query.local_symbol.replace(" ", "")
        ]
    return found


async def _futures(
    query: ContractQuery, exchange: SimExchange, registry: ContractRegistry
) -> list[Contract]:
    if query.symbol not in ("VIX", "") or query.trading_class not in ("", "VX"):
        return []
    if not _exchange_ok(query, "CFE") or query.multiplier not in ("", "1000"):
        return []
    found: list[Contract] = []
    for expiry in await exchange.future_expiries("VIX", "VX"):
        contract = FutureContract("VIX", "VX", expiry)
        if not _expiry_ok(query.expiry, expiry):
            continue
        if query.local_symbol and registry.describe(contract).local_symbol != query.local_symbol:
            continue
        found.append(contract)
    return found


async def resolve_one(
    query: ContractQuery, exchange: SimExchange, registry: ContractRegistry
) -> Contract | None:
    """Return the single listed contract a query names, or None (unknown or ambiguous)."""
    found = await resolve(query, exchange, registry)
    return found[0] if len(found) == 1 else None


def read_combo_legs(reader: FieldReader, with_order_fields: bool) -> list[tuple[int, int, str]]:
    """Read a BAG's legs as (conId, ratio, action); placeOrder adds four fields per leg."""
    legs = []
    for _ in range(reader.integer()):
        con_id, ratio, action = reader.integer(), reader.integer(1), reader.text().upper()
        reader.skip(5 if with_order_fields else 1)  # exchange [, openClose, ssSlot, loc, code]
        legs.append((con_id, ratio, action))
    return legs


def legs_of(legs: list[tuple[int, int, str]], registry: ContractRegistry) -> list[Leg] | None:
    """Return a BAG's legs as domain legs, or None when a conId is unknown or not tradable."""
    out = []
    for con_id, ratio, action in legs:
        contract = registry.lookup(con_id)
        if not isinstance(contract, OptionContract | FutureContract) or action not in SIDES:
            return None
        out.append(Leg(contract, Side(action), max(ratio, 1)))
    return out
