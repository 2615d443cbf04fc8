"""When a contract settles, nominally: what pricing outside the venue counts time to expiry by.

SPXW weeklies settle at the expiry day's close (16:00 ET); SPX monthlies (trading class SPX),
VIX options and VIX futures at the opening settlement (09:30 ET). Early closes are ignored here:
the simulated venue settles by its own calendar (broker.sim.listings).
"""

from __future__ import annotations

from datetime import datetime, time

from broker.calendar import NY
from broker.contracts import FutureContract, TradableContract

PM_SETTLEMENT = time(16, 0)
AM_SETTLEMENT = time(9, 30)
AM_SETTLED_CLASSES = frozenset({"SPX"})  # SPX monthlies; SPXW weeklies settle at the close
YEAR_SECONDS = 365.0 * 86400.0


def settlement_time(contract: TradableContract) -> datetime:
    """Return the instant a contract settles."""
    am = (
        isinstance(contract, FutureContract)
        or contract.symbol == "VIX"
        or contract.trading_class in AM_SETTLED_CLASSES
    )
    return datetime.combine(contract.expiry, AM_SETTLEMENT if am else PM_SETTLEMENT, tzinfo=NY)


def years_to_settlement(contract: TradableContract, at: datetime) -> float:
    """Return the years of 365 days from `at` to the contract's settlement (0 once past)."""
    return max(0.0, (settlement_time(contract) - at).total_seconds()) / YEAR_SECONDS
