"""The add-on call block, traded on VIX RSI episodes (DESIGN.md section 2, "Signals").

- RSI in a low episode (below rsi_low: volatility cheap) and no ADDON_CALLS structure opened
  since the episode began: buy ceil(addon_share x the base call block), at least 1, choosing
  the contract as the block does. The base is the block's target this rebalance (what the
  block should be), else the calls the block holds. "Once per episode" is judged on the open
  add-ons: one closed by hand inside the same episode would be bought again.
- RSI in a high episode (above rsi_high): take profit, close every open ADDON_CALLS.
- Signals unknown (no completed session yet): no add-on action; no episode: nothing to do.
"""

from __future__ import annotations

import math
from dataclasses import replace

from broker.structures import Structure, StructureKind
from strategies.decision import Decision, skip
from strategies.scenario import NY
from strategies.vix_layer.call_block import choose_block_call
from strategies.vix_layer.context import HedgeContext
from strategies.vix_layer.orders import cap_note, close_intent, open_intent, order_cap, unit_cost
from strategies.vix_layer.plan import PartPlan, ProposedOpen, skipped
from strategies.vix_layer.selection import block_legs

ACTION = "add-on calls"


def plan_addon(ctx: HedgeContext, base_quantity: int) -> PartPlan:
    """Return the add-on's trade on today's VIX RSI episode."""
    signals = ctx.state.hedge.signals
    if not signals.known:
        return skipped(ACTION, "signals unknown: no add-on action")
    held = ctx.held(StructureKind.ADDON_CALLS)
    rsi_text = f"VIX RSI {signals.vix_rsi:.1f}"
    if signals.rsi_episode == "high":
        return PartPlan(_take_profit(ctx, held, rsi_text))
    if signals.rsi_episode != "low":
        return PartPlan()
    start = signals.rsi_episode_start
    if start is None:
        return skipped(ACTION, f"{rsi_text} in a low episode of unknown start: no add-on")
    bought = [s for s in held if s.opened_at.astimezone(NY).date() >= start]
    if bought:
        return skipped(
            ACTION,
            f"add-on #{bought[0].id} already bought in the low episode that began {start}",
        )
    return _buy(
        ctx, base_quantity, f"{rsi_text} below {ctx.params.signals.rsi_low:g} since {start}"
    )


def _buy(ctx: HedgeContext, base_quantity: int, why: str) -> PartPlan:
    params = ctx.params.vix
    choice = choose_block_call(ctx)
    if isinstance(choice, str):
        return skipped(ACTION, choice)
    legs = block_legs(choice)
    wanted = max(1, math.ceil(params.addon_share * base_quantity - 1e-9))
    limit = ctx.params.risk.max_contracts_per_order
    units = order_cap(wanted, legs, limit)
    intent = open_intent(StructureKind.ADDON_CALLS, legs, units, ctx.quotes, "")
    reason = (
        f"{ACTION}: {why} (volatility cheap): buy {units} x {choice.describe(params)} at "
        f"{intent.limit_price:.2f} = max(1, ceil({params.addon_share:.2f} x base block "
        f"{base_quantity})), once per episode{cap_note(wanted, units, limit)}"
    )
    proposed = ProposedOpen(ACTION, replace(intent, reason=reason), unit_cost(legs, ctx.quotes))
    return PartPlan(opens=(proposed,))


def _take_profit(ctx: HedgeContext, held: tuple[Structure, ...], rsi_text: str) -> Decision:
    decision = Decision()
    high = ctx.params.signals.rsi_high
    limit = ctx.params.risk.max_contracts_per_order
    for structure in held:
        reason = f"{ACTION} #{structure.id}: take profit: {rsi_text} above {high:g}"
        units = order_cap(structure.quantity, structure.legs, limit)
        intent = close_intent(
            structure, units, ctx.quotes, reason + cap_note(structure.quantity, units, limit)
        )
        if isinstance(intent, str):
            decision = decision + skip(ACTION, f"cannot close #{structure.id}: {intent}")
        else:
            decision = decision + Decision(intents=(intent,))
    return decision
