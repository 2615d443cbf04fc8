"""The decision table of contents: which rules run for which scheduled job."""

from __future__ import annotations

from datetime import datetime

from broker.market import MarketSnapshot
from strategies import vix_layer
from strategies.condor_entry import propose_condor
from strategies.condor_exits import manage_condors
from strategies.decision import Decision, PortfolioState, skip
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


def decide_hedge(
    snapshot: MarketSnapshot, state: PortfolioState, params: StrategyParams, now: datetime
) -> Decision:
    """Return the intents of the daily VIX layer rebalance (k and the ratio already stepped)."""
    if not params.vix.enabled:
        return skip("VIX layer", "disabled by strategy.vix.enabled = false")
    return vix_layer.decide_hedge(snapshot, state, params, now)


def decide_rolls(
    snapshot: MarketSnapshot, state: PortfolioState, params: StrategyParams, now: datetime
) -> Decision:
    """Return the VIX layer's rolls: rungs near expiry, call blocks at their roll DTE."""
    if not params.vix.enabled:
        return skip("VIX layer rolls", "disabled by strategy.vix.enabled = false")
    return vix_layer.decide_vix_rolls(snapshot, state, params, now)
