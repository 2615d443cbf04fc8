"""The 1:N VIX call backspread: sell 1 call near the money, buy N further out (same expiry).

N is the hedge state's effective ratio (the operator's override, else the MACD-stepped
ratio). Sized by scenario like the call block, on the net gain of one 1:N unit. A unit whose
net gain is below MIN_SHARE_OF_LONG_GAIN (25 %) of what its N long calls alone gain is not
bought: 1:1 is a bear call spread that loses when the VIX jumps, and a 1:2 with the short at
the money (delta ~0.55 against 2 x 0.25) is nearly delta-neutral, gains a few dollars, and a
target of ceil(share x offset / gain) would explode (hundreds of units). With the simulator's
VIX surface in calm markets a 1:2 gains 0-15 % of its longs, a 1:3 about 50 %, a 1:4 75 %: the
backspread trades when the SPX MACD has raised the ratio.

A held backspread whose N differs from the effective ratio is replaced by a CLOSE of it plus
the OPEN of the new ratio (two orders, not one ROLL combo: the two often share contracts,
which a single combo cannot carry, and the executor books a ROLL's fills by the old
structure's contracts). The replacement opens to the full target through the budget like any
open; should it not fill, the next rebalance opens it again. When the new ratio is not
sized (below the floor above), the held backspread is kept as it is.
"""

from __future__ import annotations

from broker.structures import Structure, StructureKind
from strategies.decision import Decision
from strategies.hedge_state import HedgeState
from strategies.scenario import unit_scenario_pnl
from strategies.vix_layer.band import close_surplus, held_units, target_units
from strategies.vix_layer.context import HedgeContext, HedgeTarget
from strategies.vix_layer.plan import PartPlan, skipped
from strategies.vix_layer.resize import PartSizing, resize_part
from strategies.vix_layer.selection import BackspreadChoice, backspread_calls, call_expiry

ACTION = "backspread"
# A unit must gain at least this share of what its N long calls alone gain in the scenario.
# Near delta-neutral units (a 1:2 with the short at the money) gain almost nothing, and a
# target of ceil(share x offset / gain) would then grow without bound.
MIN_SHARE_OF_LONG_GAIN = 0.25


def backspread_ratio(structure: Structure) -> int:
    """Return N of a held 1:N backspread: the long calls per unit."""
    return sum(leg.ratio for leg in structure.legs if leg.signed_ratio > 0)


def ratio_source(hedge: HedgeState) -> str:
    if hedge.ratio_override is not None:
        return f"1:{hedge.ratio_override} set by the operator"
    return f"1:{hedge.ratio} from the SPX MACD steps"


def choose_backspread(ctx: HedgeContext) -> BackspreadChoice | str:
    """Return today's backspread at the effective ratio, or why there is none."""
    params = ctx.params.vix
    expiry = call_expiry(ctx.snapshot, ctx.today, params)
    if isinstance(expiry, str):
        return expiry
    ratio = ctx.state.hedge.effective_ratio
    return backspread_calls(ctx.snapshot.vix_chains[expiry], ratio, ctx.today, params)


def plan_backspread(ctx: HedgeContext, target: HedgeTarget) -> PartPlan:
    """Return the backspread's trade: replace a wrong ratio, then resize toward the target."""
    params = ctx.params.vix
    choice = choose_backspread(ctx)
    if isinstance(choice, str):
        return skipped(ACTION, choice)
    contract = choice.describe()
    gain = unit_scenario_pnl(choice.legs, ctx.quotes, ctx.shock)
    if gain.usd is None:
        return skipped(ACTION, f"{contract} cannot be repriced: {gain.problem}")
    longs = unit_scenario_pnl(choice.legs[1:], ctx.quotes, ctx.shock)
    floor = MIN_SHARE_OF_LONG_GAIN * (longs.usd or 0.0)
    if longs.usd is None or longs.usd <= 0 or gain.usd < floor:
        return skipped(
            ACTION,
            f"{contract} gains ${gain.usd:,.0f} per unit in the scenario, below "
            f"{MIN_SHARE_OF_LONG_GAIN:.0%} of its {choice.ratio} long calls' "
            f"${longs.usd or 0.0:,.0f}: a financing trade rather than a hedge, not sized",
        )
    units = target_units(params.backspread_share * target.offset, gain.usd)
    sizing = (
        f"target {units} = ceil({params.backspread_share:.2f} x ${target.offset:,.0f} / "
        f"${gain.usd:,.0f} scenario gain per 1:{choice.ratio} unit)"
    )
    held = ctx.held(StructureKind.BACKSPREAD)
    kept = tuple(s for s in held if backspread_ratio(s) == choice.ratio)
    replaced = _replace_wrong_ratio(ctx, held, choice.ratio)
    unit = f"1:{choice.ratio} units"
    part = PartSizing(ACTION, StructureKind.BACKSPREAD, choice.legs, units, sizing, contract, unit)
    plan = resize_part(ctx, kept, part, target)
    return PartPlan(replaced + plan.decision, plan.opens, plan.target)


def _replace_wrong_ratio(ctx: HedgeContext, held: tuple[Structure, ...], ratio: int) -> Decision:
    decision = Decision()
    source = ratio_source(ctx.state.hedge)
    limit = ctx.params.risk.max_contracts_per_order
    for structure in held:
        n = backspread_ratio(structure)
        if n == ratio:
            continue
        why = f"held at 1:{n}, the ratio is now {source}: replaced by a 1:{ratio}"
        decision = decision + close_surplus(
            (structure,), held_units((structure,)), ctx.quotes, ACTION, why, limit
        )
    return decision
