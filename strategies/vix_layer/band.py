"""Part sizing: a target in units from the part's share of the offset, and the rebalance band.

A part's target is ceil(share x offset / the scenario gain of one unit); a part is resized
only when what it holds leaves [target x (1 - band), target x (1 + band)]: below, the
difference is bought; above, the surplus is sold from the structures nearest expiry first
(a CLOSE may take only some units of a structure).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from broker.market import LegQuote
from broker.structures import Structure
from strategies.decision import Decision, skip
from strategies.vix_layer.orders import cap_note, close_intent, order_cap

# Float noise must not turn an exact 3.0 units into 4.
UNIT_TOLERANCE = 1e-9


def target_units(share_offset: float, unit_gain: float) -> int:
    """Return the units whose scenario gain covers `share_offset` (0 when nothing to cover)."""
    if share_offset <= 0 or unit_gain <= 0:
        return 0
    return math.ceil(share_offset / unit_gain - UNIT_TOLERANCE)


def band_change(held: int, target: int, band: float) -> int:
    """Return the units to buy (positive) or sell (negative), 0 while held is in the band."""
    if held < target * (1 - band) or held > target * (1 + band):
        return target - held
    return 0


def band_text(held: int, target: int, band: float, unit: str) -> str:
    """Return e.g. 'held 2 futures, target 3 (band ±25%)'."""
    return f"held {held} {unit}, target {target} (band ±{band:.0%})"


def held_units(structures: Iterable[Structure]) -> int:
    return sum(s.quantity for s in structures)


def close_surplus(
    structures: Iterable[Structure],
    surplus: int,
    quotes: Mapping[str, LegQuote],
    action: str,
    why: str,
    max_contracts: int,
) -> Decision:
    """Return CLOSEs of `surplus` units taken from `structures` in order (nearest expiry first)."""
    decision = Decision()
    left = surplus
    for structure in structures:
        if left <= 0:
            break
        wanted = min(left, structure.quantity)
        units = order_cap(wanted, structure.legs, max_contracts)
        reason = (
            f"{action}: {why}: close {units} of {structure.quantity} units of "
            f"{structure.kind.value} #{structure.id}{cap_note(wanted, units, max_contracts)}"
        )
        intent = close_intent(structure, units, quotes, reason)
        if isinstance(intent, str):
            decision = decision + skip(action, f"cannot close #{structure.id}: {intent}")
            continue
        decision = decision + Decision(intents=(intent,))
        left -= wanted
    return decision
