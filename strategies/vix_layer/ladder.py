"""The ladder: long VIX futures in months 2, 3 and 4, one rung structure per month.

Sizing: the ladder carries ladder_share of the offset, split evenly over its months; month m's
target is ceil(share / months x offset / the scenario gain of one future of that month)
(a farther future gains less: its move is damped by exp(-reversion x T)). The band applies
to the ladder as a whole, in contracts: every held rung counts, also one that has aged out of
the ladder's months but not yet reached its roll window (it still hedges, and the rolls job
moves it into the month with the fewest contracts when its time comes). Below the band the
difference is bought where months fall short of their targets, nearest month first; above it
the surplus is sold from the rungs nearest expiry. Only futures are bought: never a short one.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from broker.market import FutureQuote
from broker.orders import Leg, Side
from broker.structures import Structure, StructureKind
from strategies.decision import Decision, skip
from strategies.scenario import unit_scenario_pnl
from strategies.vix_layer.band import band_change, band_text, close_surplus, target_units
from strategies.vix_layer.context import HedgeContext, HedgeTarget
from strategies.vix_layer.orders import cap_note, open_intent, order_cap
from strategies.vix_layer.plan import PartPlan, ProposedOpen, skipped
from strategies.vix_layer.selection import ladder_futures

ACTION = "ladder"


def rung_legs(future: FutureQuote) -> tuple[Leg, ...]:
    return (Leg(future.contract, Side.BUY),)


def rung_expiry(structure: Structure) -> date:
    return min(leg.contract.expiry for leg in structure.legs)


def plan_ladder(ctx: HedgeContext, target: HedgeTarget) -> PartPlan:
    """Return the ladder's trades toward its scenario target."""
    params = ctx.params.vix
    futures = ladder_futures(ctx.snapshot, ctx.today, params)
    if isinstance(futures, str):
        return skipped(ACTION, futures)
    month_share = params.ladder_share / len(params.ladder_months)
    targets: dict[int, int] = {}
    sizing: dict[int, str] = {}
    for month, future in futures.items():
        issue = future.problem()
        gain = unit_scenario_pnl(rung_legs(future), ctx.quotes, ctx.shock)
        if issue is None and gain.usd is None:
            issue = gain.problem
        if issue is not None or gain.usd is None or gain.usd <= 0:
            why = issue or f"a future gains ${gain.usd or 0.0:,.0f} in the scenario"
            return skipped(ACTION, f"month {month} ({future.contract.key}): {why}")
        targets[month] = target_units(month_share * target.offset, gain.usd)
        sizing[month] = (
            f"month {month} target {targets[month]} = ceil({month_share:.3f} x "
            f"${target.offset:,.0f} / ${gain.usd:,.0f} scenario gain per future)"
        )
    held = ctx.held(StructureKind.FUTURES_RUNG)
    have = sum(s.quantity for s in held)
    total = sum(targets.values())
    change = band_change(have, total, params.rebalance_band)
    where = band_text(have, total, params.rebalance_band, "futures")
    if change == 0:
        return PartPlan(skip(ACTION, f"{where}: inside the band, no trade"), target=total)
    if change < 0:
        why = f"{where}; {'; '.join(sizing.values())}; {target}"
        limit = ctx.params.risk.max_contracts_per_order
        return PartPlan(close_surplus(held, -change, ctx.quotes, ACTION, why, limit), target=total)
    return _buy_rungs(ctx, futures, targets, sizing, held, change, where, target)


def _buy_rungs(
    ctx: HedgeContext,
    futures: dict[int, FutureQuote],
    targets: dict[int, int],
    sizing: dict[int, str],
    held: tuple[Structure, ...],
    change: int,
    where: str,
    target: HedgeTarget,
) -> PartPlan:
    by_expiry: Counter[date] = Counter()
    for structure in held:
        by_expiry[rung_expiry(structure)] += structure.quantity
    limit = ctx.params.risk.max_contracts_per_order
    opens: list[ProposedOpen] = []
    left = change
    for month, future in futures.items():
        held_here = by_expiry[future.contract.expiry]
        wanted = min(left, max(0, targets[month] - held_here))
        if wanted <= 0:
            continue
        legs = rung_legs(future)
        units = order_cap(wanted, legs, limit)
        reason = (
            f"{ACTION}: {where}: buy {units} x {future.contract.key} (month {month}, "
            f"{held_here} held) at {future.quote.mid:.2f}{cap_note(wanted, units, limit)}; "
            f"{sizing[month]}; {target}"
        )
        intent = open_intent(StructureKind.FUTURES_RUNG, legs, units, ctx.quotes, reason)
        opens.append(ProposedOpen(ACTION, intent, 0.0))
        left -= wanted
    return PartPlan(Decision(), tuple(opens), sum(targets.values()))
