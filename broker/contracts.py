"""Contracts: what can be traded or quoted. Frozen, hashable, broker-neutral."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cached_property


class Right(StrEnum):
    CALL = "C"
    PUT = "P"


class SecType(StrEnum):
    INDEX = "IND"
    OPTION = "OPT"
    FUTURE = "FUT"
    COMBO = "BAG"


@dataclass(frozen=True, slots=True)
class IndexContract:
    """A quoted index such as SPX or VIX (not tradable itself)."""

    symbol: str
    exchange: str = "CBOE"

    sec_type = SecType.INDEX

    @property
    def key(self) -> str:
        return f"{self.symbol} IND"


@dataclass(frozen=True)  # no slots: `key` is cached in the instance's __dict__
class OptionContract:
    """A listed option; `trading_class` separates SPXW (PM) from SPX (AM) series."""

    symbol: str
    trading_class: str
    expiry: date
    strike: float
    right: Right
    multiplier: int = 100
    exchange: str = "CBOE"

    sec_type = SecType.OPTION

    @cached_property
    def key(self) -> str:
        """Return the contract's identity as text (the journal's and the books' dict key)."""
        return f"{self.trading_class} {self.expiry.isoformat()} {self.right.value} {self.strike:g}"


@dataclass(frozen=True)  # no slots: `key` is cached in the instance's __dict__
class FutureContract:
    """A listed future such as a VIX future on CFE (multiplier 1000)."""

    symbol: str
    trading_class: str
    expiry: date
    multiplier: int = 1000
    exchange: str = "CFE"

    sec_type = SecType.FUTURE

    @cached_property
    def key(self) -> str:
        """Return the contract's identity as text (the journal's and the books' dict key)."""
        return f"{self.trading_class} {self.expiry.isoformat()} FUT"


SPX = IndexContract("SPX")
VIX = IndexContract("VIX")
AD_NYSE = IndexContract("AD-NYSE", "NYSE")  # NYSE net advances (advancing minus declining issues)

TradableContract = OptionContract | FutureContract
Contract = IndexContract | OptionContract | FutureContract
