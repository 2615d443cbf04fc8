"""Intents of the VIX layer priced at mid: open, close (all or some units) and roll.

A roll is one combo (sell the old contracts, buy the new ones); its `result_legs` are the new
structure's legs and nothing of the old structure is kept (`carry_price` 0). Every quantity is
capped so that no leg of one order exceeds the risk limit's contracts per order: the rest
follows at the next cycle instead of the whole order being refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from broker.contracts import OptionContract
from broker.market import LegQuote
from broker.orders import Leg
from broker.structures import Engine, Intent, IntentKind, Structure, StructureKind
from strategies import structure_orders
from strategies.pricing_of_legs import net_mid


def order_cap(quantity: int, legs: tuple[Leg, ...], max_contracts: int) -> int:
    """Return `quantity` cut so that no leg trades more than `max_contracts` contracts."""
    largest = max((leg.ratio for leg in legs), default=1)
    return max(0, min(quantity, max_contracts // largest))


def cap_note(wanted: int, capped: int, max_contracts: int) -> str:
    """Return the words that say an order was cut to the per-order limit ('' when it was not)."""
    if capped >= wanted:
        return ""
    return f" (capped from {wanted} at {max_contracts} contracts per order; the rest follows)"


def unit_cost(legs: tuple[Leg, ...], quotes: Mapping[str, LegQuote]) -> float:
    """Return the premium in USD one unit costs at mid (credit negative; futures cost none)."""
    premium = [leg for leg in legs if isinstance(leg.contract, OptionContract)]
    if not premium:
        return 0.0
    return net_mid(tuple(premium), quotes) * premium[0].contract.multiplier


def open_intent(
    kind: StructureKind,
    legs: tuple[Leg, ...],
    quantity: int,
    quotes: Mapping[str, LegQuote],
    reason: str,
) -> Intent:
    """Return an OPEN of `quantity` units at mid (legs must have usable quotes)."""
    return Intent(
        kind=IntentKind.OPEN,
        engine=Engine.VIX,
        structure_kind=kind,
        legs=legs,
        quantity=quantity,
        limit_price=net_mid(legs, quotes),
        reason=reason,
    )


def close_intent(
    structure: Structure, quantity: int, quotes: Mapping[str, LegQuote], reason: str
) -> Intent | str:
    """Return a CLOSE of `quantity` units of `structure` at mid, or why not (retried later)."""
    return _retried_later(structure_orders.close_intent(structure, quantity, quotes, reason))


def roll_intent(
    structure: Structure,
    new_legs: tuple[Leg, ...],
    quantity: int,
    quotes: Mapping[str, LegQuote],
    reason: str,
) -> Intent | str:
    """Return a ROLL of `quantity` units into `new_legs` at mid, or why it cannot be priced."""
    old_keys = {leg.contract.key for leg in structure.legs}
    if any(leg.contract.key in old_keys for leg in new_legs):
        return "the replacement trades a contract of the structure it replaces"
    legs = tuple(leg.reversed() for leg in structure.legs) + new_legs
    intent = structure_orders.intent_at_mid(
        IntentKind.ROLL, structure, legs, quantity, quotes, reason
    )
    if isinstance(intent, str):
        return _retried_later(intent)
    return replace(intent, result_legs=new_legs)


def _retried_later(intent: Intent | str) -> Intent | str:
    """Say that an intent that could not be priced is tried again at the next cycle."""
    return f"{intent} (retry next cycle)" if isinstance(intent, str) else intent
