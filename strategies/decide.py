"""The decision table of contents: which rules run for which scheduled job."""

from __future__ import annotations

from datetime import datetime

from broker.market import MarketSnapshot
from strategies.condor_entry import propose_condor
from strategies.condor_exits import manage_condors
from strategies.decision import Decision, PortfolioState
from strategies.params import StrategyParams


def decide_entry(
    snapshot: MarketSnapshot, state: PortfolioState, params: StrategyParams, now: datetime
) -> Decision:
    """Return the intents of the entry window: exits first, then a new condor."""
    return manage_condors(snapshot, state, params.condor, now) + propose_condor(
        snapshot, state, params.condor, now
    )


def decide_management(
    snapshot: MarketSnapshot, state: PortfolioState, params: StrategyParams, now: datetime
) -> Decision:
    """Return the intents of a management pass: exits of open structures."""
    return manage_condors(snapshot, state, params.condor, now)
