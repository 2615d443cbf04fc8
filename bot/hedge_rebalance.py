"""The hedge job's bookkeeping around the pure VIX layer rules (the I/O side).

`rebalanced` steps k (R2 band) and the backspread ratio (SPX crossover) once per trading day,
from the last rebalance the journal holds, so a restart never steps twice; `record_hedge`
journals a hedge snapshot; `with_roll_chains` adds the SPX chains a condor roll needs.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.snapshots import spx_chain
from broker.calendar import NY
from broker.market import MarketSnapshot
from broker.protocol import Broker
from broker.structures import Engine
from storage import hedge_snapshots
from storage.hedge_snapshots import HedgeSnapshot
from storage.journal import Journal
from strategies.condor_roll import expiries_to_roll
from strategies.decision import PortfolioState
from strategies.hedge_rules import effective_k, next_k, next_ratio
from strategies.params import CondorParams, StrategyParams
from strategies.scenario import book_scenario_pnl


def rebalanced(
    state: PortfolioState, journal: Journal, params: StrategyParams, now: datetime
) -> tuple[PortfolioState, tuple[str, ...]]:
    """Return the state with today's k and ratio, and the reasons they moved (or did not)."""
    today = now.astimezone(NY).date()
    last = hedge_snapshots.latest(journal.engine, "rebalance")
    if last is not None and last.day == today:
        return state, (f"k {last.k:.3f} and ratio 1:{last.ratio} already set today",)
    hedge = state.hedge
    k, k_reason = next_k(hedge.k, hedge.signals.r2, params.hedge)
    seen = last is not None and last.signals.day == hedge.signals.day
    crossover = 0 if seen else hedge.signals.spx_crossover
    ratio, ratio_reason = next_ratio(hedge.ratio, crossover, params.vix)
    return replace(state, hedge=replace(hedge, k=k, ratio=ratio)), (k_reason, ratio_reason)


def record_hedge(
    journal: Journal,
    job: str,
    state: PortfolioState,
    params: StrategyParams,
    now: datetime,
    snapshot: MarketSnapshot | None = None,
    notes: tuple[str, ...] = (),
) -> None:
    """Journal the hedge state (and, with a snapshot, both books' scenario P&L)."""
    hedge = state.hedge
    by_engine = book_scenario_pnl(state.structures, snapshot, params, now) if snapshot else {}
    hedge_snapshots.record(
        journal.engine,
        HedgeSnapshot(
            at=now,
            day=now.astimezone(NY).date(),
            job=job,
            signals=hedge.signals,
            k=hedge.k,
            k_effective=effective_k(hedge, params.hedge),
            ratio=hedge.ratio,  # the rule's ratio: an operator's `set ratio` stays in runtime_state
            hedge_scale=hedge.hedge_scale,
            condor_scenario_pnl=by_engine.get(Engine.CONDOR),
            layer_scenario_pnl=by_engine.get(Engine.VIX),
            layer_cost_year=hedge.layer_cost_year,
            notes="; ".join(notes),
        ),
    )


async def with_roll_chains(
    broker: Broker, snapshot: MarketSnapshot, state: PortfolioState, params: CondorParams
) -> MarketSnapshot:
    """Add the SPX chains of held condors whose tested short needs a roll this cycle."""
    missing = expiries_to_roll(state.structures, snapshot.leg_quotes, params) - set(snapshot.chains)
    if not missing:
        return snapshot
    chains = dict(snapshot.chains)
    for expiry in sorted(missing):
        chains[expiry] = await spx_chain(broker, params, expiry, snapshot.spx.price)
    return replace(snapshot, chains=chains)
