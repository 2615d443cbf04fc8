"""The account as a venue reports it: positions, balances and margin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from broker.contracts import TradableContract


@dataclass(frozen=True, slots=True)
class Position:
    """A signed holding (negative is short) with its average cost per contract unit."""

    contract: TradableContract
    quantity: int
    avg_cost: float


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """Balances at `time`: net liquidation, cash, margin in use and what is left."""

    account_id: str
    time: datetime
    net_liquidation: float
    cash: float
    maintenance_margin: float

    @property
    def excess_liquidity(self) -> float:
        return self.net_liquidation - self.maintenance_margin


@dataclass(frozen=True, slots=True)
class MarginImpact:
    """The venue's what-if answer for an order: margin and excess liquidity after it fills."""

    maintenance_margin_after: float
    excess_liquidity_after: float
    net_liquidation: float
