"""Intents on a journaled structure, priced at the legs' mid: close it, or roll it into new legs.

Shared by every engine and by the operator's commands, so a structure is closed the same way
whoever decides it: all legs reversed, at most the structure's units, the limit at the net mid.
When a leg has no usable quote the answer is why (the quote problems), never an intent.
"""

from __future__ import annotations

from collections.abc import Mapping

from broker.market import LegQuote
from broker.orders import Leg
from broker.structures import Intent, IntentKind, Structure
from strategies.pricing_of_legs import leg_problems, net_mid


def close_intent(
    structure: Structure, quantity: int, quotes: Mapping[str, LegQuote], reason: str
) -> Intent | str:
    """Return a CLOSE of `quantity` units of `structure` at mid, or why it cannot be priced."""
    legs = tuple(leg.reversed() for leg in structure.legs)
    return intent_at_mid(IntentKind.CLOSE, structure, legs, quantity, quotes, reason)


def intent_at_mid(
    kind: IntentKind,
    structure: Structure,
    legs: tuple[Leg, ...],
    quantity: int,
    quotes: Mapping[str, LegQuote],
    reason: str,
) -> Intent | str:
    """Return an intent on `structure` priced at the legs' mid, or why it cannot be priced."""
    problems = leg_problems(legs, quotes)
    if problems:
        return "; ".join(problems)
    return Intent(
        kind=kind,
        engine=structure.engine,
        structure_kind=structure.kind,
        legs=legs,
        quantity=min(quantity, structure.quantity),
        limit_price=net_mid(legs, quotes),
        reason=reason,
        structure_id=structure.id,
    )
