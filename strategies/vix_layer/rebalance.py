"""The daily hedge rebalance (10:30 ET): the table of contents of the VIX layer's sizing.

1. Reprice the condor book in the scenario; the target offset is effective k x its loss. A
   condor book that cannot be repriced (a leg without a quote or an implied vol) stops the
   whole rebalance: the layer is never sized on a partial book.
2. With no loss to offset (no condors, or condors that gain in the scenario) the layer is kept
   as it is: nothing is bought and nothing sold. Condors open weekly, so flattening the hedge
   in a gap between them would pay the spreads twice; `alvh flatten --engine vix` is the
   operator's way to release it. (A part whose configured share is 0 has a target of 0 while
   there are condors, and the band sells what it holds.) The add-on still follows its signals.
3. Otherwise each part (backspread, ladder, call block) sizes itself on its share and trades
   through the rebalance band; the add-on follows the VIX RSI episodes.
4. Closes go out as they are; opens pass the hedge budget in priority order: backspread (its
   credit pays for the rest), ladder, call block, add-on.
The bot applies `hedge_rules.adapt_hedge` (k from R2, ratio from the SPX MACD) before calling
this function: `decide_hedge` reads the hedge state as given.
"""

from __future__ import annotations

import math
from datetime import datetime
from itertools import chain

from broker.market import MarketSnapshot
from broker.structures import Engine, StructureKind
from strategies.decision import Decision, PortfolioState, skip
from strategies.hedge_rules import budget_left, budget_limit
from strategies.params import StrategyParams
from strategies.vix_layer.addon import plan_addon
from strategies.vix_layer.backspread import plan_backspread
from strategies.vix_layer.band import held_units
from strategies.vix_layer.budget import fit_budget
from strategies.vix_layer.call_block import plan_call_block
from strategies.vix_layer.context import HedgeContext, hedge_context, hedge_target
from strategies.vix_layer.ladder import plan_ladder
from strategies.vix_layer.plan import PartPlan

ACTION = "rebalance VIX layer"


def decide_hedge(
    snapshot: MarketSnapshot, state: PortfolioState, params: StrategyParams, now: datetime
) -> Decision:
    """Return the day's VIX layer trades: each part toward its share of the scenario offset."""
    ctx = hedge_context(snapshot, state, params, now)
    target = hedge_target(ctx)
    if isinstance(target, str):
        return skip(ACTION, f"{target} (retry next cycle)")
    base_block = held_units(ctx.held(StructureKind.CALL_BLOCK))
    plans: list[PartPlan]
    if target.offset <= 0:
        held = len(state.open_of(Engine.VIX))
        hold = skip(
            ACTION,
            f"no condor loss to offset ({target}): the {held} VIX structures are kept as "
            "they are, nothing bought or sold",
        )
        plans = [PartPlan(hold), plan_addon(ctx, base_block)]
    else:
        block = plan_call_block(ctx, target)
        base = block.target if block.target is not None else base_block
        plans = [
            plan_backspread(ctx, target),
            plan_ladder(ctx, target),
            block,
            plan_addon(ctx, base),
        ]
    closes = sum((p.decision for p in plans), Decision())
    return closes + _within_budget(ctx, plans)


def _within_budget(ctx: HedgeContext, plans: list[PartPlan]) -> Decision:
    opens = list(chain.from_iterable(p.opens for p in plans))
    if not opens:
        return Decision()
    nlv = ctx.state.account.net_liquidation
    hedge = ctx.params.hedge
    spent = ctx.state.hedge.layer_cost_year
    if not (math.isfinite(nlv) and nlv > 0 and math.isfinite(spent)):
        left = 0.0
    else:
        left = budget_left(nlv, spent, hedge)
    text = (
        f"limit ${budget_limit(nlv, hedge):,.0f} = {hedge.budget_pct:.1%} of net liquidation "
        f"${nlv:,.0f}, ${spent:,.0f} spent over the last year"
    )
    return fit_budget(opens, left, text)
