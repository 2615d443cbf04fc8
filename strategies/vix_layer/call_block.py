"""The call block: long OTM VIX calls near call_delta, strikes clamped into 22-30, 60-120 DTE.

Sized by scenario: the block carries call_share of the offset, so its target is
ceil(call_share x offset / the scenario gain of one call). See `selection` for the contract.
"""

from __future__ import annotations

from broker.structures import StructureKind
from strategies.scenario import unit_scenario_pnl
from strategies.vix_layer.band import target_units
from strategies.vix_layer.context import HedgeContext, HedgeTarget
from strategies.vix_layer.plan import PartPlan, skipped
from strategies.vix_layer.resize import PartSizing, resize_part
from strategies.vix_layer.selection import BlockChoice, block_call, block_legs, call_expiry

ACTION = "call block"


def choose_block_call(ctx: HedgeContext) -> BlockChoice | str:
    """Return the call a block or an add-on buys today, or why there is none."""
    params = ctx.params.vix
    expiry = call_expiry(ctx.snapshot, ctx.today, params)
    if isinstance(expiry, str):
        return expiry
    return block_call(ctx.snapshot.vix_chains[expiry], ctx.today, params)


def plan_call_block(ctx: HedgeContext, target: HedgeTarget) -> PartPlan:
    """Return the call block's trade toward its scenario target."""
    params = ctx.params.vix
    choice = choose_block_call(ctx)
    if isinstance(choice, str):
        return skipped(ACTION, choice)
    legs = block_legs(choice)
    contract = choice.describe(params)
    gain = unit_scenario_pnl(legs, ctx.quotes, ctx.shock)
    if gain.usd is None:
        return skipped(ACTION, f"{contract} cannot be repriced: {gain.problem}")
    if gain.usd <= 0:
        return skipped(ACTION, f"{contract} gains ${gain.usd:,.0f} in the scenario: not a hedge")
    share = params.call_share * target.offset
    units = target_units(share, gain.usd)
    sizing = (
        f"target {units} = ceil({params.call_share:.2f} x ${target.offset:,.0f} / "
        f"${gain.usd:,.0f} scenario gain per call)"
    )
    held = ctx.held(StructureKind.CALL_BLOCK)
    part = PartSizing(ACTION, StructureKind.CALL_BLOCK, legs, units, sizing, contract, "calls")
    return resize_part(ctx, held, part, target)
