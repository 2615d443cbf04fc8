"""Resize one option part (call block, backspread) to its target through the band."""

from __future__ import annotations

from dataclasses import dataclass, replace

from broker.orders import Leg
from broker.structures import Structure, StructureKind
from strategies.decision import skip
from strategies.vix_layer.band import band_change, band_text, close_surplus, held_units
from strategies.vix_layer.context import HedgeContext, HedgeTarget
from strategies.vix_layer.orders import cap_note, open_intent, order_cap, unit_cost
from strategies.vix_layer.plan import PartPlan, ProposedOpen


@dataclass(frozen=True, slots=True)
class PartSizing:
    """A part's candidate and its target: what to buy, how many, and the words for both."""

    action: str
    kind: StructureKind
    legs: tuple[Leg, ...]
    units: int
    sizing: str  # how `units` was computed
    contract: str  # what one unit is
    unit: str  # the word for units in reasons ("calls", "1:3 units")


def resize_part(
    ctx: HedgeContext, held: tuple[Structure, ...], sizing: PartSizing, target: HedgeTarget
) -> PartPlan:
    """Return the part's trade: buy up to target below the band, sell the surplus above it."""
    band = ctx.params.vix.rebalance_band
    limit = ctx.params.risk.max_contracts_per_order
    have = held_units(held)
    change = band_change(have, sizing.units, band)
    where = band_text(have, sizing.units, band, sizing.unit)
    if change == 0:
        return PartPlan(
            skip(sizing.action, f"{where}: inside the band, no trade ({sizing.sizing})"),
            target=sizing.units,
        )
    if change < 0:
        why = f"{where}, {sizing.sizing}; {target}"
        closes = close_surplus(held, -change, ctx.quotes, sizing.action, why, limit)
        return PartPlan(closes, target=sizing.units)
    units = order_cap(change, sizing.legs, limit)
    intent = open_intent(sizing.kind, sizing.legs, units, ctx.quotes, "")
    reason = (
        f"{sizing.action}: {where}: buy {units} x {sizing.contract} at {intent.limit_price:.2f}"
        f"{cap_note(change, units, limit)}; {sizing.sizing}; {target}"
    )
    proposed = ProposedOpen(
        sizing.action, replace(intent, reason=reason), unit_cost(sizing.legs, ctx.quotes)
    )
    return PartPlan(opens=(proposed,), target=sizing.units)
