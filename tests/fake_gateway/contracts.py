"""Contract ids and descriptions: how the domain's contracts look on the wire.

Modeling choices:
- Indexes carry IB's real conIds (SPX 416904, VIX 13455763); AD-NYSE gets a fixed made-up id.
  A BAG is conId 28812380, as TWS reports combos in executions.
- Options and futures get a conId hashed from the contract's key (BLAKE2b into
  [1e8, 2.1e9)), so the same contract has the same conId in every gateway, across restarts and
  across processes, as IB's conIds are permanent. A collision (never seen) probes a salted hash.
- Descriptions follow IB: options have OCC local symbols ("SPXW  180420P02700000"), the
  exchange CBOE and multiplier 100; VIX futures trade on CFE as "VXJ8" (trading class VX,
  multiplier 1000); indexes are secType IND with no multiplier. Times are US/Eastern.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from broker.calendar import NY
from broker.contracts import Contract, FutureContract, IndexContract, OptionContract

from .wire import Fields, num

BAG_CON_ID = 28812380
INDEX_CON_IDS = {"SPX": 416904, "VIX": 13455763, "AD-NYSE": 26718743}
INDEX_NAMES = {
    "SPX": "S&P 500 Stock Index",
    "VIX": "CBOE Volatility Index",
    "AD-NYSE": "NYSE Advance Decline Index",
}
TIME_ZONE = "US/Eastern"
CURRENCY = "USD"
_HASH_BASE = 100_000_000
_HASH_SPAN = 2_000_000_000
_MONTH_CODES = "FGHJKMNQUVXZ"
OPTION_ORDER_TYPES = "ACTIVETIM,AD,ADJUST,ALERT,ALLOC,DAY,GTC,GTD,LMT,MKT,NONALGO,OPG,REL,SNAPMID"
FUTURE_ORDER_TYPES = "ACTIVETIM,AD,ADJUST,ALERT,ALLOC,DAY,GTC,GTD,LMT,MKT,NONALGO,STP,STPLMT"


@dataclass(frozen=True, slots=True)
class WireContract:
    """A contract as TWS describes it in messages."""

    con_id: int
    symbol: str
    sec_type: str
    expiry: str
    strike: float
    right: str
    multiplier: str
    exchange: str
    local_symbol: str
    trading_class: str
    currency: str = CURRENCY

    def fields(self, exchange: str | None = None) -> Fields:
        """Return the 11 contract fields of openOrder, execDetails, position, updatePortfolio."""
        return [
            str(self.con_id),
            self.symbol,
            self.sec_type,
            self.expiry,
            num(self.strike),
            self.right,
            self.multiplier,
            self.exchange if exchange is None else exchange,
            self.currency,
            self.local_symbol,
            self.trading_class,
        ]


def bag_wire(symbol: str, exchange: str) -> WireContract:
    """Return the BAG contract of a combo on `symbol` routed to `exchange`."""
    return WireContract(BAG_CON_ID, symbol, "BAG", "", 0.0, "", "", exchange, "", "COMB")


@dataclass(frozen=True, slots=True)
class Details:
    """The contract-details row of one contract (beyond its description)."""

    wire: WireContract
    last_trade: str
    market_name: str
    min_tick: float
    long_name: str
    under_con_id: int
    under_symbol: str
    under_sec_type: str
    contract_month: str
    real_expiration: str
    order_types: str


class ContractRegistry:
    """ConIds of every contract the gateway has described, in both directions."""

    def __init__(self) -> None:
        self._by_id: dict[int, Contract] = {}
        self._by_key: dict[str, int] = {}
        for symbol, con_id in INDEX_CON_IDS.items():
            index = IndexContract(symbol, "NYSE" if symbol == "AD-NYSE" else "CBOE")
            self._by_id[con_id] = index
            self._by_key[index.key] = con_id

    def con_id(self, contract: Contract) -> int:
        """Return the contract's conId, registering it on first sight."""
        known = self._by_key.get(contract.key)
        if known is not None:
            return known
        salt = 0
        while True:
            candidate = _hashed_id(f"{contract.key}#{salt}" if salt else contract.key)
            if candidate not in self._by_id:
                break
            salt += 1
        self._by_id[candidate] = contract
        self._by_key[contract.key] = candidate
        return candidate

    def lookup(self, con_id: int) -> Contract | None:
        """Return the contract of a conId this registry has handed out, or None."""
        return self._by_id.get(con_id)

    def describe(self, contract: Contract) -> WireContract:
        """Return the wire description of a domain contract."""
        con_id = self.con_id(contract)
        if isinstance(contract, IndexContract):
            return WireContract(
                con_id, contract.symbol, "IND", "", 0.0, "", "", contract.exchange,
                contract.symbol, contract.symbol,
            )  # fmt: skip
        if isinstance(contract, OptionContract):
            return WireContract(
                con_id, contract.symbol, "OPT", _yyyymmdd(contract.expiry), contract.strike,
                contract.right.value, str(contract.multiplier), contract.exchange,
                occ_symbol(contract), contract.trading_class,
            )  # fmt: skip
        return WireContract(
            con_id, contract.symbol, "FUT", _yyyymmdd(contract.expiry), 0.0, "",
            str(contract.multiplier), contract.exchange, future_local_symbol(contract),
            contract.trading_class,
        )  # fmt: skip

    def details(self, contract: Contract, last_trade: datetime | None) -> Details:
        """Return the contract-details row of a contract (with its last trade instant when it
        falls on the expiry day)."""
        wire = self.describe(contract)
        if isinstance(contract, IndexContract):
            return Details(
                wire, "", contract.symbol, 0.01, INDEX_NAMES.get(contract.symbol, ""),
                0, "", "", "", "", "",
            )  # fmt: skip
        stamp = ""
        if last_trade is not None:
            stamp = last_trade.astimezone(NY).strftime(f"%Y%m%d %H:%M {TIME_ZONE}")
        month = contract.expiry.strftime("%Y%m")
        underlying = INDEX_CON_IDS[contract.symbol]
        if isinstance(contract, OptionContract):
            return Details(
                wire, stamp, contract.trading_class, 0.05, INDEX_NAMES[contract.symbol],
                underlying, contract.symbol, "IND", month, wire.expiry, OPTION_ORDER_TYPES,
            )  # fmt: skip
        return Details(
            wire, stamp, contract.trading_class, 0.05, "CBOE Volatility Index",
            underlying, contract.symbol, "IND", month, wire.expiry, FUTURE_ORDER_TYPES,
        )  # fmt: skip


def occ_symbol(contract: OptionContract) -> str:
    """Return the OCC symbol IB uses as an option's local symbol."""
    strike = round(contract.strike * 1000)
    return f"{contract.trading_class:<6}{contract.expiry:%y%m%d}{contract.right.value}{strike:08d}"


def future_local_symbol(contract: FutureContract) -> str:
    """Return a monthly future's local symbol, such as VXJ8 for April 2018."""
    code = _MONTH_CODES[contract.expiry.month - 1]
    return f"{contract.trading_class}{code}{contract.expiry.year % 10}"


def _yyyymmdd(day: date) -> str:
    return day.strftime("%Y%m%d")


def _hashed_id(text: str) -> int:
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return _HASH_BASE + int.from_bytes(digest, "big") % _HASH_SPAN
